"""Clustering ideas measured against the shipped defaults, on the labelled dev corpora.

Each idea changes one thing of the clustering stage (the features, the similarities, the
linkage) and keeps the rest as shipped: the paragraph and near-duplicate stages run once per
corpus with the defaults, their output (the clusterer's inputs) is kept, and every idea
clusters those same inputs. For each idea and corpus the benchmark reports the B-cubed F1 at
the corpus-derived cut height (what a user would get) and, as a diagnostic only, the best F1
over a grid of fixed heights and the derived one, chosen with the answers in hand (how
separable the idea makes the articles, whatever the cut). The shipped defaults (``shipped``,
with :mod:`dedup.splits`; ``without_split`` without it, against which the ideas below were
measured) run in the same invocation, and each idea's difference from them is reported.

Output: a table on standard error, one JSON line per idea on standard output. Example::

    python benchmarks/quality_ideas.py --ideas shipped,pmi_pairs,mutual_knn_10
"""

from __future__ import annotations

import argparse
import importlib.util
import itertools
import json
import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any
from unittest import mock

import numpy as np
import scipy.sparse as sp
from scipy.cluster.hierarchy import fcluster, linkage
from scipy.spatial.distance import squareform
from sklearn.feature_extraction.text import CountVectorizer, TfidfTransformer

sys.path.insert(0, str(Path(__file__).resolve().parent))

from quality import CASES, GOLD_FIELDS, load
from syndication import DEFAULT_DATA

import dedup
from dedup import cluster
from dedup.config import ClusterConfig
from dedup.evaluate import score_clusters
from dedup.features import NAME_PREFIX, document_features
from dedup.splits import split_merged
from dedup.strays import attach_strays, dense_pairs

GRID = tuple(round(t, 2) for t in np.arange(0.70, 0.95, 0.01))
_MAD_TO_SD = 1.4826


def capture(records: list[dict[str, Any]]) -> dict[str, Any]:
    """Run dedup's defaults once; keep the clusterer's inputs and each article's canonical row."""
    kept: dict[str, Any] = {}
    original = cluster.EventStoryClusterer.features
    original_fit = cluster.EventStoryClusterer.fit_matrix

    def recording_features(self: Any, bodies: Any, **kwargs: Any) -> Any:
        result = original(self, bodies, **kwargs)
        vocabulary = kwargs.pop("vocabulary", None)
        if vocabulary is not None:  # the pipeline passes token ids: keep the strings
            strings = vocabulary.tokens()

            def decode(docs: Any) -> list[list[str]]:
                return [strings[np.asarray(d, dtype=np.int64)].tolist() for d in docs]

            bodies = decode(bodies)
            kwargs.update({k: decode(kwargs[k]) for k in ("titles", "names") if k in kwargs})
        kept.update(kwargs, bodies=list(bodies))
        return result

    def recording_fit(self: Any, matrix: Any, feature_names: Any, **kwargs: Any) -> Any:
        kept.update(kwargs)  # published
        return original_fit(self, matrix, feature_names, **kwargs)

    inputs = [{k: v for k, v in r.items() if k not in GOLD_FIELDS} for r in records]
    clusterer = cluster.EventStoryClusterer
    with (
        mock.patch.object(clusterer, "features", recording_features),
        mock.patch.object(clusterer, "fit_matrix", recording_fit),
    ):
        result = dedup.run(inputs)
    rows = {a.id: n for n, a in enumerate(a for a in result.articles if a.duplicate_of is None)}
    kept["row_of"] = [rows[a.duplicate_of or a.id] for a in result.articles]
    kept["gold"] = {level: [r[level] for r in records] for level in GOLD_FIELDS}
    return kept


def f1(corpus: dict[str, Any], labels: np.ndarray, level: str) -> float:
    """B-cubed F1 of per-row labels, spread to every article (copies share their row's label)."""
    ids = [str(i) for i in range(len(corpus["row_of"]))]
    gold = dict(zip(ids, corpus["gold"][level], strict=True))
    predicted = {i: int(labels[row]) for i, row in zip(ids, corpus["row_of"], strict=True)}
    return score_clusters(gold, predicted, level=level).bcubed_f1


def tfidf(docs: list[list[str]]) -> sp.csr_matrix:
    """The shipped weighting (sublinear TF, unsmoothed IDF, min_df) of feature lists."""
    counts = CountVectorizer(analyzer=lambda x: x, min_df=ClusterConfig().min_df).fit_transform(
        docs
    )
    matrix = TfidfTransformer(sublinear_tf=True, smooth_idf=False).fit_transform(counts)
    return sp.csr_matrix(matrix, dtype=np.float64)


def shipped_docs(corpus: dict[str, Any], extra: Callable[..., list[str]] | None = None) -> list:
    """The shipped features of each row, plus ``extra(row)`` when given."""
    config = ClusterConfig()
    return [
        document_features(
            body, title, names, title_weight=config.title_weight, name_weight=config.name_weight
        )
        + (extra(row) if extra else [])
        for row, (body, title, names) in enumerate(
            zip(corpus["bodies"], corpus["titles"], corpus["names"], strict=True)
        )
    ]


# ---- feature ideas: corpus -> matrix -------------------------------------------------------


def pmi_pairs(corpus: dict[str, Any]) -> sp.csr_matrix:
    """Adjacent pairs kept only when a collocation (observed more often than chance, PMI > 0)."""
    words: Counter = Counter()
    pairs: Counter = Counter()
    for tokens in corpus["bodies"]:
        words.update(tokens)
        pairs.update(itertools.pairwise(tokens))
    total, pair_total = sum(words.values()), max(sum(pairs.values()), 1)

    def features(tokens: list[str]) -> list[str]:
        kept = [
            f"{a} {b}"
            for a, b in itertools.pairwise(tokens)
            if pairs[a, b] * total * total > words[a] * words[b] * pair_total
        ]
        return [*tokens, *kept]

    config = ClusterConfig()
    return tfidf(
        [
            features(b) + features(t) * config.title_weight + list(n) * config.name_weight
            for b, t, n in zip(corpus["bodies"], corpus["titles"], corpus["names"], strict=True)
        ]
    )


def pyvi_words(corpus: dict[str, Any]) -> sp.csr_matrix:
    """Vietnamese words from the pyvi segmenter instead of syllables (pairs of words kept).

    pyvi is not a dependency of dedup (it did not earn its place); ``pip install pyvi`` to
    measure it, otherwise the idea is skipped.
    """
    from pyvi import ViTokenizer

    def words(tokens: list[str]) -> list[str]:
        return ViTokenizer.tokenize(" ".join(tokens)).split() if tokens else []

    config = ClusterConfig()
    return tfidf(
        [
            document_features(
                words(b), words(t), n, title_weight=config.title_weight, name_weight=1
            )
            for b, t, n in zip(corpus["bodies"], corpus["titles"], corpus["names"], strict=True)
        ]
    )


def name_char_grams(corpus: dict[str, Any], n: int) -> sp.csr_matrix:
    """Character n-grams of each name sequence added (spelling variants of one name meet)."""

    def grams(row: int) -> list[str]:
        out = []
        for name in corpus["names"][row]:
            text = f" {name.removeprefix(NAME_PREFIX)} "
            out += [f"{NAME_PREFIX}#{text[i : i + n]}" for i in range(len(text) - n + 1)]
        return out

    return tfidf(shipped_docs(corpus, grams))


def lead_words(corpus: dict[str, Any], count: int) -> sp.csr_matrix:
    """The first ``count`` tokens of the body (the news lead) counted once more."""
    from dedup.shingle import features

    return tfidf(shipped_docs(corpus, lambda row: features(corpus["bodies"][row][:count])))


# ---- similarity ideas: (similarities, median, spread) -> similarities ----------------------


def _neighbours(similarity: np.ndarray, k: int) -> np.ndarray:
    off = similarity.copy()
    np.fill_diagonal(off, -1.0)
    near = np.zeros(off.shape, dtype=bool)
    near[np.arange(len(off))[:, None], np.argsort(-off, axis=1)[:, :k]] = True
    return near


def mutual_knn(similarity: np.ndarray, median: float, k: int) -> np.ndarray:
    """Pairs not among each other's ``k`` nearest fall to the background median."""
    near = _neighbours(similarity, k)
    keep = (near & near.T) | np.eye(len(near), dtype=bool)
    return np.where(keep, similarity, np.minimum(similarity, median))


def shared_neighbours(similarity: np.ndarray, k: int) -> np.ndarray:
    """Cosine times the square root of the shared fraction of ``k`` nearest neighbours."""
    near = (_neighbours(similarity, k) | np.eye(len(similarity), dtype=bool)).astype(np.float64)
    return similarity * np.sqrt((near @ near.T) / (k + 1))


def local_background(similarity: np.ndarray, median: float, spread: float) -> np.ndarray:
    """Each pair scored against both articles' own background (mean of their robust z)."""
    off = similarity.copy()
    np.fill_diagonal(off, np.nan)
    centre = np.nanmedian(off, axis=1)
    scale = np.nanmedian(np.abs(off - centre[:, None]), axis=1) * _MAD_TO_SD
    scale = np.where(scale > 0, scale, spread)
    z = (similarity - centre[:, None]) / scale[:, None]
    return median + spread * (z + z.T) / 2


# ---- the runner ----------------------------------------------------------------------------


def cluster_rows(
    corpus: dict[str, Any],
    matrix: sp.csr_matrix,
    transform: Callable[..., np.ndarray] | None = None,
    method: str = "average",
    strays: bool = ClusterConfig().attach_strays,
    split: bool = True,
) -> tuple[np.ndarray, np.ndarray, Callable[[float], np.ndarray], float]:
    """Stories and events at the derived heights, a cut at any height, the story height.

    With ``split`` (shipped), merged stories are parted as :mod:`dedup.splits` does.
    """
    config = ClusterConfig(attach_strays=strays)
    event_cut, story_cut = cluster.cut_heights(sp.csr_matrix(matrix, dtype=np.float32), config)
    similarity = (matrix @ matrix.T).toarray().astype(np.float64)
    median, spread = cluster.background_similarity(matrix) or (0.0, 1.0)
    if transform is not None:
        similarity = transform(similarity, median, spread)
        pairs = similarity[np.triu_indices(len(similarity), 1)]
        median = float(np.median(pairs))
        spread = float(np.median(np.abs(pairs - median))) * _MAD_TO_SD or float(pairs.std())
        low, high = config.height_band
        story_cut = float(np.clip(1 - (median + config.story_z * spread), low, high))
        event_cut = min(
            story_cut, float(np.clip(1 - (median + config.event_z * spread), low, high))
        )
    distances = np.clip(1.0 - similarity, 0.0, 1.0)
    np.fill_diagonal(distances, 0.0)
    tree = linkage(squareform(distances, checks=False), method)
    stories = fcluster(tree, story_cut + 1e-9, criterion="distance")
    if strays:
        stories = attach_strays(stories, *dense_pairs(distances, story_cut))
    if split:  # on the features' cosine, as shipped (whatever ``transform`` did)
        stories = split_merged(matrix, stories, median, max_rows=2000, cut=1 - story_cut)
    helper = cluster.EventStoryClusterer(config)
    days = np.array([cluster._days(p) for p in corpus["published"]])
    events = np.zeros(len(stories), dtype=np.int64)
    next_event = 0
    for story in np.unique(stories):
        rows = np.flatnonzero(stories == story)
        inside = helper._with_dates(distances[np.ix_(rows, rows)], days[rows])
        for part in helper._split(inside, event_cut, strays=strays):
            events[rows[part]] = next_event
            next_event += 1

    def cut(height: float) -> np.ndarray:
        """Story labels at a fixed height (strays attached as configured)."""
        labels = fcluster(tree, height + 1e-9, criterion="distance")
        if strays:
            labels = attach_strays(labels, *dense_pairs(distances, height))
        if not split:
            return labels
        return split_merged(matrix, labels, median, max_rows=2000, cut=1 - height)

    return stories, events, cut, story_cut


def shipped(corpus: dict[str, Any]) -> sp.csr_matrix:
    """The shipped features."""
    return tfidf(shipped_docs(corpus))


IDEAS: dict[str, dict[str, Any]] = {
    "shipped": {"matrix": shipped},
    "without_strays": {"strays": False},
    "without_split": {"split": False},
    "pmi_pairs": {"matrix": pmi_pairs},
    "pyvi_words": {"matrix": pyvi_words},
    **{f"name_char_{n}grams": {"matrix": lambda c, n=n: name_char_grams(c, n)} for n in (3, 4)},
    **{f"lead_{n}_words": {"matrix": lambda c, n=n: lead_words(c, n)} for n in (50, 100)},
    **{
        f"mutual_knn_{k}": {"transform": lambda s, m, sd, k=k: mutual_knn(s, m, k)}
        for k in (5, 10, 20)
    },
    **{
        f"shared_neighbours_{k}": {"transform": lambda s, m, sd, k=k: shared_neighbours(s, k)}
        for k in (10, 40)
    },
    "local_background": {"transform": local_background},
    "complete_link": {"method": "complete"},
    "weighted_link": {"method": "weighted"},
}


def measure(idea: str, corpora: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """One idea on every corpus given: F1 at the derived cut, the oracle F1, the seconds."""
    spec = IDEAS[idea]
    row: dict[str, Any] = {"idea": idea}
    for name, levels in CASES:
        if name not in corpora:
            continue
        corpus = corpora[name]
        start = time.perf_counter()
        matrix = spec.get("matrix", shipped)(corpus)
        runner = spec.get("cluster")  # an idea that replaces the whole clustering
        stories, events, cut, story_cut = (
            runner(corpus, matrix)
            if runner
            else cluster_rows(
                corpus,
                matrix,
                spec.get("transform"),
                spec.get("method", "average"),
                spec.get("strays", ClusterConfig().attach_strays),
                spec.get("split", True),
            )
        )
        row[f"{name}/seconds"] = round(time.perf_counter() - start, 2)
        for level in levels:
            key = f"{name.removesuffix('.jsonl')}/{level}"
            row[key] = round(f1(corpus, events if level == "event" else stories, level), 4)
            row[f"{key}/oracle"] = round(
                max(f1(corpus, cut(t), level) for t in (*GRID, story_cut)), 4
            )
    return row


def main(argv: list[str] | None = None, extra: dict[str, dict[str, Any]] | None = None) -> int:
    """Measure the chosen ideas beside the shipped defaults; print a table and JSON lines.

    ``extra`` ideas (another script's) are registered and measured unless ``--ideas`` is given.
    """
    IDEAS.update(extra or {})
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="folder of the corpora")
    parser.add_argument(
        "--ideas", default=",".join(extra or IDEAS), help=f"comma-separated, of: {', '.join(IDEAS)}"
    )
    parser.add_argument(
        "--corpora",
        default=",".join(name for name, _ in CASES),
        help="comma-separated corpus files of --data (default: all three)",
    )
    parser.add_argument("--repeat", type=int, default=1, help="runs per idea (median seconds)")
    args = parser.parse_args(argv)
    ideas = ["shipped", *(i for i in args.ideas.split(",") if i and i != "shipped")]
    unknown = [i for i in ideas if i not in IDEAS]
    if unknown:
        parser.error(f"unknown ideas: {', '.join(unknown)}")
    if "pyvi_words" in ideas and importlib.util.find_spec("pyvi") is None:
        print("pyvi_words skipped: pyvi is not installed", file=sys.stderr)
        ideas.remove("pyvi_words")
    chosen = args.corpora.split(",")
    corpora = {name: capture(load(args.data / name)) for name, _ in CASES if name in chosen}
    rows = []
    for idea in ideas:
        runs = [measure(idea, corpora) for _ in range(max(args.repeat, 1))]
        row = runs[0]
        for key in row:
            if key.endswith("/seconds"):
                row[key] = statistics.median(r[key] for r in runs)
        rows.append(row)
    base = rows[0]
    scores = [k for k in base if "/" in k and not k.endswith(("/seconds", "/oracle"))]
    timed = next(k for k in base if k.endswith("/seconds"))  # ViMs when measured
    print("| idea | " + " | ".join(scores) + f" | {timed} |", file=sys.stderr)
    print("|---" * (len(scores) + 2) + "|", file=sys.stderr)
    for row in rows:
        row["difference"] = {k: round(row[k] - base[k], 4) for k in scores}
        row["seconds_ratio"] = round(row[timed] / max(base[timed], 1e-9), 2)
        cells = [f"{row[k]:.4f} ({row['difference'][k]:+.4f})" for k in scores]
        print(f"| {row['idea']} | " + " | ".join(cells) + f" | {row[timed]:.1f} |", file=sys.stderr)
        print(json.dumps(row, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
