"""The allocator setting that returns freed arrays to the system."""

import subprocess
import sys

import pytest

from dedup.memory import map_large_allocations


def _growth_after_freeing(setting: bool) -> float:
    """MB of RSS a process keeps after freeing 2 MB arrays allocated between small survivors."""
    code = f"""
import numpy as np
from dedup.memory import map_large_allocations
def rss():
    return int(open("/proc/self/statm").read().split()[1]) * 4096 / 2**20
if {setting}:
    assert map_large_allocations()
big = np.ones(1 << 21)  # 16 MB freed: glibc raises its threshold to it
del big
base = rss()
blocks, survivors = [], []
for _ in range(100):
    blocks.append(np.ones(1 << 18))
    survivors.append(np.ones(64))
del blocks
print(rss() - base)
"""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return float(done.stdout.strip())


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's mallopt")
def test_setting_takes_effect_and_freed_arrays_leave():
    assert map_large_allocations() is True
    assert _growth_after_freeing(True) < 2.0  # 200 MB allocated and freed


def _kept_after_freeing_small_blocks(trim: bool) -> float:
    """MB of RSS kept after freeing 400 KB arrays (from the heap, not mapped) between survivors."""
    code = f"""
import numpy as np
from dedup.memory import map_large_allocations, release_freed_memory
def rss():
    return int(open("/proc/self/statm").read().split()[1]) * 4096 / 2**20
assert map_large_allocations()
base = rss()
blocks, survivors = [], []
for _ in range(500):
    blocks.append(np.ones(50_000))  # 400 KB: under the 1 MB threshold, from the heap
    survivors.append(np.ones(2_000))  # 16 KB: from the heap too, between the blocks
del blocks
if {trim}:
    assert release_freed_memory()
print(rss() - base)
"""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return float(done.stdout.strip())


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's malloc_trim")
def test_trimming_returns_freed_heap_blocks():
    assert _kept_after_freeing_small_blocks(False) > 150.0  # 200 MB freed, held in the heap
    assert _kept_after_freeing_small_blocks(True) < 20.0  # the 8 MB of survivors stay


def _faults_and_kept_with_heap_reused(reused: bool) -> tuple[int, float]:
    """Page faults of 3 MB arrays allocated and freed in turn; MB of RSS kept once done."""
    code = f"""
import resource
from contextlib import nullcontext
import numpy as np
from dedup.memory import heap_reused, map_large_allocations
def rss():
    return int(open("/proc/self/statm").read().split()[1]) * 4096 / 2**20
assert map_large_allocations()
base = rss()
with heap_reused() if {reused} else nullcontext():
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    for _ in range(40):
        np.ones(3 << 17)  # 3 MB (under numpy's 4 MB for huge pages), freed at once
    faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before
    blocks, survivors = [], []
    for _ in range(30):
        blocks.append(np.ones(3 << 17))
        survivors.append(np.ones(64))
    del blocks
print(faults, rss() - base)
"""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    faults, kept = done.stdout.split()
    return int(faults), float(kept)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's mallopt")
def test_heap_reused_saves_the_zero_fill_and_returns_the_pages_on_leaving():
    mapped_faults, mapped_kept = _faults_and_kept_with_heap_reused(False)
    reused_faults, reused_kept = _faults_and_kept_with_heap_reused(True)
    assert mapped_faults > 40 * 600  # each 3 MB array is 768 fresh pages
    assert reused_faults < mapped_faults / 10  # the first one's pages, then reused
    assert mapped_kept < 5.0 and reused_kept < 5.0  # 90 MB freed either way


def test_trimming_makes_no_reference_cycles():
    import gc

    from dedup.memory import release_freed_memory

    gc.collect()
    gc.disable()
    try:
        for _ in range(20):  # once per large linkage: each must leave nothing behind
            release_freed_memory()
        assert gc.collect() == 0
    finally:
        gc.enable()


def _collector_on(_item):
    import gc

    return gc.isenabled()


def test_forked_block_workers_collect_their_own_cycles():
    from dedup.blocks import map_blocks
    from dedup.memory import collector_held_off

    with collector_held_off():  # as a caller may hold it
        assert map_blocks(_collector_on, list(range(8)), [1.0] * 8, jobs=2) == [True] * 8


def test_spared_objects_are_frozen_until_the_block_ends():
    import gc

    from dedup.memory import collections_of_new_objects

    assert gc.get_freeze_count() == 0
    with collections_of_new_objects() as spare:
        kept = [[n] for n in range(1000)]  # tracked containers
        assert gc.get_freeze_count() == 0  # nothing frozen before the first call
        spare()
        assert gc.get_freeze_count() >= len(kept)
    assert gc.get_freeze_count() == 0  # all of them collected as before


def test_a_callers_frozen_objects_are_left_as_they_are():
    import gc

    from dedup.memory import collections_of_new_objects

    gc.freeze()
    try:
        frozen = gc.get_freeze_count()
        with collections_of_new_objects() as spare:
            kept = [[n] for n in range(1000)]
            spare()
            assert gc.get_freeze_count() == frozen  # nothing more frozen
        assert gc.get_freeze_count() == frozen and kept  # and nothing thawed
    finally:
        gc.unfreeze()


def test_frozen_objects_are_thawed_when_the_block_fails():
    import gc

    from dedup.memory import collections_of_new_objects

    with pytest.raises(KeyError), collections_of_new_objects() as spare:
        spare()
        raise KeyError("x")
    assert gc.get_freeze_count() == 0


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's mallopt")
def test_memory_is_given_back_for_large_corpora_when_asked():
    code = """
from dedup import memory
def trimmed():  # whether freed heap blocks are given back
    blocks = [bytearray(50_000) for _ in range(200)]  # under any mmap threshold: the heap
    del blocks
    return memory.release_freed_memory()
huge = memory._memory_bytes()  # characters: 13 times the memory at the peak
assert not memory.fit_memory(huge) and trimmed()  # not asked: trims
memory.fit_memory_to_corpora()
assert not memory.fit_memory(10**6) and memory._set_threshold is None  # small
assert not trimmed()  # no trim either
assert memory.fit_memory(huge) and memory._set_threshold == memory.MMAP_THRESHOLD
assert trimmed()
assert memory.fit_memory(0)  # once mapped, they stay so
print("ok")
"""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.stdout == "ok\n", done.stderr


def test_memory_is_the_machines_or_less():
    import os

    from dedup.memory import _memory_bytes

    physical = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    assert 0 < _memory_bytes() <= physical


def test_the_pipeline_fits_allocations_to_its_text(monkeypatch):
    import dedup
    from dedup import pipeline

    asked = []
    monkeypatch.setattr(pipeline, "fit_memory", asked.append)
    docs = [dedup.Document("a", "Một bài báo."), dedup.Document("b", "Bài khác nữa.")]
    pipeline.run(docs)
    assert asked == [len("Một bài báo.") + len("Bài khác nữa.")]
