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


def _grown(flags: np.ndarray, size: int, fill: bool | int) -> np.ndarray:
    """``flags`` with at least ``size`` slots (doubled at least; new slots ``fill``)."""
    if size <= len(flags):
        return flags
    grown = np.full(max(2 * len(flags), size), fill, dtype=flags.dtype)
    grown[: len(flags)] = flags
    return grown


class SentRows:
    """The keys whose string a process has sent, so each string crosses to the parent once.

    A worker takes its tasks in order, and the parent reads the results in order, so the parent
    has read a string when a later task of the same worker names it by key alone.
    """

    def __init__(self) -> None:
        self.sent = np.zeros(1024, dtype=bool)  # by token row
        self.sent_names = np.zeros(1024, dtype=bool)  # by name number
        self._names: defaultdict[str, int] = defaultdict(itertools.count().__next__)

    def name_keys(self, names: list[str]) -> np.ndarray:
        """The key (``~number``, -1 or less) of each name, numbering the new ones (int64)."""
        numbers = np.fromiter(map(self._names.__getitem__, names), np.int64, count=len(names))
        return ~numbers

    def fresh(self, keys: np.ndarray) -> np.ndarray:
        """Whether each key's string is sent now (not sent before); marks them sent."""
        tokens, names = keys[keys >= 0], ~keys[keys < 0]
        self.sent = _grown(self.sent, int(tokens.max(initial=-1)) + 1, False)
        self.sent_names = _grown(self.sent_names, int(names.max(initial=-1)) + 1, False)
        fresh = np.empty(len(keys), dtype=bool)
        fresh[keys >= 0] = ~self.sent[tokens]
        fresh[keys < 0] = ~self.sent_names[names]
        self.sent[tokens] = True
        self.sent_names[names] = True
        return fresh


class RowIds:
    """The parent's side of :class:`SentRows`: vocabulary ids of each worker's keys read so far."""

    def __init__(self, vocabulary: Vocabulary) -> None:
        self.vocabulary = vocabulary
        # worker -> vocabulary id by token row, and by name number (-1: not read)
        self._ids: dict[int, tuple[np.ndarray, np.ndarray]] = {}

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
        none = np.zeros(0, dtype=np.int32)
        by_row, by_name = self._ids.get(worker, (none, none))
        is_token = rows >= 0
        tokens, names = rows[is_token], ~rows[~is_token]
        by_row = _grown(by_row, int(tokens.max(initial=-1)) + 1, -1)
        by_name = _grown(by_name, int(names.max(initial=-1)) + 1, -1)
        known = np.empty(len(rows), dtype=np.int32)
        known[is_token], known[~is_token] = by_row[tokens], by_name[names]
        if (known[~fresh] < 0).any():
            raise ValueError("a task names tokens sent in tasks this RowIds has not read")
        ids[~fresh] = known[~fresh]
        by_row[tokens[fresh[is_token]]] = ids[is_token][fresh[is_token]]
        by_name[names[fresh[~is_token]]] = ids[~is_token][fresh[~is_token]]
        self._ids[worker] = (by_row, by_name)
        return ids
