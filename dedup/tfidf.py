"""TF-IDF of token-id arrays without building feature strings: the fast path of clustering.

:func:`count_matrix` gives exactly the count matrix scikit-learn's ``CountVectorizer`` gives
for the features of :func:`dedup.shingle.features` (every token and every pair of adjacent
tokens, title features counted ``title_weight`` extra times), columns in the same sorted
order, but counts with numpy on integer ids: a pair of adjacent tokens is a pair of ids,
and only the distinct features kept (found in ``min_df`` documents or more) are turned into
strings (for sorting and naming). Documents are counted in blocks, so the large per-token
arrays never span the corpus, and in two passes: the first keeps only each distinct feature's
document count (merged block by block), the second counts the blocks again and keeps the
matrix's rows (8 bytes an entry), put in CSR order by one sort of int64 keys that carry the
counts (not a lexsort). Holding every block's cells instead (16 bytes a cell, until the matrix
is built) cost twice the matrix. ``tests/test_tfidf.py`` checks it against
``TfidfVectorizer``.

Tokens are given either as strings or as :class:`Vocabulary` ids (the pipeline's form: an
int32 array per article costs 4 bytes a token, a list of strings 8 plus the strings).
"""

from __future__ import annotations

import itertools
import threading
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, overload

import numpy as np
import scipy.sparse as sp

from . import compiled as compiled_kernels
from .kept_entries import column_counts, row_ranges
from .memory import heap_reused

_BLOCK_TOKENS = 1_000_000  # tokens counted at once (about 50 MB of temporary arrays)
_MERGE_KEYS = 4_000_000  # distinct keys of blocks gathered before merging their counts
_COMPILED_KEYS = 1 << 20  # keys (entries) past which the compiled kernels serve (with numba)

Tokens = Sequence[str] | np.ndarray


class Vocabulary:
    """Token strings numbered in order of first sight (ids 0, 1, ...), shared across stages.

    Example:
        >>> vocabulary = Vocabulary()
        >>> vocabulary.ids(["tin", "mới", "tin"]).tolist()
        [0, 1, 0]
    """

    def __init__(self) -> None:
        self._index: defaultdict[str, int] = defaultdict(itertools.count().__next__)

    def __len__(self) -> int:
        return len(self._index)

    def ids(self, tokens: Iterable[str]) -> np.ndarray:
        """The ids of ``tokens`` (int32), numbering the new ones."""
        return np.fromiter(map(self._index.__getitem__, tokens), dtype=np.int32)

    def id_of(self, token: str) -> int | None:
        """The id of ``token``, or None when it has none (numbering nothing)."""
        return self._index.get(token)

    def tokens(self) -> np.ndarray:
        """Every token, indexed by id (object array)."""
        return np.array(list(self._index), dtype=object)


def _as_ids(docs: Sequence[Tokens], vocabulary: Vocabulary) -> list[np.ndarray]:
    """Token ids of each document (string tokens are numbered in ``vocabulary``)."""
    return [d if isinstance(d, np.ndarray) else vocabulary.ids(d) for d in docs]


def _block_cells(
    parts: list[tuple[list[np.ndarray], int, bool]], width: int, start: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Distinct (feature key, document) cells of one block of documents, with their counts.

    A feature counted ``weight`` times is repeated ``weight`` times, so a cell's count is how
    often its key occurs (a sort, no weighted sum: exact integers in float32).

    Args:
        parts: ``(ids per document, weight, with pairs)`` of the bodies, titles and names.
        width: Vocabulary size; a pair's key is ``width + first * width + second``.
        start: Index of the block's first document.

    Returns:
        ``(feature key, document, count)`` per cell, sorted by key then document.
    """
    size = max(len(parts[0][0]), 1)
    combined = [np.zeros(0, np.int64)]
    for ids, weight, with_pairs in parts:
        lengths = np.array([len(x) for x in ids], dtype=np.int64)
        flat = np.concatenate([np.zeros(0, dtype=np.int64), *ids]).astype(np.int64)
        owner = np.repeat(np.arange(len(ids), dtype=np.int64), lengths)
        if with_pairs and len(flat):
            same_doc = owner[1:] == owner[:-1]
            flat = np.concatenate([flat, width + flat[:-1][same_doc] * width + flat[1:][same_doc]])
            owner = np.concatenate([owner, owner[:-1][same_doc]])
        cell = flat * size + owner
        combined.append(np.repeat(cell, weight) if weight > 1 else cell)
    cells = np.concatenate(combined)
    cells.sort()
    first = np.flatnonzero(np.concatenate([[True], cells[1:] != cells[:-1]])) if len(cells) else []
    counts = np.diff(np.append(first, len(cells))).astype(np.float32)
    cells = cells[first]
    return cells // size, (cells % size + start).astype(np.int32), counts


def _blocks(lengths: list[int], width: int) -> list[tuple[int, int]]:
    """Document ranges of about ``_BLOCK_TOKENS`` tokens whose cell keys fit in int64."""
    most_docs = max(1, 2**62 // (width * (width + 1) + 1))
    edges, tokens = [0], 0
    for i, length in enumerate(lengths):
        full = tokens + length > _BLOCK_TOKENS or i - edges[-1] >= most_docs
        if full and i > edges[-1]:
            edges.append(i)
            tokens = 0
        tokens += length
    if edges[-1] < len(lengths):
        edges.append(len(lengths))
    return list(itertools.pairwise(edges))


def _distinct_keys(
    cells: tuple[np.ndarray, np.ndarray, np.ndarray],
) -> tuple[np.ndarray, np.ndarray]:
    """The distinct feature keys of one block's cells and how many documents hold each.

    Each cell is one document's, so a key's document count is its number of cells (the
    cells are sorted by key).
    """
    keys = cells[0]
    first = np.flatnonzero(np.concatenate([[True], keys[1:] != keys[:-1]]))[: len(keys)]
    return keys[first], np.diff(np.append(first, len(keys))).astype(np.int64)


def _merge_counts(parts: list[tuple[np.ndarray, np.ndarray]]) -> tuple[np.ndarray, np.ndarray]:
    """Merge ``(sorted distinct keys, counts)`` parts into one: keys sorted, counts summed.

    ``parts`` is emptied (its arrays are freed as soon as they are joined).
    """
    if sum(len(k) for k, _ in parts) >= _COMPILED_KEYS and compiled_kernels.available():
        return _merged_compiled(parts)
    keys = np.concatenate([np.zeros(0, np.int64), *(k for k, _ in parts)])
    counts = np.concatenate([np.zeros(0, np.int64), *(c for _, c in parts)])
    parts.clear()
    order = np.argsort(keys, kind="stable")
    keys, counts = keys[order], counts[order]
    del order
    first = np.flatnonzero(np.concatenate([[True], keys[1:] != keys[:-1]]))[: len(keys)]
    return keys[first], np.add.reduceat(counts, first) if len(first) else counts


def _merged_compiled(parts: list[tuple[np.ndarray, np.ndarray]]) -> tuple[np.ndarray, np.ndarray]:
    """:func:`_merge_counts` by compiled merges of two runs at a time (linear, not a sort).

    The later parts (a few blocks' keys) are merged as a tree, then with the first (all the
    keys merged so far), which is so read once.
    """
    from . import kernels

    def merged(
        a: tuple[np.ndarray, np.ndarray], b: tuple[np.ndarray, np.ndarray]
    ) -> tuple[np.ndarray, np.ndarray]:
        keys = np.empty(len(a[0]) + len(b[0]), dtype=np.int64)
        counts = np.empty(len(keys), dtype=np.int64)
        n = kernels.merge_counts(a[0], a[1], b[0], b[1], keys, counts)
        return keys[:n].copy(), counts[:n].copy()

    first, later = parts[0], parts[1:]
    parts.clear()
    while len(later) > 1:
        pairs = [merged(later[i], later[i + 1]) for i in range(0, len(later) - 1, 2)]
        later = pairs + later[len(pairs) * 2 :]
    return merged(first, later[0]) if later else first


def _frequent_features(
    found: Iterable[tuple[np.ndarray, np.ndarray]], width: int, min_df: int
) -> tuple[np.ndarray, np.ndarray]:
    """The token ids and the pair keys found in at least ``min_df`` documents (sorted).

    Args:
        found: ``(distinct keys, documents holding each)`` of each block of documents
            (:func:`_distinct_keys`), merged as they come: what is held is one entry per
            distinct key of the corpus, not one per cell.
        width: Vocabulary size (keys below it are tokens, the others pairs).
        min_df: 1 or more.
    """
    merged: tuple[np.ndarray, np.ndarray] = (np.zeros(0, np.int64), np.zeros(0, np.int64))
    pending: list[tuple[np.ndarray, np.ndarray]] = []
    waiting = 0
    for keys, counts in found:
        pending.append((keys, counts))
        waiting += len(keys)
        if waiting > max(len(merged[0]), _MERGE_KEYS):  # merged work stays O(n log n)
            parts = [merged, *pending]
            pending.clear()
            merged = _merge_counts(parts)
            waiting = 0
    keys, counts = _merge_counts([merged, *pending])
    frequent = keys[counts >= max(min_df, 1)]
    split = np.searchsorted(frequent, width)
    return frequent[:split], frequent[split:]


def _position(sorted_keys: np.ndarray, queries: np.ndarray) -> np.ndarray:
    """Index of each query in ``sorted_keys`` (distinct, ascending), or -1 when absent."""
    if not len(sorted_keys):
        return np.full(len(queries), -1, dtype=np.int64)
    at = np.minimum(np.searchsorted(sorted_keys, queries), len(sorted_keys) - 1)
    return np.where(sorted_keys[at] == queries, at, -1)


def _as_strings(labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``labels`` (an object array of distinct str) as numpy strings, and the order that sorts them.

    The order is ``np.argsort(labels, kind="stable")``, sorted as numpy's variable-width
    strings (UTF-8 bytes, whose order is the code points' order, as Python compares str):
    about twice as fast as comparing Python objects. The strings cost 16 bytes a label plus
    the longer labels' bytes, a third of Python's str objects (the feature names of a million
    articles: about 0.6 GB less, kept until the clusters' terms are found). Without numpy's
    strings (numpy < 2, or a lone surrogate) the labels are returned as they are.
    """
    try:
        from numpy.dtypes import StringDType

        strings = labels.astype(StringDType())
    except (ImportError, UnicodeEncodeError):
        return labels, np.argsort(labels, kind="stable")
    return strings, np.argsort(strings, kind="stable")


class FeatureNames(Sequence[str]):
    """The names of a count matrix's columns, each made when asked for.

    A column is a token, named by it, or a pair of tokens, named ``"first second"``. Two
    token numbers a column are held instead of the names: a report shows the names of a few
    columns (the clusters' terms), and making them all took 0.3 s of 1.4 million columns at
    50,000 articles, and memory for as long as the matrix lives.

    Indexed as a numpy array of the names: ``names[3]`` is a str; ``names[columns]`` (an
    integer array or a slice) and ``np.asarray(names)`` are numpy arrays of str.

    Args:
        tokens: The vocabulary's tokens (numpy strings, or str objects).
        first: Per column, its token or a pair's first token (a number of ``tokens``).
        second: Per column, a pair's second token, or -1 for a token alone.
    """

    def __init__(self, tokens: np.ndarray, first: np.ndarray, second: np.ndarray) -> None:
        self._tokens, self._first, self._second = tokens, first, second

    def __len__(self) -> int:
        return len(self._first)

    @overload
    def __getitem__(self, key: int) -> str: ...

    @overload
    def __getitem__(self, key: slice | np.ndarray) -> np.ndarray: ...

    def __getitem__(self, key: int | slice | np.ndarray) -> str | np.ndarray:
        first, second = self._first[key], self._second[key]
        if np.ndim(first) == 0:
            name = str(self._tokens[first])
            return name if second < 0 else f"{name} {self._tokens[second]}"
        names = self._tokens[first]
        pair = second >= 0
        names[pair] = names[pair] + " " + self._tokens[second[pair]]
        return names

    def __iter__(self) -> Iterator[str]:
        return iter(self[:].tolist())

    def __array__(self, dtype: Any = None, copy: bool | None = None) -> np.ndarray:
        return self[:] if dtype is None else self[:].astype(dtype)


def _feature_names(
    vocabulary: Vocabulary, words: np.ndarray, pairs: np.ndarray, width: int
) -> tuple[FeatureNames, np.ndarray]:
    """The features' names in the order that sorts them as ``str`` (scikit-learn's columns).

    Returns the names, and the order (of ``words``, then ``pairs``) that sorts them.

    The features: ``words``' tokens, then ``pairs`` as "first second". Their order is the
    order of ``(first token, word before pair, second token)``, the tokens ranked as strings:
    a token's name and pairs come after those of every token before it, at the first place
    two tokens differ, or where the shorter ends (a pair's space sorts before what the
    longer holds there), unless that is a character up to the space (U+0020) after a token
    that begins pairs (:func:`_breaks_rank_order`). So only the tokens are sorted as strings,
    and the features by an integer key: at 50,000 articles 0.43 s instead of 0.9 s. The
    tokens are numpy strings (:func:`_as_strings`); without them (numpy < 2, a lone
    surrogate), or when the rank order breaks, the names are made and sorted as strings.
    """
    tokens = vocabulary.tokens()
    firsts, seconds = (pairs - width) // width, (pairs - width) % width
    first = np.concatenate([words, firsts])
    second = np.concatenate([np.full(len(words), -1, dtype=np.int64), seconds])
    del firsts, seconds
    strings, by_string = _as_strings(tokens)
    if strings is tokens or _breaks_rank_order(strings, words, first[len(words) :], by_string):
        order = np.argsort(np.asarray(FeatureNames(strings, first, second)), kind="stable")
        return FeatureNames(strings, first[order], second[order]), order
    rank = np.empty(width, dtype=np.int64)
    rank[by_string] = np.arange(width)
    key = rank[first] * (width + 1)
    key[len(words) :] += 1 + rank[second[len(words) :]]
    order = np.argsort(key, kind="stable")
    return FeatureNames(strings, first[order], second[order]), order


def _breaks_rank_order(
    strings: np.ndarray, words: np.ndarray, firsts: np.ndarray, by_string: np.ndarray
) -> bool:
    """Whether a named token (a word, or a pair's first) extends a pair's first token.

    By a character up to the space (U+0020) right after it: then ``"first second"`` may
    sort after that token, against the rank order. A name feature holds spaces
    (``"\u2063name:joe biden"``), but what comes before one is no pair's first token.

    Such a token comes right after the first token among the named tokens in string order
    (``by_string``: the order that sorts ``strings``, the tokens as numpy strings): a token
    between them would extend the first one too, by a character no greater. So only
    neighbours in that order are compared.
    """
    begins_pairs = np.zeros(len(strings), dtype=bool)
    begins_pairs[firsts] = True
    named = begins_pairs.copy()
    named[words] = True
    ranked = by_string[named[by_string]]  # the named tokens in string order
    before, after = ranked[:-1], ranked[1:]
    before, after = before[begins_pairs[before]], after[begins_pairs[before]]
    extends = np.strings.startswith(strings[after], strings[before])
    for first, token in zip(strings[before[extends]], strings[after[extends]], strict=True):
        if str(token)[len(str(first))] <= " ":  # (distinct tokens: the longer goes on)
            return True
    return False


def _csr_order(
    rows: np.ndarray, columns: np.ndarray, counts: np.ndarray, width: int
) -> tuple[np.ndarray, np.ndarray]:
    """``(columns, counts)`` of distinct cells in CSR order (by row, then column).

    As ``np.lexsort((columns, rows))`` orders them, but by one sort of int64 keys that carry
    the count in their low bits (counts are integers, exact in float32), several times
    faster; by an argsort of ``row * width + column`` when the key would not fit in 63 bits.

    Args:
        rows: Row of each cell within its block (0 or more).
        columns: Column of each cell (0 to ``width - 1``; each (row, column) once).
        counts: Count of each cell (whole numbers below 2**24, float32).
        width: Columns of the matrix.
    """
    if not len(rows):
        return columns, counts
    position = rows.astype(np.int64) * width + columns
    count_bits = int(counts.max()).bit_length()
    if (int(rows.max()) + 1) * width < 1 << (63 - count_bits):
        position <<= count_bits
        position |= counts.astype(np.int64)
        position.sort()
        mask = (1 << count_bits) - 1
        return (
            ((position >> count_bits) % width).astype(columns.dtype),
            (position & mask).astype(np.float32),
        )
    order = np.argsort(position)
    return columns[order], counts[order]


_MOVED = (np.zeros(0, np.int64), np.zeros(0, np.int32), np.zeros(0, np.float32))  # a block copied


def _stack_rows(
    pieces: list[tuple[np.ndarray, np.ndarray, np.ndarray]], shape: tuple[int, int]
) -> sp.csr_matrix:
    """A CSR matrix from consecutive blocks of rows, each ``(row sizes, columns, values)``.

    Each block's entries are in CSR order (by row, then column); the blocks are joined with
    no COO-to-CSR conversion (which would copy every entry several times). They are moved
    into place on two threads, each freed once copied: the copies are bound by the fresh
    pages they fill (50,000 articles: 28.6 million entries in 0.26 s instead of 0.50 s).
    """
    sizes = np.concatenate([np.zeros(0, np.int64), *(p[0] for p in pieces)])
    nnz = int(sizes.sum())
    index_dtype = np.int32 if max(nnz, *shape) <= np.iinfo(np.int32).max else np.int64
    indptr = np.zeros(shape[0] + 1, dtype=index_dtype)
    np.cumsum(sizes, out=indptr[1:])
    indices = np.empty(nnz, dtype=index_dtype)
    data = np.empty(nnz, dtype=np.float32)
    lengths = np.array([len(p[1]) for p in pieces], dtype=np.int64)
    ends = np.cumsum(lengths)
    starts = (ends - lengths).tolist()
    middle = int(np.searchsorted(ends, nnz // 2))  # about half the entries before it

    def move(blocks: range) -> None:
        for k in blocks:
            _, columns, values = pieces[k]
            at = starts[k]
            indices[at : at + len(columns)] = columns
            data[at : at + len(values)] = values
            pieces[k] = _MOVED  # this block freed

    compiled_kernels.in_threads(move, [range(middle), range(middle, len(pieces))])
    pieces.clear()
    return sp.csr_matrix((data, indices, indptr), shape=shape, copy=False)


def count_matrix(
    bodies: Sequence[Tokens],
    titles: Sequence[Tokens],
    names: Sequence[Tokens] | None = None,
    *,
    title_weight: int,
    name_weight: int = 1,
    min_df: int = 1,
    vocabulary: Vocabulary | None = None,
) -> tuple[sp.csr_matrix, FeatureNames]:
    """Feature counts (documents x features, float32) and the sorted :class:`FeatureNames`.

    Args:
        bodies: Normalized tokens of each document (strings, or ids of ``vocabulary``).
        titles: Normalized tokens of each title; its tokens and pairs count ``title_weight`` times.
        names: Name-sequence features of each document (single features, no pairs), counted
            ``name_weight`` times; none when None.
        title_weight: 0-5.
        name_weight: 0-5.
        min_df: Features found in fewer documents are left out (1 or more).
        vocabulary: What the ids of id-array tokens refer to; string tokens are numbered in
            it (a new one when None).
    """
    n = len(bodies)
    vocabulary = vocabulary if vocabulary is not None else Vocabulary()
    body_ids = _as_ids(bodies, vocabulary)
    parts = [(body_ids, 1, True)]
    if title_weight:
        parts.append((_as_ids(titles, vocabulary), title_weight, True))
    if names is not None and name_weight:
        parts.append((_as_ids(names, vocabulary), name_weight, False))
    width = max(len(vocabulary), 1)
    lengths = [sum(len(p[0][i]) for p in parts) for i in range(n)]

    def count(edge: tuple[int, int]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        start, stop = edge
        return _block_cells([(ids[start:stop], w, p) for ids, w, p in parts], width, start)

    edges = _blocks(lengths, width)
    # Two passes over the blocks (each counted twice): the document frequencies first, then
    # the rows of the matrix, so no pass holds every cell of the corpus at once.
    # The first pass keeps nothing of a block but its distinct keys: its temporaries reuse
    # heap space (dedup/memory.py). Not the second, whose rows are kept until the matrix is
    # built: in the heap, their freed space stayed in the process while the matrix was
    # filled (1,000,000 articles: 15.8 GB summed over the processes, against 11.0 GB).
    compiled = sum(lengths) >= _COMPILED_KEYS and compiled_kernels.available()
    with heap_reused(), ThreadPoolExecutor(compiled_kernels.THREADS) as pool:
        found = (
            _compiled_document_keys(parts, width, edges, pool)
            if compiled
            else pool.map(lambda edge: _distinct_keys(count(edge)), edges)  # sorts drop the GIL
        )
        words, pairs = _frequent_features(found, width, min_df)
    names, order = _feature_names(vocabulary, words, pairs, width)
    column_dtype = np.int32 if len(order) <= np.iinfo(np.int32).max else np.int64
    column = np.empty(len(order), dtype=column_dtype)
    column[order] = np.arange(len(order), dtype=column_dtype)
    word_column = np.full(width, -1, dtype=column_dtype)
    word_column[words] = column[: len(words)]

    def rows(edge: tuple[int, int]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        start, stop = edge
        keys, docs, values = count(edge)
        split = np.searchsorted(keys, width)
        at = _position(pairs, keys[split:])
        pair_column = np.where(at >= 0, column[len(words) + at], -1)
        cell_column = np.concatenate([word_column[keys[:split]], pair_column])
        del keys, at, pair_column
        kept = cell_column >= 0
        docs, cell_column, values = docs[kept], cell_column[kept], values[kept]
        row_sizes = np.bincount(docs - start, minlength=stop - start)
        return (row_sizes, *_csr_order(docs - start, cell_column, values, len(names)))

    if compiled:
        pair_column = column[len(words) :]
        rows = _compiled_rows(parts, width, word_column, pairs, pair_column, len(names))
    pieces = compiled_kernels.in_threads(rows, edges)
    matrix = _stack_rows(pieces, (n, len(names)))
    matrix.sort_indices()
    return matrix, names


_NO_IDS = np.zeros(0, dtype=np.int32)


def _named_parts(
    parts: list[tuple[list[np.ndarray], int, bool]],
) -> tuple[list[np.ndarray], list[np.ndarray] | None, int, list[np.ndarray] | None, int]:
    """``count_matrix``'s parts as ``(bodies, titles, title weight, names, name weight)``.

    A part left out (weight 0, or no names) is None with weight 0.
    """
    (bodies, _, _), *others = parts
    titles, title_weight = next(((ids, w) for ids, w, p in others if p), (None, 0))
    names, name_weight = next(((ids, w) for ids, w, p in others if not p), (None, 0))
    return bodies, titles, title_weight, names, name_weight


def _flat(ids: list[np.ndarray] | None, start: int, stop: int) -> tuple[np.ndarray, np.ndarray]:
    """Documents ``start`` to ``stop`` of one part as ``(ids, starts)`` for the kernels.

    ``ids``: every document's ids one after the other (int32); ``starts``: where each
    document's begin, and their end (int64). A part left out (None) has no ids.
    """
    if ids is None:
        return _NO_IDS, np.zeros(stop - start + 1, dtype=np.int64)
    block = ids[start:stop]
    starts = np.zeros(len(block) + 1, dtype=np.int64)
    np.cumsum([len(x) for x in block], out=starts[1:])
    return np.concatenate([_NO_IDS, *block]).astype(np.int32, copy=False), starts


def _compiled_document_keys(
    parts: list[tuple[list[np.ndarray], int, bool]],
    width: int,
    edges: list[tuple[int, int]],
    pool: ThreadPoolExecutor,
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """What :func:`_distinct_keys` gives of each block of ``edges``, by the compiled kernel.

    Each block's distinct pair keys with the documents holding each, then (once every block
    is done) the tokens' own: each token is counted in a slot per token id, once per
    document (:func:`dedup.kernels.document_keys`), and only the pairs, distinct within each
    document, are sorted, instead of every cell of a block. The same counts, merged by
    :func:`_frequent_features` into the same features.
    """
    from . import kernels

    bodies, titles, _, names, _ = _named_parts(parts)
    digits = max(1, (((width + 1) * width).bit_length() + 7) // 8)  # bytes of a pair key
    scratch = threading.local()
    frequencies: list[np.ndarray] = []  # each thread's token counts

    def block(edge: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
        start, stop = edge
        if getattr(scratch, "stamp", None) is None:
            scratch.stamp = np.full(width, -1, dtype=np.int64)
            scratch.frequencies = np.zeros(width, dtype=np.int64)
            frequencies.append(scratch.frequencies)
        body, body_starts = _flat(bodies, start, stop)
        title, title_starts = _flat(titles, start, stop)
        name, name_starts = _flat(names, start, stop)
        buffer = np.empty(len(body) + len(title), dtype=np.int64)
        pair_keys = np.empty(len(buffer), dtype=np.int64)
        written = kernels.document_keys(
            body, body_starts, title, title_starts, titles is not None, name, name_starts,
            names is not None, width, start, scratch.stamp, scratch.frequencies, buffer,
            np.empty_like(buffer), digits, pair_keys,
        )  # fmt: skip
        return _distinct_keys((np.sort(pair_keys[:written]),))

    yield from pool.map(block, edges)
    counts = np.sum(frequencies, axis=0) if frequencies else np.zeros(width, dtype=np.int64)
    tokens = np.flatnonzero(counts)
    yield tokens.astype(np.int64), counts[tokens]


def _compiled_rows(
    parts: list[tuple[list[np.ndarray], int, bool]],
    width: int,
    word_column: np.ndarray,
    pairs: np.ndarray,
    pair_column: np.ndarray,
    columns: int,
) -> Callable[[tuple[int, int]], tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """``count_matrix``'s rows of a block of documents by the compiled kernel: the same rows.

    Each document's features are counted in a slot per column and its row sorted on its
    own (:func:`dedup.kernels.count_rows`), instead of two sorts of the block's cells, and a
    pair's column is found by hashing (:func:`dedup.kernels.key_table`), not by a binary
    search. At 50,000 articles the rows take 1.5 s instead of 4.1 s (two threads; 3.0
    CPU-seconds instead of 8.0). ``columns``: the matrix's; the others as in ``count_matrix``.
    """
    from . import kernels

    bits = max(1, (2 * len(pairs)).bit_length())  # the table at most half full
    table = np.full(1 << bits, -1, dtype=np.int32 if len(pairs) < 2**31 else np.int64)
    kernels.key_table(pairs, 64 - bits, table)
    digits = max(1, (max(columns - 1, 0).bit_length() + 7) // 8)  # bytes of a column
    scratch = threading.local()  # per thread: a count slot per column, zeros between rows
    bodies, titles, title_weight, names, name_weight = _named_parts(parts)

    def rows(edge: tuple[int, int]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        start, stop = edge
        if getattr(scratch, "counts", None) is None:
            scratch.counts = np.zeros(columns, dtype=np.int32)
        body, body_starts = _flat(bodies, start, stop)
        title, title_starts = _flat(titles, start, stop)
        name, name_starts = _flat(names, start, stop)
        occurrences = len(body) * 2 + len(title) * 2 + len(name)  # tokens and pairs
        touched = np.empty(occurrences, dtype=word_column.dtype)  # a row is one document's
        sizes = np.zeros(stop - start, dtype=np.int64)
        found_columns = np.empty(occurrences, dtype=word_column.dtype)
        found_values = np.empty(occurrences, dtype=np.float32)
        written = kernels.count_rows(
            body, body_starts, title, title_starts, title_weight, name, name_starts,
            name_weight, width, word_column, pairs, 64 - bits, table, pair_column,
            scratch.counts, touched, np.empty_like(touched), digits, sizes, found_columns,
            found_values,
        )  # fmt: skip
        return sizes, found_columns[:written].copy(), found_values[:written].copy()

    return rows


def tfidf_from_tokens(
    bodies: Sequence[Tokens],
    titles: Sequence[Tokens],
    names: Sequence[Tokens] | None = None,
    *,
    title_weight: int,
    name_weight: int = 1,
    min_df: int = 1,
    vocabulary: Vocabulary | None = None,
) -> tuple[sp.csr_matrix, FeatureNames]:
    """L2-normalized sublinear TF-IDF, as ``TfidfVectorizer(sublinear_tf=True)`` computes it.

    With ``min_df`` 2 or more the IDF is unsmoothed, ``ln(n / df) + 1`` (n documents, df of them
    with the feature; ``smooth_idf=False``), not the smoothed ``ln((n + 1) / (df + 1)) + 1``:
    the phantom document smoothing adds flattens the weight of the rare *shared* features
    (names, pairs found in a handful of articles) that tell one event from another. With
    ``min_df`` 1 (corpora too small to drop terms) the features of a single article are kept,
    and the smoothed IDF keeps them from outweighing what articles share.

    Features found in fewer than ``min_df`` documents (1 or more) are dropped first, exactly as
    scikit-learn's ``TfidfVectorizer`` would after the same filter (``tests/test_tfidf.py``).
    Tokens are strings or ids of ``vocabulary`` (see :func:`count_matrix`).
    """
    counts, feature_names = count_matrix(
        bodies,
        titles,
        names,
        title_weight=title_weight,
        name_weight=name_weight,
        min_df=min_df,
        vocabulary=vocabulary,
    )
    if counts.shape[1] == 0:  # no word anywhere (empty or punctuation-only articles)
        return sp.csr_matrix(counts.shape, dtype=np.float32), feature_names
    # TfidfTransformer(sublinear_tf=True, smooth_idf=min_df < 2).fit(counts).transform(counts)
    # step by step, in place (its fit validates the matrix through a copy of it).
    smooth = min_df < 2
    compiled = counts.nnz >= _COMPILED_KEYS and compiled_kernels.available()
    df = column_counts(counts, compiled=compiled).astype(counts.dtype)
    df += float(smooth)
    idf = np.full_like(df, fill_value=counts.shape[0] + int(smooth), dtype=counts.dtype)
    idf /= df
    np.log(idf, out=idf)
    idf += 1.0
    del df

    def weigh(start: int) -> None:  # a block of entries (no temporary as long as the matrix)
        data = counts.data[start : start + _BLOCK_TOKENS]
        np.log(data, out=data)
        data += 1.0
        data *= idf[counts.indices[start : start + _BLOCK_TOKENS]]

    # Each entry on its own: the blocks, two at a time, give the bits of one pass.
    compiled_kernels.in_threads(weigh, range(0, counts.nnz, _BLOCK_TOKENS))
    normalize_rows(counts, compiled=compiled)
    return counts, feature_names


def normalize_rows(matrix: sp.csr_matrix, *, compiled: bool = False) -> None:
    """Scale each row of a float CSR ``matrix`` to unit L2 norm, in place (zero rows stay).

    The same bits as scikit-learn's ``normalize(matrix, copy=False)``: each row's squares
    (in the matrix's float type) summed in float64 in order, each entry divided by the root
    in float64. Without importing scikit-learn, which costs half a second of every run's
    start (it loads scipy.stats). Blocks of about ``_BLOCK_TOKENS`` entries, two threads;
    with ``compiled``, one pass per row range (:func:`dedup.kernels.normalize_rows`, numba):
    80M entries in 0.10 s, against scikit-learn's 0.13 s and numpy's 0.26 s (medians of 3
    runs, alternated in one process).
    """
    indptr = matrix.indptr
    if compiled:
        from . import kernels

        def normalize(rows: tuple[int, int]) -> None:
            kernels.normalize_rows(indptr, matrix.data, rows[0], rows[1])

        compiled_kernels.in_threads(normalize, row_ranges(indptr))
        return

    def scale(rows: tuple[int, int]) -> None:
        start, stop = rows
        low, high = int(indptr[start]), int(indptr[stop])
        if low == high:
            return
        data = matrix.data[low:high]
        sizes = np.diff(indptr[start : stop + 1])
        filled = sizes > 0
        squares = np.square(data).astype(np.float64)
        # reduceat sums each segment in order (no pairwise summation), as a loop would.
        norms = np.sqrt(np.add.reduceat(squares, (indptr[start:stop] - low)[filled]))
        del squares
        norms[norms == 0.0] = 1.0  # a row of zeros is left as it is
        data[:] = data / np.repeat(norms, sizes[filled])

    blocks = max(1, -(-int(matrix.nnz) // _BLOCK_TOKENS))
    compiled_kernels.in_threads(scale, row_ranges(indptr, blocks))
