r"""The rows of the tokens of many lines in one compiled pass: :meth:`Hasher.line_rows`' engine.

A hasher numbers tokens (runs of word characters, ``\w``) through a dict of their strings,
and ``tokenize`` cuts those strings out with a regex: making and hashing about 400 strings a
news article is most of the paragraph stage's tokenizing. Here the lines of a whole task are
joined, read as code points, cut into tokens and each token found in an open-addressing table
of the tokens seen before, its code points compared (so no two tokens are ever confused), all
in one compiled loop (:func:`dedup.kernels.line_token_rows`). A token's string is made only the
first time a process meets it, when the hasher numbers it as it always does.

:class:`FoldedTokenTable` reads lines not yet folded: each token as written is folded the first
time it is met, so the paragraph stage folds each distinct token once instead of every text
(:func:`dedup.normalize.nfc_and_unfolded_lines` tells when that is the same).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Sequence

import numpy as np

_START_SLOTS = 1 << 16  # table slots at first (doubled when half full)


def every_character(end: int = 0x110000) -> str:
    """The text of every code point below ``end``, in order (surrogates included)."""
    return np.arange(end, dtype=np.uint32).tobytes().decode("utf-32-le", "surrogatepass")


@functools.cache
def word_characters() -> np.ndarray:
    r"""Whether each code point (0 to 0x10FFFF) is a word character of the regex ``\w`` (bool)."""
    every = every_character()
    flags = np.zeros(0x110000, dtype=np.bool_)
    for match in re.finditer(r"\w+", every):
        flags[match.start() : match.end()] = True
    return flags


class TokenTable:
    """A hasher's token rows by code points (only the tokens this table has met).

    Args:
        number: The hasher's numbering of token strings: a row for each (new ones numbered
            and hashed as :meth:`dedup.shingle.Hasher.token_ids` does).
    """

    def __init__(self, number: Callable[[list[str]], np.ndarray]) -> None:
        self._number = number
        self._slots = np.full(_START_SLOTS, -1, dtype=np.int64)  # a row, or -1: empty
        self._slot_hashes = np.zeros(_START_SLOTS, dtype=np.uint64)
        self._known = np.zeros(1 << 16, dtype=np.uint32)  # code points of the tokens met
        self._used = 0  # code points in _known
        self._start = np.zeros(0, dtype=np.int64)  # per row: where its code points start
        self._length = np.zeros(0, dtype=np.int64)  # per row: how many (-1: not met here)
        self._rows = 0  # rows in the table

    def line_rows(self, lines: Sequence[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The rows of the tokens of ``lines`` (texts without line breaks), in order.

        Returns:
            ``(rows, counts, halves)``: the row of each token (int64), the tokens of each line,
            and per line whether its tokens joined (``"".join(tokenize(line))``) are two
            equal halves (an empty line's are).
        """
        from .kernels import line_token_rows

        text = "".join([line + "\n" for line in lines])
        codes = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
        size = len(codes) // 2 + 1  # a token and what ends it take two code points at least
        rows, starts, ends = (np.empty(size, dtype=np.int64) for _ in range(3))
        counts = np.empty(len(lines), dtype=np.int64)
        halves = np.empty(len(lines), dtype=np.bool_)
        found = line_token_rows(
            codes, word_characters(), self._slots, self._slot_hashes, self._known,
            self._start, self._length, rows, starts, ends, counts, halves,
            np.empty(len(codes), dtype=np.uint32),
        )  # fmt: skip
        rows, starts, ends = rows[:found], starts[:found], ends[:found]
        unknown = np.flatnonzero(rows < 0)
        if len(unknown):
            spans = zip(starts[unknown].tolist(), ends[unknown].tolist(), strict=True)
            rows[unknown] = self._number([text[start:end] for start, end in spans])
            self._add(codes, rows[unknown], starts[unknown], ends[unknown])
        return rows, counts, halves

    def rows_of(self, tokens: list[str]) -> np.ndarray:
        """The rows of ``tokens`` (as the hasher numbers them), kept in the table as well."""
        rows = self._number(tokens)
        text = "".join(tokens)
        codes = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
        ends = np.cumsum(np.fromiter(map(len, tokens), dtype=np.int64, count=len(tokens)))
        self._add(codes, rows, np.concatenate(([0], ends[:-1])), ends)
        return rows

    def letters(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(known, start, length)``: row ``r``'s code points are ``known[start[r]:][:length[r]]``.

        ``length[r]`` is -1 for a row the table has not met.
        """
        return self._known, self._start, self._length

    def _add(
        self, codes: np.ndarray, rows: np.ndarray, starts: np.ndarray, ends: np.ndarray
    ) -> None:
        """Put the tokens at ``codes[starts:ends]`` (rows ``rows``) in the table, once each."""
        from .kernels import add_tokens

        rows, first = np.unique(rows, return_index=True)
        if len(self._length) <= rows[-1]:  # room for every row the hasher has numbered
            grown = max(2 * len(self._length), int(rows[-1]) + 1)
            self._start = np.concatenate(
                [self._start, np.zeros(grown - len(self._start), np.int64)]
            )
            self._length = np.concatenate([self._length, np.full(grown - len(self._length), -1)])
        new = self._length[rows] < 0  # rows numbered before by another path are met here first
        rows, starts, ends = rows[new], starts[first][new], ends[first][new]
        if not len(rows):
            return
        needed = self._used + int((ends - starts).sum())
        if needed > len(self._known):
            self._known = np.concatenate([self._known, np.zeros(needed, dtype=np.uint32)])
        if 2 * (self._rows + len(rows)) > len(self._slots):
            self._grow(2 * (self._rows + len(rows)))
        self._used = add_tokens(
            codes, starts, ends, rows, self._slots, self._slot_hashes, self._known,
            self._start, self._length, self._used,
        )  # fmt: skip
        self._rows += len(rows)

    def _grow(self, rows: int) -> None:
        """New slots, at least twice ``rows``, holding every row met."""
        from .kernels import rehash_tokens

        size = len(self._slots)
        while size < 2 * rows:
            size *= 2
        self._slots = np.full(size, -1, dtype=np.int64)
        self._slot_hashes = np.zeros(size, dtype=np.uint64)
        rehash_tokens(self._known, self._start, self._length, self._slots, self._slot_hashes)


class FoldedTokenTable:
    """A hasher's rows of folded tokens, found by the code points of the tokens as written.

    Each distinct token as written (``Hoà``, ``hoà``, ``HOÀ``) is folded once, the first time
    this table meets it, and maps to the row of its folded form (``hòa``): lines need not be
    folded first (:func:`dedup.normalize.nfc_and_unfolded_lines` tells when that is the same).

    Args:
        folded: The hasher's table of folded tokens (of lines folded first): the folded tokens
            met here are numbered and kept there too, their letters read for the halves.
        fold: Each token of a list folded alone (each folded token is still one token).
    """

    def __init__(self, folded: TokenTable, fold: Callable[[list[str]], list[str]]) -> None:
        self._folded = folded
        self._fold = fold
        self._written = TokenTable(self._number_written)  # as written -> its number here
        self._written_count = 0  # tokens as written numbered so far
        self._row = np.zeros(1024, dtype=np.int64)  # per number: the row of the token folded

    def line_rows(self, lines: Sequence[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """:meth:`TokenTable.line_rows` of ``lines`` folded (``lines`` as written)."""
        from .kernels import line_halves

        numbers, counts, _ = self._written.line_rows(lines)  # (the written halves: not asked)
        rows = self._row[numbers]
        halves = np.empty(len(counts), dtype=np.bool_)
        letters, start, length = self._folded.letters()
        line_halves(rows, counts, start, length, letters, halves)
        return rows, counts, halves

    def _number_written(self, tokens: list[str]) -> np.ndarray:
        """Number tokens as written that the table lacks (repeats allowed); fold and row them.

        The table asks only for tokens it has not met, so each distinct one is new here.
        """
        first = self._written_count
        numbers = {token: first + k for k, token in enumerate(dict.fromkeys(tokens))}
        self._written_count += len(numbers)
        rows = self._folded.rows_of(self._fold(list(numbers)))
        while len(self._row) < self._written_count:
            self._row = np.concatenate([self._row, np.zeros_like(self._row)])
        self._row[first : self._written_count] = rows
        return np.fromiter(map(numbers.__getitem__, tokens), dtype=np.int64, count=len(tokens))
