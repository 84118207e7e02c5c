"""Token strings sent once per worker process: the paragraph stage's tasks name the rest by row.

A task's result holds its distinct tokens, which the parent numbers in one vocabulary. Sending
every task's tokens as strings makes the worker pickle, and the parent unpickle and hash, the
same common words again in every task; with these two classes a worker sends a token's string
in its first task that holds it, and its hasher row (its number in that worker) after.
"""

from __future__ import annotations

import numpy as np

from .tfidf import Vocabulary


class SentRows:
    """The hasher rows whose token a process has sent, so each token crosses to the parent once.

    A worker takes its tasks in order, and the parent reads the results in order, so the parent
    has read a token when a later task of the same worker names it by row alone.
    """

    def __init__(self) -> None:
        self.sent = np.zeros(1024, dtype=bool)

    def fresh(self, rows: np.ndarray) -> np.ndarray:
        """Whether each row (-1: a name, always sent) is sent now; marks them sent."""
        if len(rows) and rows.max() >= len(self.sent):
            grown = np.zeros(max(2 * len(self.sent), int(rows.max()) + 1), dtype=bool)
            grown[: len(self.sent)] = self.sent
            self.sent = grown
        fresh = (rows < 0) | ~self.sent[rows]
        self.sent[rows[rows >= 0]] = True
        return fresh


class RowIds:
    """The parent's side of :class:`SentRows`: vocabulary ids of each worker's rows read so far."""

    def __init__(self, vocabulary: Vocabulary) -> None:
        self.vocabulary = vocabulary
        self._ids: dict[int, np.ndarray] = {}  # worker -> vocabulary id by row (-1: not read)

    def ids(
        self, strings: list[str], rows: np.ndarray, fresh: np.ndarray, worker: int
    ) -> np.ndarray:
        """The vocabulary id of each distinct token and name of a task, numbering new ones.

        Args:
            strings: The tokens and names sent (those ``fresh``), in order.
            rows: The worker's row of each token (-1: a name); empty when all were sent.
            fresh: Whether each was sent in ``strings``; empty when all were.
            worker: The process that sent them.
        """
        if not len(fresh):
            return self.vocabulary.ids(strings)
        ids = np.empty(len(fresh), dtype=np.int32)
        ids[fresh] = self.vocabulary.ids(strings)
        known = self._ids.get(worker, np.zeros(0, dtype=np.int32))
        if not fresh.all() and not len(known):
            raise ValueError("a task names tokens sent in tasks this RowIds has not read")
        ids[~fresh] = known[rows[~fresh]]
        new = fresh & (rows >= 0)
        if new.any() and rows.max() >= len(known):
            grown = np.full(max(2 * len(known), int(rows.max()) + 1), -1, dtype=np.int32)
            grown[: len(known)] = known
            known = grown
        known[rows[new]] = ids[new]
        self._ids[worker] = known
        return ids
