"""Why the derived cut fails on corpora of few subjects: the background, the cut, the pairs.

For each corpus derived as in ``quality_travel.py`` (same families, fractions and seeds), this
prints one JSON line with the corpus' background (median and robust spread of the pairwise
cosine similarities, as :func:`dedup.cluster.background_similarity` measures them), the raw
height ``1 - (median + z x spread)``, whether the band clamped it, the share of pairs in one
gold story, quantiles of the similarity of same-event, same-story-other-event and
other-story pairs, and the event (or story) F1 of the shipped linkage at the shipped height,
at each cut rule of :data:`RULES` and, as a diagnostic only, at the best fixed height of a
grid (the answers in hand). If the best fixed height scores well while the shipped one does
not, the cut is at fault, not the linkage.

The rules only replace :func:`dedup.cluster.cut_heights`; the features, linkage, strays and
events are the shipped ones. A summary per family, corpus and rule goes to standard error.

Example::

    python benchmarks/travel_cuts.py --families topic,topics_2 --rules shipped,fallback
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any
from unittest import mock

import numpy as np
import scipy.sparse as sp

sys.path.insert(0, str(Path(__file__).resolve().parent))

import quality_ideas as ideas
import quality_travel as travel
from quality import load

from dedup import cluster
from dedup.config import ClusterConfig

GRID = tuple(round(t, 2) for t in np.arange(0.60, 0.96, 0.02))
QUANTILES = (0.1, 0.5, 0.9)
Heights = Callable[[sp.csr_matrix, ClusterConfig], tuple[float, float]]
SHIPPED: Heights = cluster.cut_heights  # kept: the rules below replace it while they run


def pair_similarities(matrix: sp.csr_matrix) -> np.ndarray:
    """Cosine similarities of every pair of rows (upper triangle, float64)."""
    dense = (matrix @ matrix.T).toarray().astype(np.float64)
    return dense[np.triu_indices(dense.shape[0], 1)]


def fixed(height: float) -> Heights:
    """A rule cutting both levels at one fixed height."""
    return lambda matrix, config: (height, height)


def previous(matrix: sp.csr_matrix, config: ClusterConfig) -> tuple[float, float]:
    """The heights before the two-group split: median plus ``z`` spreads, kept in the band."""
    with mock.patch.object(cluster, "two_group_split", lambda pairs: None):
        return SHIPPED(matrix, config)


def lower_half(matrix: sp.csr_matrix, config: ClusterConfig) -> tuple[float, float]:
    """The background measured on the lower half of the pairs only (a one-sided spread).

    Related pairs sit above the median, so the median and the spread of the pairs below it
    (``median - 25th percentile``, scaled to a standard deviation) describe the unrelated
    ones even when up to half the pairs are related.
    """
    pairs = cluster._pair_similarities(matrix)
    if pairs is None:
        return previous(matrix, config)
    median = float(np.median(pairs))
    spread = (median - float(np.quantile(pairs, 0.25))) / 0.6745
    height = float(np.clip(1.0 - (median + config.story_z * spread), *config.height_band))
    return height, height


def _when_related(choose: Callable[[np.ndarray, ClusterConfig], float]) -> Heights:
    """The previous heights, or ``choose(pairs)`` (kept in the band) when under the band.

    A story height under the band is the corpus saying its pairs are not mostly unrelated,
    so median plus spreads measures no background (the trigger of the shipped split).
    """

    def rule(matrix: sp.csr_matrix, config: ClusterConfig) -> tuple[float, float]:
        background = cluster.background_similarity(matrix)
        if background is None or (
            1.0 - (background[0] + config.story_z * background[1]) >= config.height_band[0]
        ):
            return previous(matrix, config)
        pairs = cluster._pair_similarities(matrix)
        height = float(np.clip(choose(pairs, config), *config.height_band))
        return height, height

    return rule


def mixture(pairs: np.ndarray, config: ClusterConfig) -> float:
    """Height where two Gaussians fitted to the pair similarities are equally likely."""
    from sklearn.mixture import GaussianMixture

    model = GaussianMixture(2, random_state=0).fit(pairs[:, None])
    means = np.sort(model.means_.ravel())
    grid = np.linspace(means[0], means[1], 1001)
    high = int(np.argmax(model.means_.ravel()))
    posterior = model.predict_proba(grid[:, None])[:, high]
    return 1.0 - float(grid[int(np.argmax(posterior >= 0.5))])


RULES: dict[str, Heights] = {
    "previous": previous,
    "shipped": SHIPPED,
    "split_all_pairs": _when_related(lambda p, c: 1.0 - cluster.two_group_split(p)),
    "mixture": _when_related(mixture),
    "small_corpus_height": _when_related(lambda p, c: c.small_corpus_threshold),
    "loosest_in_band": _when_related(lambda p, c: c.height_band[1]),
    "lower_half": lower_half,
    "fixed_0.78": fixed(0.78),
    "fixed_0.86": fixed(0.86),
}


def labels_at(corpus: dict[str, Any], matrix: sp.csr_matrix, rule: Heights) -> tuple[Any, ...]:
    """Stories, events and story height of the shipped clustering with ``rule``'s heights."""
    with mock.patch.object(cluster, "cut_heights", rule):
        stories, events, _, story_cut = ideas.cluster_rows(corpus, matrix)
    return stories, events, story_cut


def pair_kinds(corpus: dict[str, Any], similarities: np.ndarray) -> dict[str, Any]:
    """Quantiles of the similarity of same-event, same-story and other-story pairs of rows."""
    rows = len(corpus["bodies"])
    gold: dict[str, list[Any]] = {level: [None] * rows for level in ("story", "event")}
    for article, row in enumerate(corpus["row_of"]):
        for level in gold:
            if gold[level][row] is None:
                gold[level][row] = corpus["gold"][level][article]
    first, second = np.triu_indices(rows, 1)
    story = np.array(gold["story"], dtype=object)
    event = np.array(gold["event"], dtype=object)
    same_story = story[first] == story[second]
    has_event = (event[first] != None) & (event[second] != None)  # noqa: E711
    same_event = has_event & (event[first] == event[second])
    kinds = {
        "same_event": same_event,
        "story_not_event": same_story & has_event & ~same_event,
        "other_story": ~same_story,
    }
    out: dict[str, Any] = {"related_share": round(float(same_story.mean()), 4)}
    for name, mask in kinds.items():
        if mask.any():
            values = np.quantile(similarities[mask], QUANTILES)
            out[name] = [round(float(v), 3) for v in values]
    return out


def measure(records: list[dict[str, Any]], rules: list[str], best_fixed: bool) -> dict[str, Any]:
    """The background, pair kinds and F1 per rule (and at the best fixed height) of a corpus."""
    corpus = ideas.capture(records)
    matrix = ideas.shipped(corpus)
    level = "event" if any(e is not None for e in corpus["gold"]["event"]) else "story"
    config = ClusterConfig()
    row: dict[str, Any] = {"rows": len(corpus["bodies"]), "level": level}
    background = cluster.background_similarity(sp.csr_matrix(matrix, dtype=np.float32))
    if background is not None:
        median, spread = background
        raw = 1.0 - (median + config.story_z * spread)
        low, high = config.height_band
        clamp = "low" if raw < low else "high" if raw > high else "none"
        row.update(median=round(median, 4), spread=round(spread, 4), raw_height=round(raw, 4))
        row["clamp"] = clamp
        pairs = cluster._pair_similarities(sp.csr_matrix(matrix, dtype=np.float32))
        split = cluster.two_group_split(pairs[pairs > 0.0])
        row["split_height"] = None if split is None else round(1.0 - split, 4)
    row.update(pair_kinds(corpus, pair_similarities(matrix)))
    for name in rules:
        stories, events, height = labels_at(corpus, matrix, RULES[name])
        found = events if level == "event" else stories
        row[name] = {"height": round(height, 3), "f1": round(ideas.f1(corpus, found, level), 4)}
        if level == "event":
            row[name]["story_f1"] = round(ideas.f1(corpus, stories, "story"), 4)
    if best_fixed:
        best = max(
            (ideas.f1(corpus, labels_at(corpus, matrix, fixed(h))[level == "event"], level), h)
            for h in GRID
        )
        row["best_fixed"] = {"height": best[1], "f1": round(best[0], 4)}
    return row


def summary(rows: list[dict[str, Any]], rules: list[str]) -> list[str]:
    """Markdown table: mean F1 per family, corpus and rule (and the best fixed height)."""
    groups: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        family = row["family"] + (f"@{row['fraction']}" if "fraction" in row else "")
        groups[(family, row["corpus"])].append(row)
    names = [*rules, *(["best_fixed"] if "best_fixed" in rows[0] else [])]
    lines = [
        "| family | corpus | level | n | clamp low/none/high | " + " | ".join(names) + " |",
        "|---" * (5 + len(names)) + "|",
    ]
    for (family, corpus), group in groups.items():
        clamps = [sum(r.get("clamp") == c for r in group) for c in ("low", "none", "high")]
        means = [statistics.mean(r[n]["f1"] for r in group) for n in names]
        lines.append(
            f"| {family} | {corpus} | {group[0]['level']} | {len(group)} "
            f"| {'/'.join(map(str, clamps))} | " + " | ".join(f"{m:.4f}" for m in means) + " |"
        )
    return lines


def main(argv: list[str] | None = None) -> int:
    """Diagnose the cut on each derived corpus; JSON lines and a summary table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=travel.DEFAULT_DATA, help="corpora folder")
    parser.add_argument("--rules", default=",".join(RULES), help=f"of: {', '.join(RULES)}")
    parser.add_argument("--families", default=",".join(travel.FAMILIES), help="comma-separated")
    parser.add_argument("--corpora", default=",".join(travel.CORPORA), help="full/subsampled")
    parser.add_argument("--fractions", default="0.5,0.25", help="shares of the stories kept")
    parser.add_argument("--seeds", default="0,1,2,3,4", help="one derived corpus per seed")
    parser.add_argument(
        "--best-fixed",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="also the F1 at the best fixed height of a grid (answers in hand; slower)",
    )
    args = parser.parse_args(argv)
    rules = travel.csv_list(args.rules, str)
    families = travel.csv_list(args.families, str)
    unknown = [r for r in rules if r not in RULES] + [
        f for f in families if f not in travel.FAMILIES
    ]
    if unknown:
        parser.error(f"unknown rules or families: {unknown}")
    data = {name: load(args.data / file) for name, file in travel.CORPORA.items()}
    fractions = travel.csv_list(args.fractions, float)
    seeds = travel.csv_list(args.seeds, int)
    rows = []
    for meta, records in travel.variants(data, families, fractions, seeds):
        if meta["family"] in ("full", "subsample") and meta["corpus"] not in args.corpora:
            continue
        row = {**meta, **measure(records, rules, args.best_fixed)}
        rows.append(row)
        print(json.dumps(row, ensure_ascii=False), flush=True)
    print("\n".join(summary(rows, rules)), file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
