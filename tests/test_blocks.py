"""Blocks of the story graph clustered apart, in worker processes: the same as one clustering."""

from __future__ import annotations

import os

import numpy as np
import pytest
from conftest import dev_records

from dedup import cluster
from dedup.blocks import connected_blocks, map_blocks, pairs_by_block
from dedup.cluster import EventStoryClusterer
from dedup.io.dates import parse_date
from dedup.linkage import story_labels, story_pairs
from dedup.normalize import normalize_text
from dedup.shingle import tokenize
from dedup.splits import split_merged


def partition(labels):
    groups = {}
    for i, label in enumerate(np.asarray(labels).tolist()):
        groups.setdefault(label, set()).add(i)
    return {frozenset(g) for g in groups.values()}


def test_connected_blocks_hold_chained_rows_and_leave_lone_rows_out():
    first, second = np.array([5, 0, 2, 7]), np.array([6, 2, 3, 8])
    blocks = connected_blocks(10, first, second)
    assert [b.tolist() for b in blocks] == [[0, 2, 3], [5, 6], [7, 8]]
    pairs = (first, second, np.array([0.5, 0.6, 0.7, 0.8]))
    by_block = pairs_by_block(blocks, 10, pairs)
    assert [p[2].tolist() for p in by_block] == [[0.6, 0.7], [0.5], [0.8]]
    assert connected_blocks(4, np.zeros(0, np.int64), np.zeros(0, np.int64)) == []


def test_map_blocks_in_processes_returns_every_result_in_item_order():
    offset = np.arange(5) * 1000  # reaches the workers through the fork, not by pickling
    items = list(range(40))

    def work(item):  # a closure: it could not be pickled to a spawned worker
        return (item, int(offset[item % 5]), os.getpid())

    costs = [float((i % 7) ** 2 + 1) for i in items]
    serial = map_blocks(work, items, costs, jobs=1)
    forked = map_blocks(work, items, costs, jobs=2)
    assert [r[:2] for r in forked] == [r[:2] for r in serial]
    assert {r[2] for r in serial} == {os.getpid()}
    assert os.getpid() not in {r[2] for r in forked}  # run by the workers


def test_tasks_share_both_the_cost_and_the_items():
    from dedup.blocks import _TASKS_PER_JOB, _tasks

    # A few large blocks and very many small ones, as a large corpus has: on cost alone,
    # the small ones would crowd into the last tasks (each block also has a fixed cost).
    costs = [10_000.0**2, 3_000.0**2] + [float(rows**2) for rows in [2, 3, 8] * 20_000]
    tasks = _tasks(costs, jobs=2)
    shares = _TASKS_PER_JOB * 2
    assert sorted(i for task in tasks for i in task) == list(range(len(costs)))
    assert max(len(task) for task in tasks) <= -(-len(costs) // shares)
    assert len(tasks) <= 2 * shares + 1
    assert tasks[0] == [0]  # the costliest first, alone
    assert [costs[i] for task in tasks for i in task] == sorted(costs, reverse=True)


def test_the_workers_trim_their_heaps(tmp_path, monkeypatch):
    import dedup.blocks as blocks

    log = tmp_path / "trims"

    def logged_trim():  # the workers fork after the patch, so they call this one
        with open(log, "a") as f:
            f.write(f"{os.getpid()}\n")
        return True

    monkeypatch.setattr(blocks, "release_freed_memory", logged_trim)
    items = list(range(40))
    costs = [float(i % 5 + 1) for i in items]
    assert map_blocks(lambda item: item * 2, items, costs, jobs=2) == [i * 2 for i in items]
    trims = log.read_text().split()
    assert 1 <= len(trims) <= len(blocks._tasks(costs, 2))  # at most one per task
    assert str(os.getpid()) not in trims  # in the workers


def test_trims_take_an_eighth_of_the_work_they_follow(monkeypatch):
    import dedup.blocks as blocks

    clock = [0.0]
    trims = []

    def trim():  # a trim that takes 1 s of the fake clock
        trims.append(clock[0])
        clock[0] += 1.0
        return True

    monkeypatch.setattr(blocks.time, "perf_counter", lambda: clock[0])
    monkeypatch.setattr(blocks, "release_freed_memory", trim)
    spacing = blocks._Trims()
    spacing.after(0.5)  # the first task trims: no cost known yet
    assert len(trims) == 1
    spacing.after(blocks._TRIM_SHARE - 1.0)
    assert len(trims) == 1  # 7 s of work since a 1 s trim: not yet
    spacing.after(1.0)
    assert len(trims) == 2  # 8 s
    spacing.after(blocks._TRIM_SHARE - 0.5)
    assert len(trims) == 2  # the count starts again after each trim


def _fit(records, jobs):
    def tokens(text):
        return tokenize(normalize_text(text or ""))

    return EventStoryClusterer(jobs=jobs).fit(
        [tokens(r["text"]) for r in records],
        titles=[tokens(r.get("title")) for r in records],
        published=[parse_date(r.get("date")) for r in records],
    )


@pytest.mark.parametrize("name", ["vims.jsonl", "ecbplus-dev.jsonl"])
def test_blocks_in_two_processes_equal_one_clustering_of_every_row(name):
    records = dev_records(name, 2000)
    serial, forked = _fit(records, 1), _fit(records, 2)
    assert np.array_equal(serial.story_labels_, forked.story_labels_)
    assert np.array_equal(serial.event_labels_, forked.event_labels_)
    # The stories equal those of one linkage of every row, then the split of merged stories.
    whole = story_labels(serial.matrix_, serial.story_threshold_, strays=True)
    median = cluster.background_similarity(serial.matrix_)[0]
    cut = 1.0 - serial.story_threshold_
    whole = split_merged(serial.matrix_, whole, median, max_rows=cluster._DENSE_EVENT_ROWS, cut=cut)
    assert partition(serial.story_labels_) == partition(whole)
    assert len(set(serial.story_labels_.tolist())) < len(records)  # some stories were found


@pytest.mark.parametrize("name", ["vims.jsonl", "ktlab.jsonl", "ecbplus-dev.jsonl"])
def test_blocks_of_dense_size_give_the_stories_of_their_pairs_graph(monkeypatch, name):
    """A block clustered on its dense similarities, or over its pairs: the same stories."""
    fitted = _fit(dev_records(name, 2000), 1)
    n = fitted.matrix_.shape[0]
    pairs = story_pairs(fitted.matrix_, fitted.story_threshold_)
    found = connected_blocks(n, pairs[0], pairs[1])
    tasks = list(zip(found, pairs_by_block(found, n, pairs), strict=True))
    assert max(map(len, found)) > 10  # blocks that chain several articles
    for task in tasks:
        dense, packed = fitted._block_stories(task)
        with monkeypatch.context() as patched:
            patched.setattr(cluster, "_DENSE_EVENT_ROWS", 0)  # over its pairs
            graph, none = fitted._block_stories(task)
        assert packed is not None and none is None
        assert partition(dense) == partition(graph)
