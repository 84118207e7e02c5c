"""Give freed memory back to the system: large arrays get their own mappings, not heap space.

glibc serves an allocation from its heap unless it is at least the mmap threshold, and it
raises that threshold (up to 32 MB) each time a mapped block is freed. After the first large
numpy temporaries are freed, the next ones (tens of MB each in the clustering stage) come from
the heap, where freed space is often left fragmented and still counted in the process' RSS:
measured at 25,000 articles, the TF-IDF build peaked 50 % above what it had allocated and kept
three times the final matrix after returning. A fixed threshold of 1 MB gives every large
array its own mapping, returned to the system when freed. Small objects are not affected.

The cost: a fresh mapping is zero-filled by the kernel as it is first touched, where a reused
heap block is not. Clustering 25,000 articles (alternating runs on a shared 2-core machine)
peaked at 642-645 MB over its input instead of 791-903 MB, and took 8-27 % longer. Where
that cost is paid over and over (the TF-IDF build's first pass), :func:`heap_reused` lifts
the setting. The command line has it, and the heap trimmed, only for a corpus large for the
machine's memory (:func:`fit_memory`).
"""

from __future__ import annotations

import ctypes
import functools
import gc
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

_M_TRIM_THRESHOLD = -1  # mallopt parameters (glibc malloc.h)
_M_MMAP_THRESHOLD = -3
_DEFAULT_TRIM_THRESHOLD = 128 * 1024  # bytes: glibc's, kept once a threshold is set by hand
MMAP_THRESHOLD = 1 << 20  # bytes
HEAP_THRESHOLD = 32 << 20  # bytes: the largest mmap threshold glibc accepts (64-bit)
HEAP_TRIM_THRESHOLD = 1 << 30  # bytes of free space atop the heap before it is trimmed (C int)
_set_threshold: int | None = None  # what map_large_allocations set, if it took effect
_fitting = False  # fit_memory_to_corpora was called
_trimming = True  # release_freed_memory trims (fit_memory decides, when asked)
_PEAK_BYTES_PER_CHARACTER = 13  # a run's peak RSS a character of text, given nothing back


def map_large_allocations(threshold: int = MMAP_THRESHOLD) -> bool:
    """Have glibc map every allocation of ``threshold`` bytes or more on its own.

    Affects this process and the worker processes it forks afterwards. Does nothing where
    the C library is not glibc (or has no ``mallopt``).

    Args:
        threshold: Bytes, 4096 to 32 MB.

    Returns:
        Whether the setting took effect.
    """
    global _set_threshold
    mallopt = _glibc("mallopt", ctypes.c_int, ctypes.c_int)
    if mallopt is None or not mallopt(_M_MMAP_THRESHOLD, threshold):
        return False
    _set_threshold = threshold
    return True


def fit_memory_to_corpora() -> None:
    """Have :func:`fit_memory` give memory back only for a corpus large for this machine.

    The command line's choice for its process (a library caller's process keeps trimming
    and its allocator's own threshold unless it asks the same).
    """
    global _fitting
    _fitting = True


def fit_memory(characters: int) -> bool:
    """If asked, give freed memory back only when a corpus of ``characters`` is large here.

    Large allocations mapped (:func:`map_large_allocations`) and the heap trimmed
    (:func:`release_freed_memory`), each large array freed leaves the process and the
    memory is zero-filled anew when used again, which costs time and saves memory. Measured
    on news articles, with glibc's adaptive threshold against mapped: 1,000,000 in 490 s
    with 15.2 GB summed PSS against 503 s and 11.0 GB; 200,000 in 101.5 s and 3.5 GB peak
    RSS against 107 s and 2.6 GB; 50,000 in 21.8 s and 1.1 GB against 22.5 s and 0.93 GB,
    and without the trims too 21.9-22.5 s and 1.3 GB against 23.0-23.4 s. So both are done
    only when the run's peak without them, about ``_PEAK_BYTES_PER_CHARACTER`` bytes a
    character of text (measured 7.7-12.7), would take more than a quarter of the memory
    (:func:`_memory_bytes`): on 24 GB, from about 460 million characters (225,000 news
    articles).

    Args:
        characters: The corpus' characters of text.

    Returns:
        Whether memory is given back (large allocations mapped, the heap trimmed).
    """
    global _trimming
    if _set_threshold is not None:
        return True
    if not _fitting:
        return False
    large = characters * _PEAK_BYTES_PER_CHARACTER > _memory_bytes() // 4
    _trimming = large
    return large and map_large_allocations()


def _memory_bytes() -> int:
    """The machine's physical memory, or the control group's limit when lower (0 if unknown)."""
    try:
        memory = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError):
        return 0
    try:
        limit = Path("/sys/fs/cgroup/memory.max").read_text().strip()  # cgroup v2
    except OSError:
        return memory
    return min(memory, int(limit)) if limit.isdigit() else memory


@contextmanager
def heap_reused() -> Iterator[None]:
    """Serve arrays of up to 32 MB from the heap for a while, then give the freed pages back.

    For work that makes many large temporaries one after another, where mapping each on its
    own (:func:`map_large_allocations`) has the kernel zero-fill every one of them as it is
    first touched: the TF-IDF build's first pass counts blocks of a million tokens, tens of
    MB of temporaries each, and keeps only their distinct keys. Inside, freed space is reused
    (and the heap is not trimmed after each free); on leaving, the threshold is set back and
    the free pages are returned (:func:`release_freed_memory`). Not for arrays that outlive
    the work: until the trim, their freed space stays in the process. Measured over the whole
    TF-IDF build of 200,000 news articles (alternated runs): 3.3-3.5 million page faults and
    17-25 s of system time without, 0.26-0.29 million and 4.5-8.5 s with; at 1,000,000 the build
    took 136 s instead of 165 s, but its kept rows' freed space raised the summed memory of the
    processes from 11.0 to 15.8 GB, so only the first pass has it (1,000,000: the build's
    system time 68 CPU-s instead of 98, summed memory 10.8 GB). Does nothing unless
    :func:`map_large_allocations` took effect (glibc's own adaptive threshold already reuses
    the heap).
    """
    mallopt = _glibc("mallopt", ctypes.c_int, ctypes.c_int)
    if _set_threshold is None or mallopt is None:
        yield
        return
    mallopt(_M_TRIM_THRESHOLD, HEAP_TRIM_THRESHOLD)
    mallopt(_M_MMAP_THRESHOLD, HEAP_THRESHOLD)
    try:
        yield
    finally:
        mallopt(_M_MMAP_THRESHOLD, _set_threshold)
        mallopt(_M_TRIM_THRESHOLD, _DEFAULT_TRIM_THRESHOLD)
        release_freed_memory()


def release_freed_memory() -> bool:
    """Give the free pages inside glibc's heap back to the system (``malloc_trim(0)``).

    Arrays under the mmap threshold (the per-task arrays of the paragraph stage, a few
    hundred KB each) live in the heap; once freed, their pages stay in the process' RSS
    until trimmed. The pipeline calls this after dropping the shingles and the tokens.

    Returns:
        Whether memory was released (False where the C library is not glibc, or a corpus
        too small to need it asked for none: :func:`fit_memory`).
    """
    if not _trimming:
        return False
    malloc_trim = _glibc("malloc_trim", ctypes.c_size_t)
    return malloc_trim is not None and bool(malloc_trim(0))


@functools.cache  # one handle: each CDLL makes a class of its own (reference cycles)
def _glibc(name: str, *argtypes: type) -> Any | None:
    """The C library's function ``name`` returning int, or None off Linux or when it lacks it."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        function = getattr(ctypes.CDLL(None), name)
    except (OSError, AttributeError):
        return None
    function.argtypes = list(argtypes)
    function.restype = ctypes.c_int
    return function


@contextmanager
def collector_held_off() -> Iterator[None]:
    """Hold off the cyclic garbage collector for a while (re-enabled after, if it was on).

    For work that makes a great many small objects (lists, tuples, records) and no reference
    cycle: the collections their allocation sets off find nothing, and a full one walks every
    object alive. In the paragraph stage's tasks they cost about 6 % of the stage. A run holds
    it off through each stage but clustering (:mod:`dedup.pipeline`), whose forked workers ran
    far slower at 1,000,000 articles when it was held off there too (1e971d6).
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


@contextmanager
def collections_of_new_objects() -> Iterator[Callable[[], None]]:
    """Let the cyclic garbage collector walk only objects made since the last call of the yield.

    Yields ``spare``: called, it exempts every object alive from collections (:func:`gc.freeze`)
    until the block ends, when they are collected as before (:func:`gc.unfreeze`). For a
    long run that keeps many objects (documents, then what each stage finds) and makes many
    more: each full collection walks every object alive (200,000 news articles: 3.6 s of them
    in the main process, 0.66 s each by the end; spared at each stage, the run took 3-5 %
    less time at 50,000 and 200,000). What is made after a call is still collected. Does
    nothing when objects are frozen already (a caller's own :func:`gc.freeze`, left as it is).
    """
    if gc.get_freeze_count():
        yield lambda: None
        return
    try:
        yield gc.freeze
    finally:
        gc.unfreeze()


def collect_own_garbage() -> None:
    """In a forked worker: collect the cycles it makes, without walking what it inherited.

    The objects it inherited are frozen first (:func:`gc.freeze`): a collection that walked
    them would also copy every page they live on, shared with the parent until then.
    """
    gc.freeze()
    gc.enable()
