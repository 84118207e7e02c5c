"""The compiled token rows equal the regex tokens numbered by the hasher's dict."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import dedup.token_table
from dedup import compiled
from dedup.shingle import Hasher, tokenize

pytestmark = pytest.mark.skipif(
    not compiled.available(), reason="numba (the fast extra) is not installed"
)

_PIECES = st.sampled_from(
    ["hà", "nội", "a", "b", "ab", "1990", "_x", "ǅa", "𝐀b", "e\u0301", "\ud800", "日本", "x²",
     " ", "  ", ", ", "-", "\u00a0", "\t", "…", "’", "\u2063", ""]
)  # fmt: skip
_LINES = st.lists(st.lists(_PIECES, max_size=14).map("".join), max_size=8)


def expected_rows(hasher, lines):
    tokens = [tokenize(line) for line in lines]
    rows = hasher.token_ids([t for line in tokens for t in line])
    halves = []
    for line in tokens:
        letters = "".join(line)
        middle = len(letters) // 2
        halves.append(len(letters) % 2 == 0 and letters[:middle] == letters[middle:])
    return rows, [len(line) for line in tokens], halves


@settings(max_examples=200, deadline=None)  # (the first call loads the kernels)
@given(st.lists(_LINES, min_size=1, max_size=4))
def test_compiled_rows_are_the_dicts_rows_call_after_call(calls):
    plain, fast = Hasher(), Hasher()
    for lines in calls:
        rows, counts, halves = fast.line_rows(lines, compiled=True)
        want_rows, want_counts, want_halves = expected_rows(plain, lines)
        assert rows.tolist() == want_rows.tolist()
        assert counts.tolist() == want_counts
        assert halves.tolist() == want_halves
        assert fast.tokens() == plain.tokens()
        plain_rows = fast.line_rows(lines)  # the dict path of the same hasher agrees
        assert all(map(np.array_equal, plain_rows, (rows, counts, halves)))


def test_many_tokens_grow_the_table_and_rows_numbered_elsewhere_are_found(monkeypatch):
    monkeypatch.setattr(dedup.token_table, "_START_SLOTS", 4)  # long probe runs, many growths
    hasher = Hasher()
    hasher.token_ids(["w7", "w300", "zzz"])  # numbered by the dict before the table meets them
    words = [f"w{i}" for i in range(5000)]
    lines = [" ".join(words[i : i + 50]) for i in range(0, len(words), 50)]
    rows, counts, _ = hasher.line_rows(lines, compiled=True)
    strings = hasher.tokens()
    assert [strings[r] for r in rows.tolist()] == words
    assert counts.tolist() == [50] * 100
    assert rows[7] == 0 and rows[300] == 1
    again, _, _ = hasher.line_rows(["zzz w4999 w0 new"], compiled=True)
    assert [strings[r] for r in again.tolist()] == ["zzz", "w4999", "w0", "new"]
    assert len(hasher.tokens()) == 5002  # w0-w4999, zzz, new: none numbered twice


def test_a_token_and_its_prefixes_and_extensions_stay_apart():
    hasher = Hasher()
    line = "ab abc a abcd ab a b ba"
    rows, _, _ = hasher.line_rows([line, line[::-1]], compiled=True)
    strings = hasher.tokens()
    assert [strings[r] for r in rows.tolist()] == tokenize(line) + tokenize(line[::-1])
