"""LSH band keys of MinHash signatures, shared by the persistent index and the Spark engine.

The in-memory near-duplicate stage hands signatures to datasketch's ``MinHashLSH``; the index
(SQLite tables) and the Spark job (a group-by) need the band keys themselves. Both use the band
layout datasketch picks for the same threshold and number of permutations, so a pair is a
candidate in one engine exactly when it is a candidate in the others: two signatures share a
band key when their ``rows`` values of that band are equal (the key is a 64-bit hash of the band
number and those values; a collision only adds a candidate, which verification then rejects).
"""

from __future__ import annotations

import numpy as np
from datasketch.lsh import _optimal_param

from .shingle import _mix

_MULTIPLIER = np.uint64(0x9E3779B97F4A7C15)


def band_layout(threshold: float, num_perm: int) -> tuple[int, int]:
    """Return ``(bands, rows)`` as datasketch's ``MinHashLSH(threshold, num_perm)`` chooses them.

    Args:
        threshold: Jaccard level the bands are tuned for (0-1).
        num_perm: Signature length (16-1024).
    """
    bands, rows = _optimal_param(threshold, num_perm, 0.5, 0.5)
    return int(bands), int(rows)


def band_keys(signatures: np.ndarray, bands: int, rows: int) -> np.ndarray:
    """Return the band keys of each signature.

    Args:
        signatures: A ``(n, num_perm)`` uint32 array (``num_perm >= bands * rows``).
        bands: Number of bands.
        rows: Signature values per band.

    Returns:
        A ``(n, bands)`` int64 array (signed, so SQLite stores it as an INTEGER).
    """
    n = signatures.shape[0]
    values = signatures[:, : bands * rows].astype(np.uint64).reshape(n, bands, rows)
    keys = np.broadcast_to(np.arange(1, bands + 1, dtype=np.uint64), (n, bands)).copy()
    with np.errstate(over="ignore"):
        for row in range(rows):
            keys = _mix(keys * _MULTIPLIER + values[:, :, row])
    return keys.view(np.int64)
