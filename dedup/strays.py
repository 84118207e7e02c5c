"""Strays: articles average linkage leaves alone although a related article stands in a cluster.

Average linkage joins an article to a cluster when its *average* similarity to the members
reaches the cut. A cluster of many articles about one event, written from different angles
(a court sentence, then the reactions, then the appeal), has a low average similarity to an
article that is close to only a few of its members, so that article is left on its own,
although its nearest neighbour is related to it by the cut's own standard (the pair is at
least as similar as the cut demands of related articles). Such a *stray* (an article alone in
its cluster) joins the cluster of its most similar neighbour, when that neighbour is in a
cluster of two or more articles and the pair reaches the cut; this is how DBSCAN assigns its
border points to the cluster of a core point within reach. No new constant: the reach is the
cut itself. An article with no pair at the cut stays alone, and clusters of two or more never
move, so a corpus where average linkage already groups every related article is unchanged.

Strays are attached to the clusters as average linkage left them (one pass, in no order), so
the result does not depend on the order of the articles.
"""

from __future__ import annotations

import numpy as np


def attach_strays(
    labels: np.ndarray, first: np.ndarray, second: np.ndarray, similarity: np.ndarray
) -> np.ndarray:
    """Move each stray into the cluster of its most similar neighbour (see the module doc).

    Args:
        labels: Cluster of each article (any integers), as average linkage cut them.
        first: One article of each related pair (a pair at least as similar as the cut).
        second: The other article of each pair (``first[k] != second[k]``).
        similarity: Cosine similarity of each pair (0-1).

    Returns:
        New labels: a stray takes its best neighbour's label (the lowest article position
        among equally similar neighbours); every other article keeps its own.

    Example:
        >>> attach_strays(np.array([0, 0, 1, 2]), np.array([1, 2]), np.array([2, 3]),
        ...               np.array([0.3, 0.5])).tolist()
        [0, 0, 0, 2]
    """
    labels = np.asarray(labels)
    result = labels.copy()
    if not len(first):
        return result
    _, inverse, counts = np.unique(labels, return_inverse=True, return_counts=True)
    size = counts[inverse]
    # Both directions: (stray, neighbour in a cluster of two or more, similarity).
    stray = np.concatenate([first, second])
    neighbour = np.concatenate([second, first])
    weight = np.concatenate([similarity, similarity])
    usable = (size[stray] == 1) & (size[neighbour] > 1)
    stray, neighbour, weight = stray[usable], neighbour[usable], weight[usable]
    if not len(stray):
        return result
    # Best neighbour per stray: highest similarity, then lowest position.
    order = np.lexsort((neighbour, -weight, stray))
    stray, neighbour = stray[order], neighbour[order]
    best = np.flatnonzero(np.r_[True, stray[1:] != stray[:-1]])
    result[stray[best]] = labels[neighbour[best]]
    return result


def dense_pairs(
    distances: np.ndarray, threshold: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The pairs of a square distance matrix within ``threshold``, as :func:`attach_strays` takes.

    Args:
        distances: Symmetric cosine distances (0-1; 1 for pairs that may never join).
        threshold: The cut height (cosine distance, 0-1).

    Returns:
        ``(first, second, similarity)`` of the pairs ``first < second`` at distance at most
        ``threshold`` (with the same hair of slack the cut allows).
    """
    first, second = np.nonzero(np.triu(distances <= threshold + 1e-9, 1))
    return first, second, 1.0 - distances[first, second]
