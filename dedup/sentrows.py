"""Token and name strings sent once per worker process: later tasks name them by number.

A task's result holds its distinct tokens and name features, which the parent numbers in one
vocabulary. Sending every task's strings makes the worker pickle, and the parent unpickle and
hash, the same common words and names again in every task (names were 93 % of the strings
sent: unlike a token, a name had no number that outlives its task). With these two classes a
worker sends a string in its first task that holds it, and its *key* after: a token's key is
its hasher row (0 or more), a name's is ``~number`` (-1 or less), the name's number in that
worker.
"""

from __future__ import annotations

import itertools
from collections import defaultdict

import numpy as np

from .tfidf import Vocabulary


class _ByKey:
    """Values by key (see the module docstring): token rows and name numbers, each grown as met.

    Args:
        fill: What a key not written yet reads as.
        dtype: The values' type.
    """

    def __init__(self, fill: bool | int, dtype: type) -> None:
        self.fill = fill
        self.by_row = np.full(1024, fill, dtype=dtype)
        self.by_name = np.full(1024, fill, dtype=dtype)

    def read(self, keys: np.ndarray) -> np.ndarray:
        """The value of each key (``fill`` for a key not written)."""
        is_row = keys >= 0
        rows, names = keys[is_row], ~keys[~is_row]
        self.by_row = self._grown(self.by_row, rows)
        self.by_name = self._grown(self.by_name, names)
        values = np.empty(len(keys), dtype=self.by_row.dtype)
        values[is_row], values[~is_row] = self.by_row[rows], self.by_name[names]
        return values

    def write(self, keys: np.ndarray, values: np.ndarray | bool | int) -> None:
        """Set the value of each key (keys read before: the arrays hold them)."""
        is_row = keys >= 0
        values = np.broadcast_to(values, keys.shape)
        self.by_row[keys[is_row]] = values[is_row]
        self.by_name[~keys[~is_row]] = values[~is_row]

    def _grown(self, table: np.ndarray, indices: np.ndarray) -> np.ndarray:
        """``table`` with a slot for each of ``indices`` (doubled at least; new slots ``fill``)."""
        size = int(indices.max(initial=-1)) + 1
        if size <= len(table):
            return table
        grown = np.full(max(2 * len(table), size), self.fill, dtype=table.dtype)
        grown[: len(table)] = table
        return grown


class SentRows:
    """The keys whose string a process has sent, so each string crosses to the parent once.

    A worker takes its tasks in order, and the parent reads the results in order, so the parent
    has read a string when a later task of the same worker names it by key alone.
    """

    def __init__(self) -> None:
        self.sent = _ByKey(False, bool)
        self._names: defaultdict[str, int] = defaultdict(itertools.count().__next__)

    def name_keys(self, names: list[str]) -> np.ndarray:
        """The key (``~number``, -1 or less) of each name, numbering the new ones (int64)."""
        numbers = np.fromiter(map(self._names.__getitem__, names), np.int64, count=len(names))
        return ~numbers

    def fresh(self, keys: np.ndarray) -> np.ndarray:
        """Whether each key's string is sent now (not sent before); marks them sent."""
        fresh = ~self.sent.read(keys)
        self.sent.write(keys, True)
        return fresh


class RowIds:
    """The parent's side of :class:`SentRows`: vocabulary ids of each worker's keys read so far."""

    def __init__(self, vocabulary: Vocabulary) -> None:
        self.vocabulary = vocabulary
        self._ids: dict[int, _ByKey] = {}  # worker -> vocabulary id by key (-1: not read)

    def ids(
        self, strings: list[str], rows: np.ndarray, fresh: np.ndarray, worker: int
    ) -> np.ndarray:
        """The vocabulary id of each distinct token and name of a task, numbering new ones.

        Args:
            strings: The tokens and names sent (those ``fresh``), in order.
            rows: The worker's key of each (see :class:`SentRows`); empty when all were sent.
            fresh: Whether each was sent in ``strings``; empty when all were.
            worker: The process that sent them.
        """
        if not len(fresh):
            return self.vocabulary.ids(strings)
        ids = np.empty(len(fresh), dtype=np.int32)
        ids[fresh] = self.vocabulary.ids(strings)
        known = self._ids.get(worker)
        if known is None:
            known = self._ids[worker] = _ByKey(-1, np.int32)
        old = known.read(rows)[~fresh]
        if (old < 0).any():
            raise ValueError("a task names strings sent in tasks this RowIds has not read")
        ids[~fresh] = old
        known.write(rows[fresh], ids[fresh])
        return ids
