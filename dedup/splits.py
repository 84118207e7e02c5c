"""Merged stories: clusters that average link joined across two subjects, cut apart again.

Average link merges two groups when their mean similarity reaches the cut. Two stories of one
kind (two fires, two drug busts, two football call-ups) share enough vocabulary to reach it,
although each story is far denser inside than the link between them. So each cluster is tried
at the top merge of its own average-link tree: the two parts are kept apart when the mean
similarity across them (``c``) lies closer to the corpus' background (the median similarity of
two articles, ``m``) than to the looser part's own mean similarity of its pairs (``a``):
``c - m < a - c``. The link between the parts is then nearer chance than what holds either
part together. Accepted parts are tried again the same way.

Each part must hold at least three articles (three pairs): a part of two has one pair, so
its "density" is a single similarity, often a near-copy's, which would part any small cluster
holding a copied pair (measured: with parts of two allowed, ViMs subsamples and ECB+ topic
pairs lost such splits; ``benchmarks/quality_ideas_refine.py``). Otherwise no new constant:
the background median is the one the cut heights come from
(:func:`dedup.cluster.background_similarity`), and the rule compares the clusters' own
densities. A cluster whose parts are about as close across as within (one story told from
several angles, whose links stand far above chance) stays whole.

A cluster that could hold two typical stories of its corpus is held to a stricter bar: when
both parts are at least as large as the story a median article of the corpus sits in (its
cluster size weighted by articles, and three), the parts are also kept apart when the link
across lies closer to the corpus' story cut (the similarity average link had to reach) than to
the looser part's density: ``c - cut < a - c``. Where stories hold three articles (KTLAB),
two of one kind merged at a link just past the cut (a plane crash and its black box found)
are parted; where one story holds a dozen (an ECB+ event), halves of one event told from two
angles are not candidates, as neither half is a typical story.
"""

from __future__ import annotations

import threading

import numpy as np
import scipy.sparse as sp
from scipy.cluster.hierarchy import linkage
from scipy.spatial.distance import squareform

from .dendrogram import top_merge_side
from .pairs import used_columns

_MIN_PART_ROWS = 3  # a part's density needs three pairs (a part of two has a single pair)


def _top_split(similarity: np.ndarray) -> np.ndarray:
    """The part (0 or 1) of each row at the top merge of the rows' average-link tree.

    The last merge's two sides, taken from the tree itself (a cut into two clusters by
    height would find none when the top merges tie).
    """
    distances = np.clip(1.0 - similarity, 0.0, 1.0)
    np.fill_diagonal(distances, 0.0)
    tree = linkage(squareform(distances, checks=False), method="average")
    return top_merge_side(tree)


def _mean_within(similarity: np.ndarray) -> float:
    """Mean similarity of the distinct pairs of a square block (its diagonal left out)."""
    n = len(similarity)
    return float((similarity.sum() - np.trace(similarity)) / (n * (n - 1)))


def split_parts(
    similarity: np.ndarray,
    background: float,
    *,
    cut: float | None = None,
    typical_rows: float = float("inf"),
) -> np.ndarray:
    """Cut one cluster at its top merges while the parts stand apart (see the module doc).

    Args:
        similarity: Cosine similarities of the cluster's articles (square, symmetric, 0-1).
        background: The corpus' median pair similarity (0-1).
        cut: The story cut as a similarity (0-1; ``1 - story height``), for the parts of at
            least ``typical_rows`` articles; None leaves only the background rule.
        typical_rows: Size of a typical story of the corpus (articles, 3 or more).

    Returns:
        A part number (0-based) for each article; all 0 when the cluster stays whole.

    Example:
        >>> group = np.repeat(np.repeat(np.eye(2), 3, axis=0), 3, axis=1)  # 3 + 3 articles
        >>> block = np.where(group > 0, 0.8, 0.1)
        >>> split_parts(block, 0.0).tolist()
        [0, 0, 0, 1, 1, 1]
        >>> split_parts(np.where(group > 0, 0.8, 0.45), 0.0).tolist()
        [0, 0, 0, 0, 0, 0]
    """
    parts = np.zeros(len(similarity), dtype=np.int64)
    pending = [np.arange(len(similarity))]
    count = 1
    while pending:
        rows = pending.pop()
        if len(rows) < 2 * _MIN_PART_ROWS:
            continue
        side = _top_split(similarity[np.ix_(rows, rows)])
        one, two = rows[side == 0], rows[side == 1]
        if min(len(one), len(two)) < _MIN_PART_ROWS:
            continue
        looser = min(
            _mean_within(similarity[np.ix_(one, one)]), _mean_within(similarity[np.ix_(two, two)])
        )
        across = float(similarity[np.ix_(one, two)].mean())
        stricter = cut is not None and min(len(one), len(two)) >= typical_rows
        if across - background < looser - across or (stricter and across - cut < looser - across):
            parts[two] = count
            count += 1
            pending += [one, two]
    return parts


def typical_story_rows(labels: np.ndarray) -> float:
    """The size of the cluster a median row sits in (cluster sizes weighted by rows), and 3.

    Example:
        >>> typical_story_rows(np.array([0, 0, 0, 1, 1, 1, 2, 2, 2, 2, 2, 2, 3]))
        3.0
        >>> typical_story_rows(np.repeat(np.arange(3), 12))
        12.0
    """
    _, counts = np.unique(labels, return_counts=True)
    if not len(counts):
        return float(_MIN_PART_ROWS)
    return max(float(_MIN_PART_ROWS), float(np.median(np.repeat(counts, counts))))


def blocks_typical_rows(n: int, blocks: list[np.ndarray], linked: list[np.ndarray]) -> float:
    """:func:`typical_story_rows` of a corpus' stories given block by block (n rows).

    ``linked`` holds each block's story labels; a row in no block is a story of its own.
    """
    labels = np.arange(n, dtype=np.int64)
    offset = n
    for rows, block_labels in zip(blocks, linked, strict=True):
        labels[rows] = offset + np.asarray(block_labels, dtype=np.int64)
        offset += int(np.max(block_labels)) + 1 if len(block_labels) else 0
    return typical_story_rows(labels)


def dense_similarity(rows: sp.csr_matrix, *, compiled: bool = False) -> np.ndarray:
    """Cosine similarities of the rows (float64, square): their float32 products, widened.

    Entry ``(i, j)`` is summed over row ``i``'s entries in their order, so it does not
    depend on which other rows are multiplied along (a block's similarities hold each
    cluster's own, bit for bit). With ``compiled`` (numba installed), the same bits by
    :func:`_compiled_similarity`.
    """
    if compiled and _compilable(rows):
        return _compiled_similarity(rows, np.arange(rows.shape[0]))
    block = used_columns(rows)  # the product costs no corpus-wide column
    return (block @ block.T).toarray().astype(np.float64)


def _compilable(matrix: sp.csr_matrix) -> bool:
    """Whether :func:`_compiled_similarity` takes ``matrix`` (float32, sorted indices)."""
    return matrix.dtype == np.float32 and matrix.has_sorted_indices


def _compiled_similarity(matrix: sp.csr_matrix, rows: np.ndarray) -> np.ndarray:
    """:func:`dense_similarity` of ``matrix[rows]`` by one compiled loop, the same bits.

    :func:`dedup.kernels.dense_products` reads the rows in place: no copy of them, no
    renumbered columns and no scipy product, about a millisecond less for each of the
    thousands of small blocks of a large corpus. ``matrix``: float32, sorted indices.
    """
    from . import kernels

    local = getattr(_scratch, "local", None)
    if local is None or len(local) != matrix.shape[1]:
        local = _scratch.local = np.full(matrix.shape[1], -1, dtype=np.int32)
    out = np.zeros((len(rows), len(rows)), dtype=np.float32)
    rows = np.asarray(rows, dtype=np.int64)
    kernels.dense_products(matrix.indptr, matrix.indices, matrix.data, rows, local, out)
    return out.astype(np.float64)


def block_similarity(
    matrix: sp.csr_matrix, rows: np.ndarray, *, compiled: bool = False
) -> np.ndarray:
    """:func:`dense_similarity` of ``matrix[rows]``, the same bits.

    With ``compiled`` (numba installed), the rows are read in place: no copy of them.
    """
    if compiled and _compilable(matrix):
        return _compiled_similarity(matrix, np.asarray(rows))
    return dense_similarity(matrix[rows])


def within_clusters(similarity: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """The similarities among the rows of each cluster, packed: what the events pass reads.

    Each cluster's square (clusters by label, rows in order), one after the other, as float32:
    :func:`dense_similarity`'s values are float32 products widened, so nothing is lost.
    :func:`unpacked_within_clusters` gives them back. A block of the pair graph often chains
    many stories: its stories' squares are a fraction of its own.
    """
    pieces = [similarity[np.ix_(members, members)].ravel() for members in _clusters_of(labels)]
    return np.concatenate([np.zeros(0, dtype=np.float32), *pieces], dtype=np.float32)


def unpacked_within_clusters(packed: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """The square similarities :func:`within_clusters` packed, float64; NaN across clusters.

    What :func:`split_merged` and the events inside each story read of a block's
    similarities: each cluster's own, bit for bit.
    """
    similarity = np.full((len(labels), len(labels)), np.nan)
    at = 0
    for members in _clusters_of(labels):
        size = len(members) ** 2
        similarity[np.ix_(members, members)] = packed[at : at + size].reshape(len(members), -1)
        at += size
    return similarity


def _clusters_of(labels: np.ndarray) -> list[np.ndarray]:
    """The positions of each cluster of ``labels`` (ascending), clusters by label."""
    order = np.argsort(labels, kind="stable")
    return np.split(order, np.flatnonzero(np.diff(labels[order])) + 1) if len(labels) else []


_scratch = threading.local()  # dense_similarity's column numbers, one array per thread


def split_merged(
    matrix: sp.csr_matrix | None,
    labels: np.ndarray,
    background: float,
    *,
    max_rows: int,
    cut: float | None = None,
    typical_rows: float | None = None,
    similarity: np.ndarray | None = None,
) -> np.ndarray:
    """Cut every cluster that two subjects share (see the module doc).

    Args:
        matrix: L2-normalized TF-IDF rows (n x terms); not read (None will do) when
            ``similarity`` is given.
        labels: Cluster of each row (n integers).
        background: The corpus' median pair similarity (0-1).
        max_rows: Clusters larger than this stay whole (each split costs a dense matrix of the
            cluster's size squared).
        cut: The story cut as a similarity (``1 - story height``, 0-1): parts at least as
            large as a typical story are also parted when their link is nearer it than their
            density; None: never.
        typical_rows: The typical story's size (articles, 3 or more); None:
            :func:`typical_story_rows` of ``labels`` (give it when ``labels`` are a part of
            the corpus, such as one block).
        similarity: The rows' dense similarities (n x n float64, as
            :func:`dense_similarity` gives them) when already computed; each cluster's
            own product otherwise (the same values: a product's entry depends on its two
            rows alone).

    Returns:
        New labels (n integers, not renumbered): each part split off takes a fresh label.
    """
    labels = np.asarray(labels, dtype=np.int64)
    result = labels.copy()
    if not len(labels):
        return result
    _, inverse, counts = np.unique(labels, return_inverse=True, return_counts=True)
    members = np.split(np.argsort(inverse, kind="stable"), np.cumsum(counts)[:-1])
    fresh = int(labels.max()) + 1
    typical = typical_story_rows(labels) if typical_rows is None else typical_rows
    for rows in members:
        if not 2 * _MIN_PART_ROWS <= len(rows) <= max_rows:
            continue
        if similarity is not None:
            own = similarity[np.ix_(rows, rows)]
        elif matrix is not None:
            own = dense_similarity(matrix[rows])
        else:
            raise ValueError("split_merged needs the matrix or the similarities")
        parts = split_parts(own, background, cut=cut, typical_rows=typical)
        for part in range(1, int(parts.max()) + 1):
            result[rows[parts == part]] = fresh
            fresh += 1
    return result
