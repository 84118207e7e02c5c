r"""Tokens, shingles and MinHash signatures: the one analyzer every later stage shares.

Tokens are runs of letters and digits of normalized text (``\\w+``), so the analyzer needs no
language-specific rule. Each distinct token gets a stable 64-bit hash (BLAKE2b, cached per
:class:`Hasher`), and a shingle of ``k`` consecutive tokens is a 64-bit polynomial of its token
hashes. MinHash signatures are computed for whole batches of documents at once with numpy,
with datasketch's ``affine32`` scheme (``h_i(x) = (a_i * x + b_i) mod 2**32`` on a pre-mixed
32-bit shingle hash, ``a_i`` odd), and are handed to datasketch's ``MinHashLSH`` as
``LeanMinHash`` objects.
"""

from __future__ import annotations

import functools
import hashlib
import itertools
import re
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

import numpy as np
from datasketch import LeanMinHash, MinHashLSH
from datasketch.lsh import _optimal_param

from . import compiled as compiled_kernels
from .config import NormConfig
from .hashsets import distinct
from .normalize import fold_lines

if TYPE_CHECKING:
    from .token_table import FoldedTokenTable, TokenTable

_TOKEN = re.compile(r"\w+")
_MIX_MULTIPLIER = np.uint64(0x9E3779B97F4A7C15)  # odd 64-bit constant (golden ratio)
_EMPTY = np.zeros(0, dtype=np.uint64)
_GROUP_TOKENS = 1 << 15  # tokens whose shingles are found together (256 KB per array)
# Fewer signatures are banded on one thread: two threads handing the GIL back and forth over
# small numpy calls cost 2 ms a call (measured: 300 rows 3.3 ms on two threads, 1.0 ms on one;
# even at 10,000 rows), and the paragraph stage bands each source's paragraphs, 300 a call.
_THREADED_SIGNATURES = 10_000


def tokenize(normalized: str) -> list[str]:
    """Split normalized text into word tokens (runs of letters and digits)."""
    return _TOKEN.findall(normalized)


def two_equal_halves(letters: str) -> bool:
    """Whether ``letters`` is a text followed by itself (so is the empty text)."""
    middle = len(letters) // 2
    return len(letters) % 2 == 0 and letters[:middle] == letters[middle:]


def _mix(values: np.ndarray) -> np.ndarray:
    """Finalize 64-bit values with the splitmix64 mixer (bijective, spreads every bit)."""
    with np.errstate(over="ignore"):
        values = values ^ (values >> np.uint64(30))
        values = values * np.uint64(0xBF58476D1CE4E5B9)
        values = values ^ (values >> np.uint64(27))
        values = values * np.uint64(0x94D049BB133111EB)
        return values ^ (values >> np.uint64(31))


class _TokenIds(dict[str, int]):
    """Token -> row of the hash table; a token not seen before is numbered and listed in ``new``.

    A lookup of a known token stays in C (``map(ids.__getitem__, tokens)``); only a new one
    calls back into Python.
    """

    def __init__(self) -> None:
        super().__init__()
        self.new: list[str] = []
        self.strings: list[str] = []  # every token, by row

    def __missing__(self, token: str) -> int:
        position = self[token] = len(self)
        self.new.append(token)
        self.strings.append(token)
        return position


class _FoldedIds(dict[str, int]):
    """Token as written -> the hasher's row of its folded form (folded the first time met)."""

    def __init__(self, hasher: Hasher, norm: NormConfig) -> None:
        super().__init__()
        self._hasher = hasher
        self._norm = norm

    def __missing__(self, token: str) -> int:
        row = self[token] = int(self._hasher.token_ids(fold_lines([token], self._norm))[0])
        return row


class Hasher:
    """Stable 64-bit token and shingle hashes, with a per-instance token cache.

    The hashes depend only on the token text, never on process state, so runs are
    reproducible and parallel workers agree.
    """

    def __init__(self) -> None:
        self._ids = _TokenIds()
        self._table = np.zeros(1024, dtype=np.uint64)  # grown by doubling; first len(_ids) used
        self._by_code: TokenTable | None = None  # made by the first compiled line_rows
        # Per normalization: tokens as written -> rows of their folded form (line_rows' norm).
        self._by_written: dict[NormConfig, tuple[_FoldedIds, FoldedTokenTable | None]] = {}

    def token_hashes(self, tokens: Sequence[str]) -> np.ndarray:
        """Return the 64-bit hash of each token, as a uint64 array."""
        if not tokens:
            return _EMPTY
        return self.hashes_of(self.token_ids(tokens))

    def token_ids(self, tokens: Iterable[str], count: int | None = None) -> np.ndarray:
        """The row of each token in this hasher's table (int64; new tokens are hashed now).

        Rows number the distinct tokens in order of first sight, for this hasher only.

        Args:
            tokens: The tokens (a sequence, or any iterable when ``count`` is given).
            count: How many tokens there are (``len(tokens)`` when None).
        """
        ids = self._ids
        count = len(tokens) if count is None else count  # type: ignore[arg-type]
        positions = np.fromiter(map(ids.__getitem__, tokens), dtype=np.int64, count=count)
        if ids.new:
            self._add(ids.new)
            ids.new = []
        return positions

    def line_rows(
        self, lines: Sequence[str], *, compiled: bool = False, norm: NormConfig | None = None
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The rows (:meth:`token_ids`) of the tokens of each line, one line after the other.

        Args:
            lines: Normalized texts without line breaks (such as a task's paragraphs); with
                ``norm``, texts not yet folded, whose tokens each folded alone are the tokens
                of the folded text (the lines of
                :func:`~dedup.normalize.nfc_and_unfolded_lines`).
            compiled: Cut and number the tokens in one compiled pass
                (:class:`~dedup.token_table.TokenTable`; numba): the same rows, 5-10 times
                faster than ``tokenize`` and the dict of token strings.
            norm: Fold each distinct token as written the first time it is met
                (:func:`~dedup.normalize.fold`), and give the rows of the folded tokens.

        Returns:
            ``(rows, counts, halves)``: the row of each token (int64), the tokens of each line,
            and per line whether its tokens joined without spaces are two equal halves (the
            test :func:`~dedup.paragraphs.split_self_repeat` starts with), all of the folded
            tokens.
        """
        if norm is not None:
            return self._folded_line_rows(lines, compiled, norm)
        if compiled:
            return self._code_table().line_rows(lines)
        tokens = [tokenize(line) for line in lines]
        counts = np.fromiter(map(len, tokens), dtype=np.int64, count=len(tokens))
        halves = np.fromiter(map(two_equal_halves, map("".join, tokens)), bool, len(tokens))
        rows = self.token_ids(itertools.chain.from_iterable(tokens), int(counts.sum()))
        return rows, counts, halves

    def _folded_line_rows(
        self, lines: Sequence[str], compiled: bool, norm: NormConfig
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """:meth:`line_rows` of lines not yet folded (``norm``)."""
        if norm not in self._by_written:
            self._by_written[norm] = (_FoldedIds(self, norm), None)
        ids, table = self._by_written[norm]
        if compiled:
            if table is None:
                from .token_table import FoldedTokenTable

                fold = functools.partial(fold_lines, config=norm)
                table = FoldedTokenTable(self._code_table(), fold)
                self._by_written[norm] = (ids, table)
            return table.line_rows(lines)
        tokens = [tokenize(line) for line in lines]
        counts = np.fromiter(map(len, tokens), dtype=np.int64, count=len(tokens))
        rows = np.fromiter(
            map(ids.__getitem__, itertools.chain.from_iterable(tokens)), np.int64, int(counts.sum())
        )
        strings = self.tokens()
        bounds = np.cumsum(counts).tolist()
        halves = np.fromiter(
            (
                two_equal_halves("".join(map(strings.__getitem__, rows[end - n : end].tolist())))
                for n, end in zip(counts.tolist(), bounds, strict=True)
            ),
            dtype=bool,
            count=len(lines),
        )
        return rows, counts, halves

    def _code_table(self) -> TokenTable:
        """The rows of folded tokens by their code points (made on the first compiled call)."""
        if self._by_code is None:
            from .token_table import TokenTable

            self._by_code = TokenTable(self.token_ids)
        return self._by_code

    def hashes_of(self, rows: np.ndarray) -> np.ndarray:
        """The hashes of the tokens at ``rows`` (from :meth:`token_ids`), as a uint64 array."""
        return self._table[rows]

    def tokens(self) -> list[str]:
        """Every token this hasher has seen, by row (the list itself: do not change it)."""
        return self._ids.strings

    def __len__(self) -> int:
        """Distinct tokens seen."""
        return len(self._ids)

    def _add(self, tokens: list[str]) -> None:
        """Hash the tokens just numbered (the last ``len(tokens)`` rows of the table)."""
        end = len(self._ids)
        while end > len(self._table):
            self._table = np.concatenate([self._table, np.zeros_like(self._table)])
        blake2b = hashlib.blake2b
        self._table[end - len(tokens) : end] = [
            int.from_bytes(blake2b(token.encode("utf-8"), digest_size=8).digest(), "little")
            for token in tokens
        ]

    def shingles(self, tokens: Sequence[str], k: int, *, cap: int | None = None) -> np.ndarray:
        """Return the sorted distinct hashes of the ``k``-token shingles of ``tokens``.

        A text shorter than ``k`` tokens is one shingle of all its tokens (none when empty).

        Args:
            tokens: Word tokens.
            k: Tokens per shingle (1 or more).
            cap: Keep at most this many: the smallest hashes (a consistent sample).
        """
        hashes = self.token_hashes(tokens)
        return shingle_hashes(hashes, k, cap=cap)

    def shingles_many(self, token_lists: Sequence[Sequence[str]], k: int) -> list[np.ndarray]:
        """:meth:`shingles` of many short token lists at once (one numpy pass; no cap)."""
        lengths = np.array([len(t) for t in token_lists], dtype=np.int64)
        flat = self.token_hashes([t for tokens in token_lists for t in tokens])
        return shingles_of_runs(flat, lengths, k)


def shingle_hashes(token_hashes: np.ndarray, k: int, *, cap: int | None = None) -> np.ndarray:
    """Combine token hashes into sorted distinct ``k``-shingle hashes (see ``Hasher.shingles``)."""
    n = len(token_hashes)
    if n == 0:
        return _EMPTY
    width = min(k, n)
    with np.errstate(over="ignore"):
        combined = token_hashes[: n - width + 1].copy()
        for offset in range(1, width):
            combined = combined * _MIX_MULTIPLIER + token_hashes[offset : n - width + 1 + offset]
    unique = np.unique(_mix(combined))
    if cap is not None and len(unique) > cap:
        unique = unique[:cap]
    return unique


def shingles_of_runs(
    flat: np.ndarray, lengths: np.ndarray, k: int, *, compiled: bool = False
) -> list[np.ndarray]:
    """Sorted distinct ``k``-shingle hashes of each run of token hashes (no window crosses runs).

    With ``compiled`` (numba), one compiled loop (:func:`dedup.kernels.run_shingles`) hashes,
    sorts and dedups each run in place: the same hashes, several times faster than numpy's
    passes over the runs (whose sort is of all of them at once).

    Runs are taken in groups of about ``_GROUP_TOKENS`` tokens, so that the dozen temporary
    arrays stay small: at 1 MB or more each would be mapped afresh (the CLI's setting,
    :mod:`dedup.memory`) and its pages faulted in, a system time that grew with the size of a
    source (a task). Each run's shingles depend on its tokens alone.

    Args:
        flat: Token hashes of all runs, one after the other.
        lengths: Tokens in each run (they sum to ``len(flat)``).
        k: Tokens per shingle; a run shorter than ``k`` is one shingle (none when empty).
        compiled: Use the compiled loop.
    """
    if compiled:
        from .kernels import run_shingles

        lengths = np.asarray(lengths, dtype=np.int64)
        out = np.empty(len(flat) + len(lengths), dtype=np.uint64)
        counts = np.empty(len(lengths), dtype=np.int64)
        spare = np.empty(int(lengths.max(initial=0)) + 1, dtype=np.int64)
        written = run_shingles(flat, lengths, k, _MIX_MULTIPLIER, out, counts, spare)
        bounds = np.concatenate(([0], np.cumsum(counts))).tolist()
        out = out[:written]
        return [out[bounds[i] : bounds[i + 1]] for i in range(len(lengths))]
    if len(flat) <= _GROUP_TOKENS or len(lengths) < 2:
        return _shingles_of_runs(flat, lengths, k)
    ends = np.cumsum(lengths)
    found: list[np.ndarray] = []
    run = token = 0
    while run < len(lengths):
        stop = max(int(np.searchsorted(ends, token + _GROUP_TOKENS, "right")), run + 1)
        found += _shingles_of_runs(flat[token : ends[stop - 1]], lengths[run:stop], k)
        run, token = stop, int(ends[stop - 1])
    return found


def _shingles_of_runs(flat: np.ndarray, lengths: np.ndarray, k: int) -> list[np.ndarray]:
    """:func:`shingles_of_runs` of one group of runs."""
    if not len(lengths) or len(flat) == 0:
        return [_EMPTY] * len(lengths)
    starts = np.concatenate(([0], np.cumsum(lengths)[:-1]))
    total = len(flat)
    # Windows of k tokens starting anywhere, then those that stay inside their list.
    count = max(total - k + 1, 0)
    with np.errstate(over="ignore"):
        combined = flat[:count].copy()
        for offset in range(1, k):
            combined = combined * _MIX_MULTIPLIER + flat[offset : count + offset]
    owner = np.repeat(np.arange(len(lengths)), lengths)[:count]
    inside = np.arange(count) - starts[owner] <= lengths[owner] - k
    keys, values = owner[inside], _mix(combined[inside])
    # A run shorter than k is one shingle of all its tokens (runs of each length at once).
    for width in range(1, k):
        short = np.flatnonzero(lengths == width)
        if len(short):
            with np.errstate(over="ignore"):
                combined = flat[starts[short]]
                for offset in range(1, width):
                    combined = combined * _MIX_MULTIPLIER + flat[starts[short] + offset]
            keys = np.concatenate([keys, short])
            values = np.concatenate([values, _mix(combined)])
    order = _order_by_run_then_value(keys, values, len(lengths))
    keys, values = keys[order], values[order]
    fresh = np.ones(len(keys), dtype=bool)
    fresh[1:] = (keys[1:] != keys[:-1]) | (values[1:] != values[:-1])
    keys, values = keys[fresh], values[fresh]
    bounds = np.searchsorted(keys, np.arange(len(lengths) + 1))
    return [values[bounds[i] : bounds[i + 1]] for i in range(len(lengths))]


def _order_by_run_then_value(keys: np.ndarray, values: np.ndarray, runs: int) -> np.ndarray:
    """The order of ``np.lexsort((values, keys))``, several times faster.

    Each pair is packed in one 64-bit number, the run number in the high bits and the hash's
    highest bits below it, and sorted stably (the keys come mostly in order, which the stable
    sort uses). Two different hashes of one run that share their kept bits (about one run in
    10^9) would stay in input order: then ``lexsort`` decides.

    Args:
        keys: Run number of each hash (0 to ``runs - 1``).
        values: The 64-bit hashes.
        runs: Number of runs.
    """
    bits = max(1, (runs - 1).bit_length())
    if bits > 32:
        return np.lexsort((values, keys))
    packed = (keys.astype(np.uint64) << np.uint64(64 - bits)) | (values >> np.uint64(bits))
    order = np.argsort(packed, kind="stable")
    ordered, hashes = packed[order], values[order]
    if np.any((ordered[1:] == ordered[:-1]) & (hashes[1:] != hashes[:-1])):
        return np.lexsort((values, keys))
    return order


class Permutations:
    """The ``num_perm`` hash functions of a MinHash signature, drawn from ``seed``."""

    def __init__(self, num_perm: int, seed: int) -> None:
        rng = np.random.RandomState(seed)
        self.num_perm = num_perm
        self.seed = seed
        self.a = rng.randint(0, 1 << 31, size=num_perm, dtype=np.int64).astype(np.uint32) * 2 + 1
        self.b = rng.randint(0, 1 << 32, size=num_perm, dtype=np.int64).astype(np.uint32)

    def signatures(
        self, shingle_sets: Sequence[np.ndarray], *, chunk: int = 1 << 13, compiled: bool = False
    ) -> np.ndarray:
        """Return the MinHash signatures of many shingle sets at once.

        Args:
            shingle_sets: One uint64 array of shingle hashes per document.
            chunk: Shingles hashed per numpy block (bounds memory at ``chunk * num_perm * 4``
                bytes; the default keeps a block in the CPU cache, about 4 MB at 128 permutations).
            compiled: Hash in one compiled loop (:func:`dedup.kernels.minhash_rows`; numba
                installed): the same signatures, 3-8 times faster.

        Returns:
            A ``(len(shingle_sets), num_perm)`` uint32 array; an empty set gets the maximum
            value ``2**32 - 1`` everywhere, as in datasketch.
        """
        n = len(shingle_sets)
        out = np.full((n, self.num_perm), np.uint32(0xFFFFFFFF), dtype=np.uint32)
        lengths = np.fromiter((len(s) for s in shingle_sets), dtype=np.int64, count=n)
        present = np.flatnonzero(lengths)
        if not len(present):
            return out
        # Datasketch's affine32 hashes the upper 32 bits of the 64-bit shingle hash.
        values = (np.concatenate([shingle_sets[i] for i in present]) >> np.uint64(32)).astype(
            np.uint32
        )
        if compiled:  # (an empty set's row is left as it is)
            from .kernels import minhash_rows

            minhash_rows(values, np.concatenate(([0], np.cumsum(lengths))), self.a, self.b, out)
            return out
        offsets = np.concatenate(([0], np.cumsum(lengths[present])))
        a, b = self.a[:, None], self.b[:, None]
        # One buffer for every block: a new 4 MB array per block would be mapped and its
        # pages faulted in again each time (the CLI maps allocations of 1 MB or more).
        buffer = np.empty(self.num_perm * min(chunk, len(values)), dtype=np.uint32)
        start = 0
        while start < len(present):
            # Documents start..stop-1 whose shingles fit in one block (at least one document).
            fits = int(np.searchsorted(offsets, offsets[start] + chunk, "right")) - 1
            stop = max(start + 1, fits)
            block = values[offsets[start] : offsets[stop]]
            # Permutation-major layout: each row is contiguous, so the reduction streams.
            size = self.num_perm * len(block)
            permuted = (
                buffer[:size].reshape(self.num_perm, len(block)) if size <= len(buffer) else None
            )
            permuted = np.multiply(a, block[None, :], out=permuted)
            permuted += b
            starts = offsets[start:stop] - offsets[start]
            out[present[start:stop]] = np.minimum.reduceat(permuted, starts, axis=1).T
            start = stop
        return out

    @staticmethod
    @functools.lru_cache(maxsize=16)
    def cached(num_perm: int, seed: int) -> Permutations:
        """The permutations of ``(num_perm, seed)``, drawn once per process (read only).

        Drawing them costs more than the signatures of a small source's paragraphs.
        """
        return Permutations(num_perm, seed)

    def lean_minhash(self, signature: np.ndarray) -> LeanMinHash:
        """Wrap one signature row for datasketch's LSH index."""
        return LeanMinHash(seed=self.seed, hashvalues=signature, scheme="affine32")


@functools.lru_cache(maxsize=64)
def _lsh_params(threshold: float, num_perm: int) -> tuple[int, int]:
    """Datasketch's optimal (bands, rows) for a threshold: a numeric integration, so cached."""
    bands, rows = _optimal_param(threshold, num_perm, 0.5, 0.5)
    return int(bands), int(rows)


def lsh_index(threshold: float, num_perm: int) -> MinHashLSH:
    """A new datasketch ``MinHashLSH`` index, as ``MinHashLSH(threshold, num_perm)`` builds it."""
    return MinHashLSH(
        threshold=threshold, num_perm=num_perm, params=_lsh_params(threshold, num_perm)
    )


def lsh_candidates(signatures: np.ndarray, threshold: float) -> np.ndarray:
    """The pairs datasketch's ``MinHashLSH(threshold)`` proposes, found for all rows at once.

    Datasketch cuts a signature into ``bands`` bands of ``rows`` values and proposes two sets
    when every value of some band is equal. Inserting the rows in order and querying each
    before its insertion yields exactly the pairs returned here; grouping each band's values
    with numpy instead of one dictionary lookup per band and row is many times faster.

    Args:
        signatures: A ``(n, num_perm)`` uint32 array.
        threshold: Jaccard level the bands are tuned for (0-1).

    Returns:
        A ``(m, 2)`` int64 array of distinct pairs ``(earlier, later)`` of row numbers, sorted by
        the later row, then the earlier.
    """
    n, num_perm = signatures.shape
    if n < 2:
        return np.zeros((0, 2), dtype=np.int64)
    bands, rows = _lsh_params(threshold, num_perm)

    def band_pairs(band: int) -> np.ndarray:  # numpy's sorts release the GIL: two at once
        order, same = _band_buckets(signatures[:, band * rows : (band + 1) * rows])
        starts = np.flatnonzero(np.concatenate(([True], ~same)))
        sizes = np.diff(np.append(starts, n))
        return _bucket_pairs(order, starts[sizes > 1], sizes[sizes > 1])

    if n >= _THREADED_SIGNATURES:
        found = compiled_kernels.in_threads(band_pairs, range(bands))
    else:
        found = [band_pairs(band) for band in range(bands)]
    pairs = np.concatenate([np.zeros((0, 2), dtype=np.int64), *found]).astype(np.int64)
    pairs.sort(axis=1)
    codes = distinct(pairs[:, 1] * n + pairs[:, 0])
    return np.stack([codes % n, codes // n], axis=1)


_BAND_MIX = np.array(  # odd 64-bit multipliers, one per value of a band (fixed: deterministic)
    [0x9E3779B97F4A7C15, 0xC2B2AE3D27D4EB4F, 0x165667B19E3779F9, 0xD6E8FEB86659FD93],
    dtype=np.uint64,
)


def _band_keys(values: np.ndarray) -> np.ndarray:
    """A 64-bit key of each row of a band's values (equal rows, equal keys; uint64)."""
    keys = np.zeros(len(values), dtype=np.uint64)
    for column in range(values.shape[1]):
        mix = _BAND_MIX[column % len(_BAND_MIX)] + np.uint64(2 * (column // len(_BAND_MIX)))
        keys += values[:, column].astype(np.uint64) * mix  # wraps modulo 2**64
        keys ^= keys >> np.uint64(29)
    return keys


def _band_buckets(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rows of one band grouped by equal values: ``(order, same)``.

    ``order`` lists the rows bucket by bucket, ascending within a bucket; ``same[i]`` tells
    whether ``order[i + 1]`` is in the bucket of ``order[i]``. The rows are sorted by a 64-bit
    key of their values (4 times faster than sorting the values as bytes); should two rows of
    different values ever share a key, the values themselves are sorted instead, so the
    buckets are always exactly the rows of equal values.
    """
    keys = _band_keys(values)
    order = np.argsort(keys, kind="stable")
    ordered = keys[order]
    same = ordered[1:] == ordered[:-1]
    after = np.flatnonzero(same)
    if not (values[order[after]] != values[order[after + 1]]).any():
        return order, same
    bands = np.ascontiguousarray(values)  # a key shared by different values: sort the values
    key = bands.view(np.dtype((np.void, bands.dtype.itemsize * bands.shape[1]))).ravel()
    order = np.argsort(key, kind="stable")
    ordered = key[order]
    return order, ordered[1:] == ordered[:-1]


def _bucket_pairs(order: np.ndarray, starts: np.ndarray, sizes: np.ndarray) -> np.ndarray:
    """Every pair of rows within each bucket (``order[start : start + size]``), as ``(m, 2)``.

    All buckets at once: each member is paired with each later member of its bucket.
    """
    members = int(sizes.sum())
    offset = np.arange(members) - np.repeat(np.cumsum(sizes) - sizes, sizes)  # place in bucket
    position = np.repeat(starts, sizes) + offset
    later = np.repeat(sizes, sizes) - 1 - offset  # members after it in its bucket
    first = np.repeat(position, later)
    step = np.arange(len(first)) - np.repeat(np.cumsum(later) - later, later)
    return np.stack([order[first], order[first + step + 1]], axis=1)


def jaccard_containment(a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
    """Return the Jaccard similarity and the containment (over the smaller set) of two sets.

    Args:
        a: Sorted distinct uint64 hashes.
        b: Sorted distinct uint64 hashes.

    Returns:
        ``(jaccard, containment)``, each in 0-1; both 0 when either set is empty.
    """
    if len(a) == 0 or len(b) == 0:
        return 0.0, 0.0
    shared = _shared(a, b)
    return shared / (len(a) + len(b) - shared), shared / min(len(a), len(b))


_COMPILED_PAIRS = 20_000  # fewer pairs are not worth loading the compiled kernel
_PAIRS_STEP = 16_384  # pairs whose sets are gathered at once (at most twice as many sets)


def shared_sizes(
    sets: Sequence[np.ndarray],
    first: np.ndarray,
    second: np.ndarray,
    *,
    compiled: bool | None = None,
) -> np.ndarray:
    """How many values each pair of sets shares, for many pairs at once.

    Args:
        sets: Sorted distinct uint64 hashes of each document.
        first: Index into ``sets`` of each pair's first member.
        second: Index into ``sets`` of each pair's second member.
        compiled: Merge the pairs in a compiled loop (numba; the same counts). None does so
            when numba is installed and there are at least ``_COMPILED_PAIRS`` pairs.

    Returns:
        The shared count of each pair (int64; :func:`jaccard_containment` reads the same).
    """
    first, second = np.asarray(first, dtype=np.int64), np.asarray(second, dtype=np.int64)
    if compiled is None:
        compiled = len(first) >= _COMPILED_PAIRS and compiled_kernels.available()
    shared = np.zeros(len(first), dtype=np.int64)
    if not compiled:
        for p, (a, b) in enumerate(zip(first.tolist(), second.tolist(), strict=True)):
            shared[p] = _shared(sets[a], sets[b])
        return shared
    from . import kernels

    for start in range(0, len(first), _PAIRS_STEP):
        a, b = first[start : start + _PAIRS_STEP], second[start : start + _PAIRS_STEP]
        # Only this step's sets, side by side (the sets of a whole corpus would not fit).
        members, local = np.unique(np.concatenate([a, b]), return_inverse=True)
        gathered = [sets[m] for m in members.tolist()]
        sizes = np.fromiter(map(len, gathered), dtype=np.int64, count=len(gathered))
        values = np.concatenate([_EMPTY, *gathered])
        starts = np.cumsum(sizes) - sizes
        kernels.shared_sizes(
            values, starts, sizes, local[: len(a)], local[len(a) :], shared[start : start + len(a)]
        )
    return shared


def _shared(a: np.ndarray, b: np.ndarray) -> int:
    """Values the sorted distinct ``a`` and ``b`` share."""
    if len(a) == 0 or len(b) == 0:
        return 0
    small, large = (a, b) if len(a) <= len(b) else (b, a)
    # Look each hash of the smaller set up in the larger (no sort of both, as intersect1d does).
    where = np.searchsorted(large, small)
    where[where == len(large)] = 0
    return int(np.count_nonzero(large[where] == small))


def features(tokens: Sequence[str]) -> list[str]:
    """TF-IDF features of a token sequence: every token and every pair of adjacent tokens.

    Adjacent pairs carry compound words (Vietnamese ``hòa bình`` is two syllables) and names
    (``john kerry``) without any language-specific segmenter.
    """
    return [*tokens, *(f"{a} {b}" for a, b in itertools.pairwise(tokens))]
