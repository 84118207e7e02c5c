"""Does a clustering idea travel? Shipped defaults against candidates on corpora not tuned on.

The candidates of ``quality_ideas_more.py`` were picked among twenty variants on three whole
corpora. This benchmark re-runs the shipped defaults and the candidates (default
``centred_pieces_z_10``: centred cosine plus the "pieces" rule at the shipped cut heights) on
corpora derived from the dev corpora, which the candidates were not chosen on:

* ``subsample``: random subsets of whole gold stories (no story is cut) of each corpus, at each
  ``--fractions`` share of its stories, one subset per ``--seeds`` seed;
* ``topic``: each ECB+ topic alone as a corpus (its events scored; under 30 articles both the
  shipped code and the harness use the fixed ``small_corpus_threshold`` cut, so those topics
  are reported apart from the larger ones);
* ``topics_2``/``topics_3``: two or three ECB+ topics drawn per seed;
* ``mixed``: ViMs and ECB+ dev concatenated (ids and gold labels made unique), scored on the
  union gold (events: the ECB+ articles, the only ones with event gold).

Every derived corpus runs dedup's paragraph and near-duplicate stages afresh (``capture`` of
``quality_ideas.py``, the clusterer's inputs as dedup would give them), then the shipped
clustering and each candidate cluster those same inputs in the same process. The story F1 is
scored (and the event F1 where the gold has events); each candidate's difference from shipped
is reported per derived corpus (one JSON line each on standard output) and summarised per
family, corpus and level on standard error: mean and worst difference, wins and losses.

Example::

    python benchmarks/quality_travel.py --families subsample --seeds 0,1,2,3,4
"""

from __future__ import annotations

import argparse
import itertools
import json
import statistics
import sys
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import quality_ideas as ideas
import quality_ideas_more as more
import quality_ideas_refine as refine
import quality_ideas_stories as stories
from quality import load
from syndication import DEFAULT_DATA

from dedup.config import ClusterConfig

CORPORA = {"vims": "vims.jsonl", "ktlab": "ktlab.jsonl", "ecb": "ecbplus-dev.jsonl"}
FAMILIES = ("full", "subsample", "topic", "topics_2", "topics_3", "mixed")
TIE = 5e-4  # differences of F1 smaller than this count as ties


def stories_of(records: list[dict[str, Any]]) -> list[str]:
    """The gold stories of a corpus, in order of first appearance."""
    return list(dict.fromkeys(r["story"] for r in records))


def pick(records: list[dict[str, Any]], stories: set[str]) -> list[dict[str, Any]]:
    """The articles of the given stories, in corpus order."""
    return [r for r in records if r["story"] in stories]


def draw(stories: list[str], count: int, seed: int) -> set[str]:
    """``count`` stories drawn without replacement with a fixed seed."""
    chosen = np.random.RandomState(seed).choice(len(stories), count, replace=False)
    return {stories[i] for i in chosen}


def tagged(name: str, records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Records with ids and gold labels prefixed by the corpus name (unique once mixed)."""
    out = []
    for record in records:
        copy = dict(record, id=f"{name}:{record['id']}")
        for level in ("story", "event"):
            if copy.get(level) is not None:
                copy[level] = f"{name}:{copy[level]}"
        out.append(copy)
    return out


def variants(
    data: dict[str, list[dict[str, Any]]],
    families: list[str],
    fractions: list[float],
    seeds: list[int],
) -> Iterator[tuple[dict[str, Any], list[dict[str, Any]]]]:
    """Each derived corpus: its description and its records (gold fields kept)."""
    for family in families:
        if family == "full":
            for name, records in data.items():
                yield {"family": family, "corpus": name}, records
        elif family == "subsample":
            for name, records in data.items():
                stories = stories_of(records)
                for fraction, seed in itertools.product(fractions, seeds):
                    count = max(2, round(fraction * len(stories)))
                    meta = {"family": family, "corpus": name, "fraction": fraction, "seed": seed}
                    yield meta, pick(records, draw(stories, count, seed))
        elif family == "topic":
            for topic in stories_of(data["ecb"]):
                records = pick(data["ecb"], {topic})
                size = "topic_30_plus" if len(records) >= 30 else "topic_under_30"
                yield {"family": size, "corpus": "ecb", "topic": topic}, records
        elif family.startswith("topics_"):
            count = int(family.removeprefix("topics_"))
            for seed in seeds:
                chosen = draw(stories_of(data["ecb"]), count, seed)
                meta = {"family": family, "corpus": "ecb", "seed": seed, "topics": sorted(chosen)}
                yield meta, pick(data["ecb"], chosen)
        elif family == "mixed":
            records = tagged("vims", data["vims"]) + tagged("ecb", data["ecb"])
            yield {"family": family, "corpus": "vims+ecb"}, records


def score(corpus: dict[str, Any], stories: np.ndarray, events: np.ndarray) -> dict[str, float]:
    """B-cubed F1 per level with gold (events only where some article has an event label)."""
    out = {"story": round(ideas.f1(corpus, stories, "story"), 4)}
    if any(label is not None for label in corpus["gold"]["event"]):
        out["event"] = round(ideas.f1(corpus, events, "event"), 4)
    return out


def run_idea(name: str, corpus: dict[str, Any], shipped: Any) -> tuple[Any, ...]:
    """Stories, events (and more) of one idea of ``quality_ideas``/``quality_ideas_more``."""
    spec = {**ideas.IDEAS, **more.MORE, **refine.REFINE, **stories.STORIES}[name]
    matrix = spec["matrix"](corpus) if "matrix" in spec else shipped
    if "cluster" in spec:
        return spec["cluster"](corpus, matrix)
    strays = spec.get("strays", ClusterConfig().attach_strays)
    return ideas.cluster_rows(
        corpus,
        matrix,
        spec.get("transform"),
        spec.get("method", "average"),
        strays,
        spec.get("split", True),
    )


def measure(records: list[dict[str, Any]], candidates: list[str]) -> dict[str, Any]:
    """Capture dedup's inputs for one derived corpus, then score shipped and the candidates."""
    corpus = ideas.capture(records)
    matrix = ideas.shipped(corpus)
    stories, events, _, story_cut = ideas.cluster_rows(corpus, matrix)
    row: dict[str, Any] = {
        "articles": len(records),
        "rows": len(corpus["bodies"]),
        "derived_cut": len(corpus["bodies"]) >= 30,
        "story_cut": round(story_cut, 4),
        # Length of the mean TF-IDF vector (0-1): how much one subject all articles share,
        # what centring subtracts.
        "mean_vector_norm": round(float(np.linalg.norm(np.asarray(matrix.mean(axis=0)))), 4),
        "shipped": score(corpus, stories, events),
    }
    for name in candidates:
        found = run_idea(name, corpus, matrix)
        row[name] = score(corpus, found[0], found[1])
        row[f"{name}/difference"] = {
            level: round(row[name][level] - row["shipped"][level], 4) for level in row["shipped"]
        }
    return row


def summary(rows: list[dict[str, Any]], candidates: list[str]) -> list[str]:
    """Markdown table: per family, corpus, level and candidate, the differences from shipped."""
    groups: dict[tuple[str, ...], list[tuple[float, float]]] = defaultdict(list)
    for row in rows:
        for name, level in itertools.product(candidates, row["shipped"]):
            family = row["family"] + (f"@{row['fraction']}" if "fraction" in row else "")
            key = (family, row["corpus"], level, name)
            groups[key].append((row["shipped"][level], row[f"{name}/difference"][level]))
    lines = [
        "| family | corpus | level | candidate | n | shipped mean | candidate mean "
        "| mean diff | worst diff | best diff | wins/ties/losses |",
        "|---" * 11 + "|",
    ]
    for (family, corpus, level, name), pairs in groups.items():
        base = [b for b, _ in pairs]
        diffs = [d for _, d in pairs]
        wins = sum(d > TIE for d in diffs)
        losses = sum(d < -TIE for d in diffs)
        lines.append(
            f"| {family} | {corpus} | {level} | {name} | {len(pairs)} "
            f"| {statistics.mean(base):.4f} | {statistics.mean(base) + statistics.mean(diffs):.4f} "
            f"| {statistics.mean(diffs):+.4f} | {min(diffs):+.4f} | {max(diffs):+.4f} "
            f"| {wins}/{len(diffs) - wins - losses}/{losses} |"
        )
    return lines


def csv_list(text: str, kind: type) -> list[Any]:
    """The comma-separated items of an option, converted with ``kind`` (empty items dropped)."""
    return [kind(part) for part in text.split(",") if part]


def main(argv: list[str] | None = None) -> int:
    """Measure shipped and the candidates on the derived corpora; JSON lines and a table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="folder of the corpora")
    parser.add_argument(
        "--candidates",
        default="centred_pieces_z_10",
        help="comma-separated ideas of quality_ideas.py, quality_ideas_more.py or _refine.py",
    )
    parser.add_argument(
        "--families", default=",".join(FAMILIES), help=f"comma-separated, of: {', '.join(FAMILIES)}"
    )
    parser.add_argument(
        "--corpora", default=",".join(CORPORA), help="corpora subsampled (default: all three)"
    )
    parser.add_argument("--fractions", default="0.5,0.25", help="shares of the stories kept")
    parser.add_argument("--seeds", default="0,1,2,3,4", help="one derived corpus per seed")
    args = parser.parse_args(argv)
    candidates = csv_list(args.candidates, str)
    families = csv_list(args.families, str)
    known = {**ideas.IDEAS, **more.MORE, **refine.REFINE, **stories.STORIES}
    unknown = [c for c in candidates if c not in known]
    unknown += [f for f in families if f not in FAMILIES]
    if unknown:
        parser.error(f"unknown candidates or families: {unknown}")
    chosen = csv_list(args.corpora, str)
    needed = set(chosen) | ({"ecb"} if set(families) - {"full", "subsample"} else set())
    needed |= {"vims"} if "mixed" in families else set()
    data = {name: load(args.data / CORPORA[name]) for name in CORPORA if name in needed}
    sampled = {name: records for name, records in data.items() if name in chosen}
    rows = []
    fractions, seeds = csv_list(args.fractions, float), csv_list(args.seeds, int)
    for meta, records in variants(data, families, fractions, seeds):
        if meta["family"] in ("full", "subsample") and meta["corpus"] not in sampled:
            continue
        row = {**meta, **measure(records, candidates)}
        rows.append(row)
        print(json.dumps(row, ensure_ascii=False), flush=True)
    print("\n".join(summary(rows, candidates)), file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
