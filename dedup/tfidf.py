"""TF-IDF of token lists without building feature strings: the fast path of clustering.

:func:`count_matrix` gives exactly the count matrix scikit-learn's ``CountVectorizer`` gives
for the features of :func:`dedup.shingle.features` (every token and every pair of adjacent
tokens, title features counted ``title_weight`` extra times), columns in the same sorted
order, but counts with numpy on integer ids: a pair of adjacent tokens is a pair of ids,
and only the distinct features of the whole corpus are turned into strings (for sorting and
naming). ``tests/test_tfidf.py`` checks it against ``TfidfVectorizer`` on real articles.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction.text import TfidfTransformer


def _ids(docs: Sequence[Sequence[str]], vocabulary: dict[str, int]) -> list[np.ndarray]:
    """Token ids of each document (new tokens added to ``vocabulary``)."""
    out = []
    for tokens in docs:
        ids = [vocabulary.setdefault(t, len(vocabulary)) for t in tokens]
        out.append(np.array(ids, dtype=np.int64))
    return out


def _feature_keys(ids: list[np.ndarray], width: int) -> tuple[np.ndarray, np.ndarray]:
    """Feature keys (token id, or ``width + first * width + second`` for a pair) and owners."""
    lengths = np.array([len(x) for x in ids], dtype=np.int64)
    flat = np.concatenate([np.zeros(0, dtype=np.int64), *ids])
    owner = np.repeat(np.arange(len(ids)), lengths)
    same_doc = owner[1:] == owner[:-1] if len(flat) else np.zeros(0, dtype=bool)
    pairs = width + flat[:-1][same_doc] * width + flat[1:][same_doc]
    keys = np.concatenate([flat, pairs])
    owners = np.concatenate([owner, owner[:-1][same_doc]])
    return keys, owners


def count_matrix(
    bodies: Sequence[Sequence[str]], titles: Sequence[Sequence[str]], *, title_weight: int
) -> tuple[sp.csr_matrix, np.ndarray]:
    """Feature counts (documents x features, float32) and the sorted feature names."""
    n = len(bodies)
    vocabulary: dict[str, int] = {}
    body_ids = _ids(bodies, vocabulary)
    title_ids = _ids(titles, vocabulary) if title_weight else [np.zeros(0, np.int64)] * n
    width = max(len(vocabulary), 1)
    body_keys, body_owner = _feature_keys(body_ids, width)
    title_keys, title_owner = _feature_keys(title_ids, width)
    keys = np.concatenate([body_keys, title_keys])
    owners = np.concatenate([body_owner, title_owner])
    weights = np.concatenate(
        [np.ones(len(body_keys), np.int64), np.full(len(title_keys), title_weight, np.int64)]
    )
    distinct, feature = np.unique(keys, return_inverse=True)
    del keys, body_keys, body_owner, title_keys, title_owner  # memory: the large arrays go early
    tokens = np.array(list(vocabulary), dtype=object)
    is_pair = distinct >= width
    names = np.empty(len(distinct), dtype=object)
    names[~is_pair] = tokens[distinct[~is_pair]]
    pair = distinct[is_pair] - width
    names[is_pair] = tokens[pair // width] + " " + tokens[pair % width]
    order = sorted(range(len(names)), key=names.__getitem__)  # str order, as scikit-learn
    column = np.empty(len(order), dtype=np.int64)
    column[order] = np.arange(len(order))
    cell_keys = owners * len(distinct) + column[feature]
    del owners, feature
    cells, inverse = np.unique(cell_keys, return_inverse=True)
    del cell_keys
    totals = np.bincount(inverse, weights=weights, minlength=len(cells))
    matrix = sp.csr_matrix(
        (totals.astype(np.float32), (cells // len(distinct), cells % len(distinct))),
        shape=(n, len(distinct)),
        dtype=np.float32,
    )
    matrix.sort_indices()
    return matrix, names[order]


def tfidf_from_tokens(
    bodies: Sequence[Sequence[str]], titles: Sequence[Sequence[str]], *, title_weight: int
) -> tuple[sp.csr_matrix, np.ndarray]:
    """L2-normalized sublinear TF-IDF, as ``TfidfVectorizer(sublinear_tf=True)`` computes it."""
    counts, names = count_matrix(bodies, titles, title_weight=title_weight)
    matrix = TfidfTransformer(sublinear_tf=True).fit(counts).transform(counts, copy=False)
    return sp.csr_matrix(matrix), names
