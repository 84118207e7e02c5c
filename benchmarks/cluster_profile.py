"""Where the clustering stage's time goes as the corpus grows: sub-step seconds and counts.

Runs the real :meth:`dedup.cluster.EventStoryClusterer.fit` on the cached corpora of
``benchmarks/speed.py`` and times each of its sub-steps by wrapping the functions it calls
(wall and CPU seconds of the process, threads included): the TF-IDF matrix, the cut heights,
the story pair search, then the work of the connected blocks of the pair graph ("blocks",
:mod:`dedup.blocks`): the story linkage, the strays, each block's dense similarities, the
split of merged stories and the events inside stories (their own pair searches and linkages
included). Alongside, the counts that drive them: entries of
the matrix per row, close pairs (total and per article), candidate pairs verified, heap
pushes of the linkage and the largest connected block of the pair graph.

One JSON line per size, then one with the ratios of consecutive sizes. Example::

    python benchmarks/cluster_profile.py --sizes 25000,50000,100000,200000
"""

from __future__ import annotations

import argparse
import functools
import itertools
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


_INSIDE: list[str] = []  # the timed steps running (a step inside events is "events.NAME")


def _timed(table: dict, name: str, function):
    """``function`` adding its wall and CPU seconds and its calls to ``table[name]``."""

    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        key = f"events.{name}" if "events" in _INSIDE else name
        _INSIDE.append(name)
        wall, cpu = time.perf_counter(), time.process_time()
        try:
            return function(*args, **kwargs)
        finally:
            _INSIDE.pop()
            entry = table[key]
            entry["wall"] += time.perf_counter() - wall
            entry["cpu"] += time.process_time() - cpu
            entry["calls"] += 1

    return wrapper


def profile(path: Path, jobs: int = 1) -> dict[str, object]:
    """Sub-step seconds and counts of one clustering of the corpus at ``path``.

    With ``jobs`` above 1 the blocks of the story graph run in worker processes, whose
    sub-steps (linkage, strays, similarity, split, events) are not timed here; "blocks" is
    then their wall time, and the CPU seconds are the main process' only.
    """
    import heapq

    import numpy as np
    import scipy.sparse as sp
    from scipy.sparse.csgraph import connected_components

    from dedup import cluster, linkage, pairs
    from dedup.io.dates import parse_date
    from dedup.memory import map_large_allocations
    from dedup.normalize import normalize_text
    from dedup.shingle import tokenize
    from dedup.tfidf import Vocabulary

    map_large_allocations()
    vocabulary = Vocabulary()
    bodies, titles, dates, gold = [], [], [], []
    with path.open(encoding="utf-8") as stream:
        for line in stream:
            record = json.loads(line)
            gold.append(record["story"])
            bodies.append(vocabulary.ids(tokenize(normalize_text(record["text"]))))
            titles.append(vocabulary.ids(tokenize(normalize_text(record["title"]))))
            dates.append(parse_date(record["date"]))
    n = len(bodies)
    steps: dict[str, dict[str, float]] = defaultdict(lambda: {"wall": 0.0, "cpu": 0.0, "calls": 0})
    counts: dict[str, float] = {"heap_pushes": 0, "candidates": 0}
    story_pairs: list = []

    def count_push(heap, item):
        counts["heap_pushes"] += 1
        heapq.heappush(heap, item)

    def story_search(matrix, level, **kwargs):
        found = pairs_search(matrix, level, **kwargs)
        if not story_pairs:
            story_pairs.append(found)
        return found

    def candidate_keys(*args):
        keys = keys_search(*args)
        counts["candidates"] += sum(len(k) for k in keys)
        return keys

    keys_search = pairs._candidate_keys
    pairs._candidate_keys = candidate_keys
    linkage.heapq = type("CountingHeap", (), {"heappush": staticmethod(count_push)})()
    linkage.heapq.heappop, linkage.heapq.heapify = heapq.heappop, heapq.heapify
    pairs_search = linkage.similar_pairs
    # Story-level calls are the first of each (the story pairs come before any event split).
    linkage.similar_pairs = _timed(steps, "pairs", story_search)
    linkage.average_link_labels = _timed(steps, "linkage", linkage.average_link_labels)
    cluster.average_link_labels = _timed(steps, "linkage", cluster.average_link_labels)
    cluster.attach_strays = _timed(steps, "strays", cluster.attach_strays)
    cluster.cut_heights = _timed(steps, "cuts", cluster.cut_heights)
    cluster.EventStoryClusterer._events = _timed(
        steps, "events", cluster.EventStoryClusterer._events
    )
    cluster.tfidf_from_tokens = _timed(steps, "matrix", cluster.tfidf_from_tokens)
    cluster.dense_similarity = _timed(steps, "similarity", cluster.dense_similarity)
    cluster.split_merged = _timed(steps, "split", cluster.split_merged)
    cluster.map_blocks = _timed(steps, "blocks", cluster.map_blocks)
    fit = _timed(steps, "fit", cluster.EventStoryClusterer.fit)
    model = cluster.EventStoryClusterer(jobs=jobs)
    fit(model, bodies, titles=titles, published=dates, vocabulary=vocabulary)
    matrix = model.matrix_
    first, second, _ = story_pairs[0]
    graph = sp.coo_matrix((np.ones(len(first)), (first, second)), shape=(n, n))
    _, component = connected_components(graph, directed=False)
    sizes = np.bincount(component)
    return {
        "articles": n,
        "seconds": {k: {m: round(v[m], 2) for m in ("wall", "cpu")} for k, v in steps.items()},
        "calls": {k: v["calls"] for k, v in steps.items()},
        "entries_per_row": round(matrix.nnz / n, 1),
        "columns": int(matrix.shape[1]),
        "story_pairs": len(first),
        "story_pairs_per_article": round(len(first) / n, 3),
        "cross_story_pairs_per_article": round(
            float((np.array(gold)[first] != np.array(gold)[second]).sum()) / n, 3
        ),
        "candidates": int(counts["candidates"]),
        "heap_pushes": int(counts["heap_pushes"]),
        "largest_block": int(sizes.max()),
        "blocks_over_1": int((sizes > 1).sum()),
        "largest_story": int(np.bincount(model.story_labels_).max()),
        "stories": int(model.story_labels_.max() + 1),
        "events": int(model.event_labels_.max() + 1),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }


def real_growth(path: Path, steps: int, level: float) -> list[dict[str, object]]:
    """Close pairs per article in growing corpora of whole real stories (gold ``story``).

    The first ``k`` stories of the corpus (all their articles), for ``steps`` values of
    ``k``: if close pairs per article stay flat as stories are added, the pair search and
    the linkage grow linearly with a corpus of more stories.
    """
    import numpy as np

    from dedup.cluster import EventStoryClusterer
    from dedup.linkage import similar_pairs
    from dedup.normalize import normalize_text
    from dedup.shingle import tokenize

    records = [json.loads(line) for line in path.open(encoding="utf-8")]
    stories = list(dict.fromkeys(r["story"] for r in records))
    out = []
    for step in range(1, steps + 1):
        chosen = set(stories[: len(stories) * step // steps])
        kept = [r for r in records if r["story"] in chosen]
        model = EventStoryClusterer()
        matrix, _ = model.features(
            [tokenize(normalize_text(r["text"])) for r in kept],
            titles=[tokenize(normalize_text(r.get("title") or "")) for r in kept],
        )
        first, second, _ = similar_pairs(matrix, level)
        gold = np.array([r["story"] for r in kept])
        out.append(
            {
                "corpus": path.name,
                "stories": len(chosen),
                "articles": len(kept),
                "pairs_per_article": round(len(first) / len(kept), 3),
                "cross_story_pairs_per_article": round(
                    float((gold[first] != gold[second]).sum()) / len(kept), 3
                ),
            }
        )
    return out


def main(argv: list[str] | None = None) -> None:
    """Profile each size in its own process and print one JSON line per size, then ratios."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="25000,50000", help="Comma-separated corpus sizes.")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "dedup-bench")
    parser.add_argument("--jobs", type=int, default=1, help="Processes for the blocks.")
    parser.add_argument("--worker", type=Path, help=argparse.SUPPRESS)
    parser.add_argument(
        "--real", type=Path, nargs="*", help="Instead: pairs per article on growing real corpora."
    )
    parser.add_argument("--level", type=float, default=0.14, help="Similarity of --real pairs.")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    if args.real:
        for path in args.real:
            for line in real_growth(path, 4, args.level):
                print(json.dumps(line), flush=True)
        return
    if args.worker:
        print(json.dumps(profile(args.worker, args.jobs)), flush=True)
        return
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from speed import DATA, corpus_path

    results = []
    for n in (int(s) for s in args.sizes.split(",")):
        path = corpus_path(n, args.seed, args.cache, [DATA / "vims.jsonl", DATA / "ktlab.jsonl"])
        command = [sys.executable, str(Path(__file__).resolve()), "--worker", str(path)]
        command += ["--jobs", str(args.jobs)]
        done = subprocess.run(
            command,
            check=True,
            capture_output=True,
            text=True,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
        )
        results.append(json.loads(done.stdout.strip().splitlines()[-1]))
        print(json.dumps(results[-1]), flush=True)
    ratios = {}
    for a, b in itertools.pairwise(results):
        key = f"{b['articles']}/{a['articles']}"
        ratios[key] = {
            step: {
                m: round(b["seconds"][step][m] / max(a["seconds"][step][m], 1e-9), 2)
                for m in ("wall", "cpu")
            }
            for step in b["seconds"]
        }
    print(json.dumps({"benchmark": "cluster-profile", "ratios": ratios}), flush=True)


if __name__ == "__main__":
    main()
