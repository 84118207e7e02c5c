"""Quality benchmark: dedup's shipped defaults against an oracle-tuned baseline, on real corpora.

For each labelled dev corpus (``vims.jsonl``, ``ktlab.jsonl``, ``ecbplus-dev.jsonl`` in
``--data``), the gold fields are stripped, ``dedup.run`` runs with its defaults, and its events
and stories are scored (B-cubed F1, ARI, NMI) against the gold. In the same run the baseline is
scored: scikit-learn ``TfidfVectorizer`` (defaults) on title and text, average-link cosine
agglomerative clustering, cut at the best threshold of a grid chosen *with the answers in hand*
(an oracle no real user has). The grid is searched on one scipy average-link tree (the same
algorithm as ``AgglomerativeClustering(metric="cosine", linkage="average")``); the winning
threshold is then re-run with scikit-learn itself and that score is reported. The syndication
benchmark (``syndication.py``) adds duplicate-pair F1 for dedup and the plain datasketch recipe.

Output: a table on standard error, and one JSON line per corpus and level on standard output.
``--check`` compares with the floors pinned in ``baseline.json`` (exit 1 below a floor);
``--update-floors`` pins the current scores (refusing to lower a floor without
``--allow-regression``), in the manner of trafilatura's ``tests/eval_gate.py``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
from scipy.cluster.hierarchy import fcluster, linkage
from scipy.spatial.distance import pdist
from sklearn.cluster import AgglomerativeClustering
from sklearn.feature_extraction.text import TfidfVectorizer

sys.path.insert(0, str(Path(__file__).resolve().parent))

from syndication import DEFAULT_DATA, run_benchmark

import dedup
from dedup.evaluate import score_clusters

FLOORS = Path(__file__).resolve().parent / "baseline.json"
CASES = (
    ("vims.jsonl", ("story",)),
    ("ktlab.jsonl", ("story",)),
    ("ecbplus-dev.jsonl", ("event", "story")),
)
GOLD_FIELDS = ("story", "event")
GRID = tuple(round(t, 2) for t in np.arange(0.30, 0.96, 0.025))


def sha256(path: Path) -> str:
    """Hex SHA-256 of a file's bytes."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def load(path: Path) -> list[dict[str, Any]]:
    """Read a JSONL corpus."""
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def _bcubed_f1(gold: list[Any], labels: Any, level: str) -> float:
    ids = [str(i) for i in range(len(gold))]
    return score_clusters(
        dict(zip(ids, gold, strict=True)), dict(zip(ids, labels, strict=True)), level=level
    ).bcubed_f1


def baseline(records: list[dict[str, Any]], level: str) -> dict[str, Any]:
    """The oracle-tuned TF-IDF + average-link baseline at one level."""
    gold = [r[level] for r in records]
    texts = [f"{r.get('title') or ''}\n{r['text']}" for r in records]
    dense = TfidfVectorizer().fit_transform(texts).toarray()
    tree = linkage(pdist(dense, "cosine"), "average")
    scores = [(_bcubed_f1(gold, fcluster(tree, t, "distance"), level), t) for t in GRID]
    best_f1, best_t = max(scores, key=lambda s: (s[0], -s[1]))
    model = AgglomerativeClustering(
        n_clusters=None, metric="cosine", linkage="average", distance_threshold=best_t
    )
    sklearn_f1 = _bcubed_f1(gold, model.fit_predict(dense), level)
    return {"f1": round(sklearn_f1, 4), "grid_f1": round(best_f1, 4), "threshold": best_t}


def run_dedup(records: list[dict[str, Any]]) -> tuple[dict[str, Any], float]:
    """Run dedup with its defaults on the corpus without its gold fields."""
    inputs = [{k: v for k, v in r.items() if k not in GOLD_FIELDS} for r in records]
    start = time.perf_counter()
    result = dedup.run(inputs)
    return {a.id: a for a in result.articles}, time.perf_counter() - start


def evaluate_corpora(data_dir: Path, *, with_baseline: bool = True) -> list[dict[str, Any]]:
    """One row per corpus and level: dedup's scores, and the baseline's beside them."""
    rows = []
    for name, levels in CASES:
        path = data_dir / name
        records = load(path)
        articles, seconds = run_dedup(records)
        for level in levels:
            gold = {r["id"]: r[level] for r in records}
            scores = score_clusters(
                gold, {i: getattr(a, level) for i, a in articles.items()}, level=level
            )
            row: dict[str, Any] = {
                "corpus": name.removesuffix(".jsonl"),
                "level": level,
                "dedup_f1": round(scores.bcubed_f1, 4),
                "dedup_precision": round(scores.bcubed_precision, 4),
                "dedup_recall": round(scores.bcubed_recall, 4),
                "dedup_ari": round(scores.ari, 4),
                "dedup_nmi": round(scores.nmi, 4),
                "clusters": scores.n_pred,
                "gold_clusters": scores.n_gold,
                "dedup_seconds": round(seconds, 2),
                "sha256": sha256(path),
            }
            if with_baseline:
                base = baseline(records, level)
                row.update(
                    baseline_f1=base["f1"],
                    baseline_threshold=base["threshold"],
                    difference=round(row["dedup_f1"] - base["f1"], 4),
                    ratio=round(row["dedup_f1"] / base["f1"], 4),
                )
            rows.append(row)
    return rows


def evaluate_syndication(data_dir: Path) -> dict[str, Any]:
    """The syndication row: dedup's duplicate-pair F1 beside the plain datasketch recipe."""
    ours, peer = run_benchmark(data_dir)
    return {
        "corpus": "syndication",
        "level": "duplicates",
        "dedup_f1": ours["f1"],
        "dedup_precision": ours["precision"],
        "dedup_recall": ours["recall"],
        "dedup_seconds": ours["seconds"],
        "baseline": peer["system"],
        "baseline_f1": peer["f1"],
        "difference": round(ours["f1"] - peer["f1"], 4),
        "ratio": round(ours["f1"] / peer["f1"], 4) if peer["f1"] else None,
    }


def evaluate_all(data_dir: Path, *, with_baseline: bool = True) -> list[dict[str, Any]]:
    """Every row of the benchmark."""
    rows = evaluate_corpora(data_dir, with_baseline=with_baseline)
    return [*rows, evaluate_syndication(data_dir)]


def key(row: dict[str, Any]) -> str:
    """The floor's name of a row (``corpus/level``)."""
    return f"{row['corpus']}/{row['level']}"


def check_floors(rows: list[dict[str, Any]], floors: dict[str, Any]) -> list[str]:
    """Return one message per score below its pinned floor (minus epsilon) or changed corpus."""
    problems = []
    epsilon = floors["epsilon"]
    for row in rows:
        floor = floors["floors"].get(key(row))
        if floor is not None and row["dedup_f1"] < floor - epsilon:
            problems.append(f"{key(row)}: F1 {row['dedup_f1']} is below the floor {floor}")
        pinned = floors["sha256"].get(row["corpus"])
        if "sha256" in row and pinned is not None and row["sha256"] != pinned:
            problems.append(f"{row['corpus']}: corpus changed (sha256 {row['sha256'][:12]}...)")
    return problems


def update_floors(rows: list[dict[str, Any]], *, allow_regression: bool) -> list[str]:
    """Pin the current scores as floors; refuse to lower one unless allowed."""
    old = json.loads(FLOORS.read_text(encoding="utf-8")) if FLOORS.exists() else None
    lowered = [
        f"{key(r)}: {old['floors'][key(r)]} -> {r['dedup_f1']}"
        for r in rows
        if old and key(r) in old["floors"] and r["dedup_f1"] < old["floors"][key(r)]
    ]
    if lowered and not allow_regression:
        return lowered
    pinned = {
        "epsilon": 0.0005,
        "floors": {key(r): r["dedup_f1"] for r in rows},
        "sha256": {r["corpus"]: r["sha256"] for r in rows if "sha256" in r},
    }
    FLOORS.write_text(json.dumps(pinned, indent=2) + "\n", encoding="utf-8")
    return []


def table(rows: list[dict[str, Any]]) -> str:
    """A Markdown table of the rows."""
    lines = [
        "| corpus | level | dedup | baseline | difference |",
        "|---|---|---|---|---|",
    ]
    for r in rows:
        base = r.get("baseline_f1")
        diff = r.get("difference")
        lines.append(
            f"| {r['corpus']} | {r['level']} | {r['dedup_f1']:.3f} | "
            f"{'-' if base is None else f'{base:.3f}'} | "
            f"{'-' if diff is None else f'{diff:+.3f}'} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="dev corpora folder")
    parser.add_argument("--no-baseline", action="store_true", help="skip the oracle baseline")
    parser.add_argument("--check", action="store_true", help="fail below the pinned floors")
    parser.add_argument("--update-floors", action="store_true", help="pin today's scores")
    parser.add_argument(
        "--allow-regression", action="store_true", help="let --update-floors lower a floor"
    )
    args = parser.parse_args()
    start = time.perf_counter()
    rows = evaluate_all(args.data, with_baseline=not args.no_baseline)
    for row in rows:
        print(json.dumps(row, ensure_ascii=False))
    print(table(rows), file=sys.stderr)
    print(f"total {time.perf_counter() - start:.1f} s", file=sys.stderr)
    if args.update_floors:
        lowered = update_floors(rows, allow_regression=args.allow_regression)
        if lowered:
            sys.exit("refusing to lower floors (use --allow-regression): " + "; ".join(lowered))
    if args.check:
        problems = check_floors(rows, json.loads(FLOORS.read_text(encoding="utf-8")))
        if problems:
            sys.exit("\n".join(problems))


if __name__ == "__main__":
    main()
