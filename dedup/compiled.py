"""Compiled kernels through numba, the optional ``fast`` extra (``pip install 'dedup[fast]'``).

The kernels are in :mod:`dedup.kernels`, imported only when one is first wanted; each has a
numpy twin that gives the same bits (the tests compare them). Each is compiled on its first
use after an install and cached on disk.
"""

from __future__ import annotations

from functools import cache


@cache
def available() -> bool:
    """Whether numba can be imported (the ``fast`` extra is installed)."""
    try:
        import numba  # noqa: F401
    except ImportError:
        return False
    return True
