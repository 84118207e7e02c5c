"""Near-duplicate (syndication) benchmark built from real articles of the dev corpora.

Each chosen story gives one *original* article, a few *copies* of it made the way outlets copy
each other, and the story's other articles as *hard negatives* (same story, same names, written
separately). Copies get two to four of: another outlet's header and footer, the lead printed
twice, a paragraph dropped or the tail cut, a few words changed, new-style Vietnamese tone
marks (``hoà`` for ``hòa``), Unicode NFD, white-space noise (doubled spaces, no-break spaces,
zero-width characters, blank lines). Gold: ``dup_group``, the original's id for the original and
its copies, the article's own id for every other article.

Negatives that already share a fifth of their raw word 5-grams with another chosen article
(real copies inside the corpora: ViMs holds some) are left out, so the gold stays true; the
filter is a plain set computation, not dedup's.

Run: ``python benchmarks/syndication.py [--data DIR] [--stories N] [--seed S]``; one JSON line
per system (dedup with its defaults, the plain datasketch recipe), with the ratio of F1.
"""

from __future__ import annotations

import argparse
import json
import random
import time
import unicodedata
from collections import defaultdict
from pathlib import Path
from typing import Any

from datasketch import MinHash, MinHashLSH

import dedup
from dedup.evaluate import duplicate_components, score_pairs
from dedup.neardup import UnionFind

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
CORPORA = ("vims.jsonl", "ktlab.jsonl", "ecbplus-dev.jsonl")
_OUTLETS = (
    ("Báo Tuổi Trẻ", "TTO - ", "Theo Tuổi Trẻ Online"),
    ("VnExpress", "(VnExpress) ", "Ý kiến bạn đọc"),
    ("Dân trí", "(Dân trí) - ", "Bình luận (0) | Chia sẻ bài viết"),
    ("Reuters", "LONDON (Reuters) - ", "Reporting by staff; editing by the desk"),
    ("AP", "(AP) — ", "Copyright 2015 The Associated Press. All rights reserved."),
)
_NEW_STYLE = {"òa": "oà", "óa": "oá", "ỏa": "oả", "õa": "oã", "ọa": "oạ", "òe": "oè",
              "óe": "oé", "ỏe": "oẻ", "õe": "oẽ", "ọe": "oẹ", "ùy": "uỳ", "úy": "uý",
              "ủy": "uỷ", "ũy": "uỹ", "ụy": "uỵ"}  # fmt: skip
_NOISE = ("  ", "\u00a0", "\u200b", " \u200b")


def _paragraphs(text: str) -> list[str]:
    return [p for p in text.split("\n") if p.strip()]


def _with_outlet(paragraphs: list[str], rng: random.Random, outlet: int) -> list[str]:
    """The copying outlet's header glued to the lead, its name line, and its footer."""
    name, header, footer = _OUTLETS[outlet]
    return [name, header + paragraphs[0], *paragraphs[1:], footer]


def _lead_twice(paragraphs: list[str], rng: random.Random, outlet: int) -> list[str]:
    return [paragraphs[0], *paragraphs]


def _drop_or_cut(paragraphs: list[str], rng: random.Random, outlet: int) -> list[str]:
    """Drop one paragraph (not the lead), or cut the last fifth of the words."""
    if len(paragraphs) > 3 and rng.random() < 0.5:
        drop = rng.randrange(1, len(paragraphs))
        return paragraphs[:drop] + paragraphs[drop + 1 :]
    words = "\n".join(paragraphs).split(" ")
    return " ".join(words[: max(1, int(len(words) * 0.8))]).split("\n")


def _change_words(paragraphs: list[str], rng: random.Random, outlet: int) -> list[str]:
    """Replace about 2% of the words with other words of the article."""
    words = "\n".join(paragraphs).split(" ")
    plain = [w for w in words if w and "\n" not in w]
    for _ in range(max(1, len(words) // 50)):
        k = rng.randrange(len(words))
        if "\n" not in words[k]:
            words[k] = rng.choice(plain)
    return " ".join(words).split("\n")


def _new_style_tones(paragraphs: list[str], rng: random.Random, outlet: int) -> list[str]:
    text = "\n".join(paragraphs)
    for old, new in _NEW_STYLE.items():
        text = text.replace(old, new)
    return text.split("\n")


def _nfd(paragraphs: list[str], rng: random.Random, outlet: int) -> list[str]:
    return [unicodedata.normalize("NFD", p) for p in paragraphs]


def _whitespace(paragraphs: list[str], rng: random.Random, outlet: int) -> list[str]:
    out = []
    for paragraph in paragraphs:
        words = paragraph.split(" ")
        for _ in range(max(1, len(words) // 25)):
            k = rng.randrange(len(words))
            words[k] = words[k] + rng.choice(_NOISE)
        out.append(" ".join(words) + ("  " if rng.random() < 0.5 else ""))
        if rng.random() < 0.2:
            out.append(" ")
    return out


EDITS = (_with_outlet, _lead_twice, _drop_or_cut, _change_words, _new_style_tones, _nfd,
         _whitespace)  # fmt: skip


def make_copy(text: str, rng: random.Random, outlet: int) -> tuple[str, list[str]]:
    """Return a copy of ``text`` by outlet ``outlet`` and the names of its 2 to 4 edits."""
    edits = sorted(rng.sample(range(len(EDITS)), rng.randint(2, 4)))
    paragraphs = _paragraphs(text)
    for k in edits:
        paragraphs = EDITS[k](paragraphs, rng, outlet)
    return "\n".join(paragraphs), [EDITS[k].__name__.lstrip("_") for k in edits]


def _raw_shingles(text: str) -> set[tuple[str, ...]]:
    words = text.split()
    return {tuple(words[i : i + 5]) for i in range(max(1, len(words) - 4))}


def _overlaps(a: set[tuple[str, ...]], b: set[tuple[str, ...]]) -> bool:
    return len(a & b) >= 0.2 * min(len(a), len(b))


def build_corpus(
    data_dir: Path,
    *,
    stories: int = 150,
    copies: int = 3,
    negatives: int = 3,
    min_words: int = 60,
    seed: int = 0,
) -> list[dict[str, Any]]:
    """Build the syndication corpus (deterministic for a seed).

    Args:
        data_dir: Folder holding the dev corpora (``vims.jsonl``, ``ktlab.jsonl``,
            ``ecbplus-dev.jsonl``).
        stories: Stories drawn, spread evenly over the corpora.
        copies: Copies made of each story's original (1 to ``copies``, at random).
        negatives: Other articles of the story kept as hard negatives (at most).
        min_words: Originals have at least this many words (a copy of one sentence is not
            news syndication).
        seed: Seed of every random choice.

    Returns:
        Records with ``id``, ``title``, ``text``, ``source``, ``date``, ``dup_group`` and
        ``edits`` (the edits applied to a copy; empty for real articles).
    """
    rng = random.Random(seed)
    records: list[dict[str, Any]] = []
    per_corpus = stories // len(CORPORA)
    for name in CORPORA:
        by_story: dict[str, list[dict[str, Any]]] = defaultdict(list)
        with (data_dir / name).open(encoding="utf-8") as handle:
            for line in handle:
                article = json.loads(line)
                by_story[article["story"]].append(article)
        candidates = sorted(
            s
            for s, a in by_story.items()
            if len(a) >= 2 and max(len(x["text"].split()) for x in a) >= min_words
        )
        chosen = rng.sample(candidates, min(per_corpus, len(candidates)))
        for story in chosen:
            shuffled = rng.sample(by_story[story], len(by_story[story]))
            original = next(a for a in shuffled if len(a["text"].split()) >= min_words)
            others = [a for a in shuffled if a is not original]
            kept = [original]
            shingles = [_raw_shingles(original["text"])]
            for other in others:
                candidate = _raw_shingles(other["text"])
                if len(kept) <= negatives and not any(_overlaps(candidate, s) for s in shingles):
                    kept.append(other)
                    shingles.append(candidate)
            for article in kept:
                records.append(_record(article, article["id"], article["id"], []))
            for k in range(rng.randint(1, copies)):
                outlet = rng.randrange(len(_OUTLETS))
                text, edits = make_copy(original["text"], rng, outlet)
                copy_id = f"{original['id']}#copy{k}"
                records.append(_record(original, copy_id, original["id"], edits))
                records[-1].update(text=text, source=_OUTLETS[outlet][0])
    rng.shuffle(records)
    return records


def _record(article: dict[str, Any], new_id: str, group: str, edits: list[str]) -> dict[str, Any]:
    return {
        "id": new_id,
        "title": article.get("title"),
        "text": article["text"],
        "source": article.get("source"),
        "date": article.get("date"),
        "dup_group": group,
        "edits": edits,
    }


def datasketch_recipe(records: list[dict[str, Any]], *, threshold: float = 0.8) -> dict[str, str]:
    """The plain recipe: MinHash of raw word 5-grams, MinHashLSH, groups of LSH hits.

    Returns:
        The duplicate group (a member id) of each record.
    """
    lsh = MinHashLSH(threshold=threshold, num_perm=128)
    hashes = []
    for k, record in enumerate(records):
        minhash = MinHash(num_perm=128, seed=1)
        for shingle in _raw_shingles(record["text"]):
            minhash.update(" ".join(shingle).encode("utf-8"))
        hashes.append(minhash)
        lsh.insert(str(k), minhash)
    sets = UnionFind(len(records))
    for k, minhash in enumerate(hashes):
        for hit in lsh.query(minhash):
            sets.union(k, int(hit))
    return {r["id"]: records[sets.find(k)]["id"] for k, r in enumerate(records)}


def dedup_groups(records: list[dict[str, Any]]) -> dict[str, str]:
    """Dedup's duplicate groups with its shipped defaults (gold fields stripped)."""
    inputs = [{k: v for k, v in r.items() if k not in ("dup_group", "edits")} for r in records]
    result = dedup.run(inputs, cluster=False)
    return duplicate_components({a.id: a.duplicate_of for a in result.articles})


def score(records: list[dict[str, Any]], groups: dict[str, str]) -> dict[str, float]:
    """Pairwise precision, recall and F1 of ``groups`` against the ``dup_group`` gold."""
    scores = score_pairs({r["id"]: r["dup_group"] for r in records}, groups)
    return {
        "precision": round(scores.precision, 4),
        "recall": round(scores.recall, 4),
        "f1": round(scores.f1, 4),
        "gold_pairs": scores.gold_pairs,
        "pred_pairs": scores.pred_pairs,
    }


def run_benchmark(data_dir: Path, *, stories: int = 150, seed: int = 0) -> list[dict[str, Any]]:
    """Score dedup and the datasketch recipe on one generated corpus; one row per system."""
    records = build_corpus(data_dir, stories=stories, seed=seed)
    rows = []
    for system, find in (("dedup", dedup_groups), ("datasketch-5gram-lsh0.8", datasketch_recipe)):
        start = time.perf_counter()
        groups = find(records)
        seconds = time.perf_counter() - start
        rows.append(
            {
                "benchmark": "syndication",
                "system": system,
                "articles": len(records),
                "copies": sum(bool(r["edits"]) for r in records),
                **score(records, groups),
                "seconds": round(seconds, 2),
            }
        )
    baseline_f1 = rows[1]["f1"]
    rows[0]["f1_ratio_to_datasketch"] = (
        round(rows[0]["f1"] / baseline_f1, 3) if baseline_f1 else None
    )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="dev corpora folder")
    parser.add_argument("--stories", type=int, default=150, help="stories drawn (default 150)")
    parser.add_argument("--seed", type=int, default=0, help="generator seed (default 0)")
    parser.add_argument("--write", type=Path, help="also write the corpus as JSONL here")
    args = parser.parse_args()
    if args.write:
        records = build_corpus(args.data, stories=args.stories, seed=args.seed)
        with args.write.open("w", encoding="utf-8") as handle:
            for record in records:
                handle.write(json.dumps(record, ensure_ascii=False) + "\n")
    for row in run_benchmark(args.data, stories=args.stories, seed=args.seed):
        print(json.dumps(row, ensure_ascii=False))


if __name__ == "__main__":
    main()
