"""Reading scipy's average-link trees (linkage matrices) without building tree objects.

``scipy.cluster.hierarchy.fcluster`` and ``to_tree`` check the whole linkage matrix on every
call, through layers of array-API dispatch, which costs about 0.1 ms even for a tree of three
rows. The blocks of a large corpus are mostly small (at a million articles, over half of 63,572
blocks have at most 8 rows), so these checks were a fifth of the blocks' second pass. The
functions here read the same matrix directly and give the same answers.

A linkage matrix of ``n`` rows has ``n - 1`` merges; merge ``i`` joins the nodes ``Z[i, 0]``
and ``Z[i, 1]`` (a row when below ``n``, else merge ``node - n``) at height ``Z[i, 2]``, into
node ``n + i``.
"""

from __future__ import annotations

import numpy as np


def flat_clusters(tree: np.ndarray, height: float) -> np.ndarray:
    """The rows' flat clusters cut at ``height``: ``fcluster(tree, height, "distance")``.

    Rows share a cluster when some merge holds both and no merge under it (itself included)
    is higher than ``height``.

    Args:
        tree: A linkage matrix of ``n`` rows (``n - 1`` by 4).
        height: Cut height (the same unit as the tree's heights).

    Returns:
        A label per row, 1 to the number of clusters, numbered in the order of each
        cluster's first row (the partition fcluster gives; its numbering may differ).
    """
    n = len(tree) + 1
    children = tree[:, :2].astype(np.int64).tolist()
    highest = tree[:, 2].tolist()  # the highest merge under each merge, itself included
    for i, (a, b) in enumerate(children):
        for child in (a, b):
            if child >= n and highest[child - n] > highest[i]:
                highest[i] = highest[child - n]
    owner = list(range(2 * n - 1))  # the top node of each node's cluster
    for i in range(n - 2, -1, -1):  # top down: a merge's owner is known before its children
        if highest[i] <= height:
            top = owner[n + i]
            owner[children[i][0]] = owner[children[i][1]] = top
    _, first_row, labels = np.unique(owner[:n], return_index=True, return_inverse=True)
    rank = np.empty(len(first_row), dtype=np.int64)
    rank[np.argsort(first_row, kind="stable")] = np.arange(1, len(first_row) + 1)
    return rank[labels.ravel()]


def top_merge_side(tree: np.ndarray) -> np.ndarray:
    """The side (0: the first node of the last merge, 1: the second) of each row.

    ``to_tree(tree).get_left().pre_order()`` are the rows of side 0.

    Args:
        tree: A linkage matrix of at least two rows.
    """
    n = len(tree) + 1
    side = np.ones(n, dtype=np.int64)
    children = tree[:, :2].astype(np.int64).tolist()
    stack = [children[-1][0]]
    while stack:
        node = stack.pop()
        if node < n:
            side[node] = 0
        else:
            stack.extend(children[node - n])
    return side
