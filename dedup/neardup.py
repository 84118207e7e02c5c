"""The near-duplicate stage: MinHash-LSH candidates, exact verification, union-find groups.

Every candidate pair the LSH index proposes is verified on the documents' shingle sets: two
documents are duplicates when their Jaccard similarity reaches ``threshold``, or when the
containment of the smaller in the larger reaches ``containment`` and the smaller is at least
``min_size_ratio`` of the larger's size (a truncated copy; a short text quoted inside
longer ones would otherwise chain them all into one group). The rule looks at the two sets
only, so every engine (this one, the index, Spark) verifies the same pairs. Groups are the
connected components of verified pairs; each has one canonical member: the earliest, then the
longest, then the smallest id, so the choice does not depend on input order.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import datetime, timezone

import numpy as np

from .config import NearDupConfig, ShingleConfig
from .shingle import Permutations, jaccard_containment, lsh_candidates


class UnionFind:
    """Disjoint sets over ``0..n-1`` with path halving; the root is the smallest member."""

    def __init__(self, n: int) -> None:
        self.parent = list(range(n))

    def find(self, x: int) -> int:
        """Return the representative of ``x``."""
        parent = self.parent
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    def union(self, a: int, b: int) -> None:
        """Join the sets of ``a`` and ``b``."""
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)

    def groups(self) -> list[list[int]]:
        """Sets of two or more members, each sorted, ordered by first member."""
        members: dict[int, list[int]] = {}
        for x in range(len(self.parent)):
            members.setdefault(self.find(x), []).append(x)
        return [m for m in members.values() if len(m) > 1]


def is_near_duplicate(a: np.ndarray, b: np.ndarray, config: NearDupConfig) -> bool:
    """The verification rule, symmetric in ``a`` and ``b``.

    Jaccard ``>= threshold``, or containment ``>= containment`` when the smaller set has at
    least ``min_size_ratio`` of the larger's size (a truncated copy, not a short text
    quoted inside a longer one).
    """
    jaccard, contained = jaccard_containment(a, b)
    if jaccard >= config.threshold:
        return True
    smaller, larger = sorted((len(a), len(b)))
    return contained >= config.containment and smaller >= config.min_size_ratio * larger


def similarity(a: np.ndarray, b: np.ndarray) -> float:
    """The similarity dedup reports for a duplicate: max(Jaccard, containment), 0-1."""
    return max(jaccard_containment(a, b))


def _digest(shingles: np.ndarray) -> bytes:
    """A 128-bit digest of a shingle set (equal sets, equal digests)."""
    return hashlib.blake2b(np.ascontiguousarray(shingles).data, digest_size=16).digest()


_NO_DATE = datetime.max.replace(tzinfo=timezone.utc).timestamp()


def canonical_key(published: datetime | None, length: int, doc_id: str) -> tuple[float, int, str]:
    """Sort key of the canonical choice: earliest, then longest, then smallest id (min wins)."""
    return (_timestamp(published), -length, doc_id)


def _timestamp(when: datetime | None) -> float:
    """Seconds since the epoch (naive times read as UTC); unknown dates sort last."""
    if when is None:
        return _NO_DATE
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return when.timestamp()


class NearDuplicateFinder:
    """Groups near-duplicate documents.

    Args:
        config: Thresholds (see :class:`~dedup.config.NearDupConfig`).
        shingles: Signature settings (``num_perm``, ``seed``).

    Attributes:
        groups_: After :meth:`fit`, lists of document indices (two or more, sorted).
        canonical_: For each document, the index of its group's canonical member (itself when
            it is canonical or unique).
        similarity_: For each document, its similarity to the canonical (None for canonicals).
        n_candidates_: Candidate pairs the LSH index proposed.
        n_verified_: Candidate pairs that passed verification.
    """

    def __init__(
        self, config: NearDupConfig | None = None, *, shingles: ShingleConfig | None = None
    ):
        self.config = config or NearDupConfig()
        self.shingles = shingles or ShingleConfig()

    def fit(
        self,
        shingle_sets: Sequence[np.ndarray],
        *,
        ids: Sequence[str],
        published: Sequence[datetime | None],
        lengths: Sequence[int],
        signatures: np.ndarray | None = None,
    ) -> NearDuplicateFinder:
        """Find the duplicate groups of ``shingle_sets``.

        Args:
            shingle_sets: Sorted distinct shingle hashes of each document.
            ids: Document ids (the last tie-break for the canonical).
            published: Publication times (earliest is canonical; unknown sorts last).
            lengths: Cleaned text lengths in characters (longest wins a date tie).
            signatures: The ``(documents, num_perm)`` MinHash signatures of ``shingle_sets``
                when the caller has them (the paragraph stage computes them in its workers);
                computed here when None.

        Returns:
            self
        """
        config = self.config
        sets = UnionFind(len(shingle_sets))
        # Exact copies join the first with the same set; the first ones with enough shingles
        # go to the LSH index (keyed by a digest, so memory does not hold every set twice).
        first_with: dict[bytes, list[int]] = {}
        indexed: list[int] = []
        for i, shingles in enumerate(shingle_sets):
            if len(shingles) == 0:
                continue
            seen = first_with.setdefault(_digest(shingles), [])
            same = next((j for j in seen if np.array_equal(shingle_sets[j], shingles)), None)
            if same is not None:
                sets.union(same, i)
                continue
            seen.append(i)
            if len(shingles) >= config.min_shingles:
                indexed.append(i)
        if signatures is None:
            perms = Permutations(self.shingles.num_perm, self.shingles.seed)
            indexed_signatures = perms.signatures([shingle_sets[i] for i in indexed])
        else:
            indexed_signatures = signatures[np.array(indexed, dtype=np.int64)]
        pairs = lsh_candidates(indexed_signatures, config.lsh_threshold)
        self.n_candidates_ = len(pairs)
        self.n_verified_ = 0
        for earlier, later in pairs.tolist():
            j, i = indexed[earlier], indexed[later]
            if is_near_duplicate(shingle_sets[i], shingle_sets[j], config):
                self.n_verified_ += 1
                sets.union(i, j)
        self.groups_ = sets.groups()
        self.canonical_ = list(range(len(shingle_sets)))
        self.similarity_: list[float | None] = [None] * len(shingle_sets)
        for group in self.groups_:
            canonical = min(group, key=lambda k: canonical_key(published[k], lengths[k], ids[k]))
            for k in group:
                self.canonical_[k] = canonical
                if k != canonical:
                    self.similarity_[k] = round(
                        similarity(shingle_sets[k], shingle_sets[canonical]), 4
                    )
        return self
