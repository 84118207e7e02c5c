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
    bodies: Sequence[Sequence[str]],
    titles: Sequence[Sequence[str]],
    names: Sequence[Sequence[str]] | None = None,
    *,
    title_weight: int,
    name_weight: int = 1,
) -> tuple[sp.csr_matrix, np.ndarray]:
    """Feature counts (documents x features, float32) and the sorted feature names.

    Args:
        bodies: Normalized tokens of each document.
        titles: Normalized tokens of each title; its tokens and pairs count ``title_weight`` times.
        names: Name-sequence features of each document (single features, no pairs), counted
            ``name_weight`` times; none when None.
        title_weight: 0-5.
        name_weight: 0-5.
    """
    n = len(bodies)
    vocabulary: dict[str, int] = {}
    empty = [np.zeros(0, np.int64)] * n
    body_ids = _ids(bodies, vocabulary)
    title_ids = _ids(titles, vocabulary) if title_weight else empty
    name_ids = _ids(names, vocabulary) if names is not None and name_weight else empty
    width = max(len(vocabulary), 1)
    body_keys, body_owner = _feature_keys(body_ids, width)
    title_keys, title_owner = _feature_keys(title_ids, width)
    name_lengths = np.array([len(x) for x in name_ids], dtype=np.int64)
    name_keys = np.concatenate([np.zeros(0, dtype=np.int64), *name_ids])
    name_owner = np.repeat(np.arange(n), name_lengths)
    keys = np.concatenate([body_keys, title_keys, name_keys])
    owners = np.concatenate([body_owner, title_owner, name_owner])
    weights = np.concatenate(
        [
            np.ones(len(body_keys), np.int64),
            np.full(len(title_keys), title_weight, np.int64),
            np.full(len(name_keys), name_weight, np.int64),
        ]
    )
    distinct, feature = np.unique(keys, return_inverse=True)
    del keys, body_keys, body_owner, title_keys, title_owner  # memory: the large arrays go early
    tokens = np.array(list(vocabulary), dtype=object)
    is_pair = distinct >= width
    labels = np.empty(len(distinct), dtype=object)
    labels[~is_pair] = tokens[distinct[~is_pair]]
    pair = distinct[is_pair] - width
    labels[is_pair] = tokens[pair // width] + " " + tokens[pair % width]
    order = sorted(range(len(labels)), key=labels.__getitem__)  # str order, as scikit-learn
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
    return matrix, labels[order]


def tfidf_from_tokens(
    bodies: Sequence[Sequence[str]],
    titles: Sequence[Sequence[str]],
    names: Sequence[Sequence[str]] | None = None,
    *,
    title_weight: int,
    name_weight: int = 1,
    min_df: int = 1,
) -> tuple[sp.csr_matrix, np.ndarray]:
    """L2-normalized sublinear TF-IDF, as ``TfidfVectorizer(sublinear_tf=True)`` computes it.

    With ``min_df`` 2 or more the IDF is unsmoothed, ``ln(n / df) + 1`` (n documents, df of them
    with the feature; ``smooth_idf=False``), not the smoothed ``ln((n + 1) / (df + 1)) + 1``:
    the phantom document smoothing adds flattens the weight of the rare *shared* features
    (names, pairs found in a handful of articles) that tell one event from another. With
    ``min_df`` 1 (corpora too small to drop terms) the features of a single article are kept,
    and the smoothed IDF keeps them from outweighing what articles share.

    Features found in fewer than ``min_df`` documents (1 or more) are dropped first, exactly as
    scikit-learn's ``TfidfVectorizer`` would after the same filter (``tests/test_tfidf.py``).
    """
    counts, feature_names = count_matrix(
        bodies, titles, names, title_weight=title_weight, name_weight=name_weight
    )
    if min_df > 1:
        keep = np.flatnonzero(np.bincount(counts.indices, minlength=counts.shape[1]) >= min_df)
        counts, feature_names = counts[:, keep], feature_names[keep]
    if counts.shape[1] == 0:  # no word anywhere (empty or punctuation-only articles)
        return sp.csr_matrix(counts.shape, dtype=np.float32), feature_names
    transformer = TfidfTransformer(sublinear_tf=True, smooth_idf=min_df < 2)
    matrix = transformer.fit(counts).transform(counts, copy=False)
    return sp.csr_matrix(matrix), feature_names
