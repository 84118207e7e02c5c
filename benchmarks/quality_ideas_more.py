"""More clustering ideas, measured with ``quality_ideas.py``'s runner beside the shipped defaults.

These target the merges of two stories of one kind (two fires, two attacks of one group) and
the splits of one event into a large piece and small ones. Each idea is registered in
``quality_ideas.IDEAS``, so it clusters the same captured inputs, reports the F1 at its
corpus-derived cut and the oracle F1, and is compared with ``shipped`` in the same run:

* ``title_weight_0``/``_1``: the title counted 0 or 1 extra times (shipped: 2).
* ``numbers_once_more``: tokens holding a digit (counts, amounts, dates) counted once more.
* ``word_triples``: adjacent token triples added to tokens and pairs.
* ``names_mix_25``, ``title_mix_25``: cosine = 0.75 x shipped + 0.25 x cosine of the names
  (or title) alone; the cut derived from the mixed similarities as shipped.
* ``centred_cosine``: cosine of the vectors minus the corpus mean (the common direction).
* ``centroid_two_level``: average link cut strictly (z 12), then clusters merge while the
  cosine of their summed vectors reaches the shipped cut (z 10).
* ``hdbscan_3``: scikit-learn HDBSCAN on cosine distances (min_cluster_size 3), no cut.
* ``story_z_N``: both cuts at ``N`` robust spreads above the median similarity (shipped 10).
* ``pieces_z_N``: after strays, a cluster joins the larger cluster it has the most pairs
  within the cut with, when those are at least as many as its own pairs within the cut (a
  piece split from a large event); both cuts at ``N`` spreads.
* ``centred_at_shipped_cut``: linkage on ``centred_cosine`` cut at the shipped heights (those
  of the plain cosine); ``centred_pieces_z_N``: the same with pieces attached, heights at z N.

Example::

    python benchmarks/quality_ideas_more.py --ideas pieces_z_11,title_weight_1

These were measured before the split of merged stories (:mod:`dedup.splits`) was shipped; the
``cluster`` ideas (``at_z`` and the others) do not apply it, so compare them with
``without_split`` of ``quality_ideas.py``.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp
from scipy.cluster.hierarchy import fcluster, linkage
from scipy.spatial.distance import squareform

sys.path.insert(0, str(Path(__file__).resolve().parent))

import quality_ideas as ideas

from dedup import cluster
from dedup.config import ClusterConfig
from dedup.features import document_features
from dedup.shingle import features
from dedup.strays import attach_strays, dense_pairs

Runner = tuple[np.ndarray, np.ndarray, Any, float]


def weighted(corpus: dict[str, Any], title_weight: int) -> sp.csr_matrix:
    """The shipped features with another title weight."""
    config = ClusterConfig()
    return ideas.tfidf(
        [
            document_features(b, t, n, title_weight=title_weight, name_weight=config.name_weight)
            for b, t, n in zip(corpus["bodies"], corpus["titles"], corpus["names"], strict=True)
        ]
    )


def numbers_once_more(corpus: dict[str, Any]) -> sp.csr_matrix:
    """Tokens holding a digit counted once more."""

    def numbers(row: int) -> list[str]:
        tokens = [*corpus["bodies"][row], *corpus["titles"][row]]
        return [t for t in tokens if any(ch.isdigit() for ch in t)]

    return ideas.tfidf(ideas.shipped_docs(corpus, numbers))


def word_triples(corpus: dict[str, Any]) -> sp.csr_matrix:
    """Adjacent token triples added to the shipped features."""

    def triples(row: int) -> list[str]:
        tokens = list(corpus["bodies"][row])
        return [" ".join(tokens[i : i + 3]) for i in range(len(tokens) - 2)]

    return ideas.tfidf(ideas.shipped_docs(corpus, triples))


def mixed(corpus: dict[str, Any], part: str, weight: float) -> sp.csr_matrix:
    """Blocks whose cosine is ``(1 - weight) x shipped + weight x cosine of one part``.

    An empty part (a corpus without titles) leaves its rows zero in that block.
    """
    if part == "names":
        docs = [list(n) for n in corpus["names"]]
    else:
        docs = [features(t) for t in corpus["titles"]]
    shipped = ideas.shipped(corpus)
    own = ideas.tfidf(docs) if any(docs) else sp.csr_matrix((shipped.shape[0], 1))
    return sp.hstack([np.sqrt(1 - weight) * shipped, np.sqrt(weight) * own], format="csr")


def centred(similarity: np.ndarray, median: float, spread: float) -> np.ndarray:
    """Cosine of the vectors minus their mean, from their Gram matrix (double centring)."""
    row = similarity.mean(axis=0)
    gram = similarity - row[None, :] - row[:, None] + row.mean()
    norms = np.sqrt(np.clip(np.diag(gram), 1e-12, None))
    return gram / norms[:, None] / norms[None, :]


def attach_pieces(labels: np.ndarray, first: np.ndarray, second: np.ndarray) -> np.ndarray:
    """Each cluster joins the larger cluster it has most pairs within the cut with.

    It moves when those pairs are at least as many as its own pairs within the cut (and at
    least one); decided on the clusters as given, then chains followed, so order-free.
    """
    unique, inverse = np.unique(np.asarray(labels), return_inverse=True)
    count = len(unique)
    size = np.bincount(inverse, minlength=count)
    ones = np.ones(len(first))
    links = sp.coo_matrix((ones, (inverse[first], inverse[second])), shape=(count, count))
    links = (links + links.T).toarray()
    own = np.diag(links) / 2
    np.fill_diagonal(links, 0)
    target = np.arange(count)
    for piece in range(count):
        reach = np.where(size > size[piece], links[piece], 0)
        best = int(np.argmax(reach))
        if reach[best] >= max(own[piece], 1):
            target[piece] = best
    for _ in range(count):  # follow chains (a target is always larger: no cycle)
        moved = target[target]
        if np.array_equal(moved, target):
            break
        target = moved
    return target[inverse]


def at_z(
    corpus: dict[str, Any], matrix: sp.csr_matrix, z: float, pieces: bool, centre: bool = False
) -> Runner:
    """Stories and events with both cuts at ``z`` spreads, optionally with pieces attached.

    With ``centre``, the linkage runs on the cosine of the centred vectors (:func:`centred`)
    while the cut heights stay those of the plain cosine (the shipped heights at z 10).
    """
    config = ClusterConfig(story_z=z, event_z=z)
    _, story_cut = cluster.cut_heights(sp.csr_matrix(matrix, dtype=np.float32), config)
    similarity = (matrix @ matrix.T).toarray().astype(np.float64)
    if centre:
        similarity = centred(similarity, 0.0, 1.0)
    distances = np.clip(1.0 - similarity, 0.0, 1.0)
    np.fill_diagonal(distances, 0.0)
    tree = linkage(squareform(distances, checks=False), "average")

    def cut(height: float) -> np.ndarray:
        labels = fcluster(tree, height + 1e-9, criterion="distance")
        first, second, similarity = dense_pairs(distances, height)
        labels = attach_strays(labels, first, second, similarity)
        return attach_pieces(labels, first, second) if pieces else labels

    stories = cut(story_cut)
    helper = cluster.EventStoryClusterer(config)
    days = np.array([cluster._days(p) for p in corpus["published"]])
    events = np.zeros(len(stories), dtype=np.int64)
    next_event = 0
    for story in np.unique(stories):
        rows = np.flatnonzero(stories == story)
        inside = helper._with_dates(distances[np.ix_(rows, rows)], days[rows])
        labels = np.zeros(len(rows), dtype=np.int64)
        for number, part in enumerate(helper._split(inside, story_cut, strays=True)):
            labels[part] = number
        if pieces:
            first, second, _ = dense_pairs(inside, story_cut)
            labels = attach_pieces(labels, first, second)
        for label in np.unique(labels):
            events[rows[labels == label]] = next_event
            next_event += 1
    return stories, events, cut, story_cut


def centroid_two_level(corpus: dict[str, Any], matrix: sp.csr_matrix) -> Runner:
    """Strict average link (z 12), then merges by the cosine of summed vectors (z 10 cut)."""
    strict, _, _, _ = at_z(corpus, matrix, 12.0, pieces=False)
    _, loose = cluster.cut_heights(sp.csr_matrix(matrix, dtype=np.float32), ClusterConfig())
    similarity = (matrix @ matrix.T).toarray().astype(np.float64)
    unique, inverse = np.unique(strict, return_inverse=True)
    member = np.zeros((len(unique), len(strict)))
    member[inverse, np.arange(len(strict))] = 1.0
    gram = member @ similarity @ member.T
    alive = np.ones(len(unique), dtype=bool)
    parent = np.arange(len(unique))
    while alive.sum() > 1:
        norms = np.sqrt(np.clip(np.diag(gram), 1e-12, None))
        cosine = gram / norms[:, None] / norms[None, :]
        np.fill_diagonal(cosine, -1.0)
        cosine[~alive] = cosine[:, ~alive] = -1.0
        a, b = np.unravel_index(np.argmax(cosine), cosine.shape)
        if cosine[a, b] < 1.0 - loose:
            break
        gram[a] += gram[b]
        gram[:, a] += gram[:, b]
        gram[b] = gram[:, b] = 0.0
        alive[b], parent[b] = False, a
    for _ in range(len(parent)):
        parent = parent[parent]
    stories = parent[inverse]
    return stories, stories, lambda height: stories, loose


def hdbscan(corpus: dict[str, Any], matrix: sp.csr_matrix, size: int) -> Runner:
    """scikit-learn HDBSCAN on cosine distances; noise points are their own clusters."""
    from sklearn.cluster import HDBSCAN

    distances = np.clip(1.0 - (matrix @ matrix.T).toarray().astype(np.float64), 0.0, 1.0)
    np.fill_diagonal(distances, 0.0)
    labels = HDBSCAN(min_cluster_size=size, min_samples=1, metric="precomputed", copy=True)
    found = labels.fit_predict(distances)
    found = np.where(found < 0, np.arange(len(found)) + len(found), found)
    return found, found, lambda height: found, 0.0


MORE: dict[str, dict[str, Any]] = {
    **{f"title_weight_{w}": {"matrix": lambda c, w=w: weighted(c, w)} for w in (0, 1)},
    "numbers_once_more": {"matrix": numbers_once_more},
    "word_triples": {"matrix": word_triples},
    **{f"{p}_mix_25": {"matrix": lambda c, p=p: mixed(c, p, 0.25)} for p in ("names", "title")},
    "centred_cosine": {"transform": centred},
    "centroid_two_level": {"cluster": centroid_two_level},
    "hdbscan_3": {"cluster": lambda c, m: hdbscan(c, m, 3)},
    **{
        f"story_z_{z}": {"cluster": lambda c, m, z=z: at_z(c, m, z, pieces=False)}
        for z in (11, 12, 12.5)
    },
    **{
        f"pieces_z_{z}": {"cluster": lambda c, m, z=z: at_z(c, m, z, pieces=True)}
        for z in (10, 11, 12, 12.5, 13)
    },
    "centred_at_shipped_cut": {"cluster": lambda c, m: at_z(c, m, 10.0, False, centre=True)},
    **{
        f"centred_pieces_z_{z}": {"cluster": lambda c, m, z=z: at_z(c, m, z, True, centre=True)}
        for z in (7.5, 10, 12.5)
    },
}


def main(argv: list[str] | None = None) -> int:
    """Register these ideas and run ``quality_ideas.main`` (all of them unless --ideas)."""
    return ideas.main(argv, extra=MORE)


if __name__ == "__main__":
    raise SystemExit(main())
