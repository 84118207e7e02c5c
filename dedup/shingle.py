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

import hashlib
import itertools
import re
from collections.abc import Sequence

import numpy as np
from datasketch import LeanMinHash

_TOKEN = re.compile(r"\w+")
_MIX_MULTIPLIER = np.uint64(0x9E3779B97F4A7C15)  # odd 64-bit constant (golden ratio)
_EMPTY = np.zeros(0, dtype=np.uint64)


def tokenize(normalized: str) -> list[str]:
    """Split normalized text into word tokens (runs of letters and digits)."""
    return _TOKEN.findall(normalized)


def _mix(values: np.ndarray) -> np.ndarray:
    """Finalize 64-bit values with the splitmix64 mixer (bijective, spreads every bit)."""
    with np.errstate(over="ignore"):
        values = values ^ (values >> np.uint64(30))
        values = values * np.uint64(0xBF58476D1CE4E5B9)
        values = values ^ (values >> np.uint64(27))
        values = values * np.uint64(0x94D049BB133111EB)
        return values ^ (values >> np.uint64(31))


class Hasher:
    """Stable 64-bit token and shingle hashes, with a per-instance token cache.

    The hashes depend only on the token text, never on process state, so runs are
    reproducible and parallel workers agree.
    """

    def __init__(self) -> None:
        self._ids: dict[str, int] = {}
        self._hashes: list[int] = []
        self._table = _EMPTY

    def token_hashes(self, tokens: Sequence[str]) -> np.ndarray:
        """Return the 64-bit hash of each token, as a uint64 array."""
        ids = self._ids
        missing = [t for t in tokens if t not in ids]
        if missing:
            for token in missing:
                if token not in ids:
                    ids[token] = len(self._hashes)
                    digest = hashlib.blake2b(token.encode("utf-8"), digest_size=8).digest()
                    self._hashes.append(int.from_bytes(digest, "little"))
            self._table = np.array(self._hashes, dtype=np.uint64)
        if not tokens:
            return _EMPTY
        return self._table[np.fromiter((ids[t] for t in tokens), dtype=np.int64, count=len(tokens))]

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


class Permutations:
    """The ``num_perm`` hash functions of a MinHash signature, drawn from ``seed``."""

    def __init__(self, num_perm: int, seed: int) -> None:
        rng = np.random.RandomState(seed)
        self.num_perm = num_perm
        self.seed = seed
        self.a = rng.randint(0, 1 << 31, size=num_perm, dtype=np.int64).astype(np.uint32) * 2 + 1
        self.b = rng.randint(0, 1 << 32, size=num_perm, dtype=np.int64).astype(np.uint32)

    def signatures(self, shingle_sets: Sequence[np.ndarray], *, chunk: int = 1 << 16) -> np.ndarray:
        """Return the MinHash signatures of many shingle sets at once.

        Args:
            shingle_sets: One uint64 array of shingle hashes per document.
            chunk: Shingles hashed per numpy block (bounds memory at ``chunk * num_perm * 4``
                bytes).

        Returns:
            A ``(len(shingle_sets), num_perm)`` uint32 array; an empty set gets the maximum
            value ``2**32 - 1`` everywhere, as in datasketch.
        """
        out = np.full((len(shingle_sets), self.num_perm), np.uint32(0xFFFFFFFF), dtype=np.uint32)
        start = 0
        while start < len(shingle_sets):
            stop, total = start, 0
            while stop < len(shingle_sets) and (
                total == 0 or total + len(shingle_sets[stop]) <= chunk
            ):
                total += len(shingle_sets[stop])
                stop += 1
            self._fill(shingle_sets[start:stop], out[start:stop])
            start = stop
        return out

    def _fill(self, sets: Sequence[np.ndarray], out: np.ndarray) -> None:
        """Compute signatures of ``sets`` into ``out`` (one numpy pass)."""
        lengths = np.fromiter((len(s) for s in sets), dtype=np.int64, count=len(sets))
        present = lengths > 0
        if not present.any():
            return
        values = (np.concatenate([s for s in sets if len(s)]) >> np.uint64(32)).astype(np.uint32)
        with np.errstate(over="ignore"):
            permuted = values[:, None] * self.a[None, :] + self.b[None, :]
        offsets = np.concatenate(([0], np.cumsum(lengths[present])[:-1]))
        out[present] = np.minimum.reduceat(permuted, offsets, axis=0)

    def lean_minhash(self, signature: np.ndarray) -> LeanMinHash:
        """Wrap one signature row for datasketch's LSH index."""
        return LeanMinHash(seed=self.seed, hashvalues=signature, scheme="affine32")


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
    shared = len(np.intersect1d(a, b, assume_unique=True))
    return shared / (len(a) + len(b) - shared), shared / min(len(a), len(b))


def features(tokens: Sequence[str]) -> list[str]:
    """TF-IDF features of a token sequence: every token and every pair of adjacent tokens.

    Adjacent pairs carry compound words (Vietnamese ``hòa bình`` is two syllables) and names
    (``john kerry``) without any language-specific segmenter.
    """
    return [*tokens, *(f"{a} {b}" for a, b in itertools.pairwise(tokens))]
