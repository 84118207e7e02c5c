"""The compiled token rows equal the regex tokens numbered by the hasher's dict."""

import pickle

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import dedup.token_table
from dedup import compiled
from dedup.config import NormConfig
from dedup.normalize import fold_lines
from dedup.shingle import Hasher, tokenize, two_equal_halves

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


_WRITTEN = st.sampled_from(
    ["Hà", "hà", "HÀ", "Hoà", "hòa", "THUÝ", "thúy", "Straße", "STRASSE", "ǅa", "𝐀b", "ΣΑΣ", "1990",
     " ", ", ", "\u00a0", "…", ""]
)  # fmt: skip
_WRITTEN_LINES = st.lists(st.lists(_WRITTEN, max_size=10).map("".join), max_size=6)


@settings(max_examples=200, deadline=None)
@given(st.lists(_WRITTEN_LINES, min_size=1, max_size=4))
def test_tokens_as_written_give_the_rows_of_the_folded_lines(calls):
    config = NormConfig()
    folded, plain, fast = Hasher(), Hasher(), Hasher()
    for lines in calls:
        want = folded.line_rows(fold_lines(lines, config))
        for hasher, compiled_path in ((plain, False), (fast, True)):
            got = hasher.line_rows(lines, compiled=compiled_path, norm=config)
            assert [hasher.tokens()[r] for r in got[0].tolist()] == [
                folded.tokens()[r] for r in want[0].tolist()
            ]
            assert got[1].tolist() == want[1].tolist()
            assert got[2].tolist() == want[2].tolist()
    assert fast.tokens() == plain.tokens() == folded.tokens()  # numbered in the same order


def test_a_hasher_with_tokens_as_written_pickles_and_goes_on():
    hasher = Hasher()
    config = NormConfig()
    first = hasher.line_rows(["Hoà Bình hòa"], compiled=True, norm=config)
    assert first[0].tolist() == [0, 1, 0]
    copy = pickle.loads(pickle.dumps(hasher))  # noqa: S301 - our own bytes
    for h in (hasher, copy):
        rows, counts, halves = h.line_rows(["HOÀ bình", "Hòa hoà"], compiled=True, norm=config)
        assert rows.tolist() == [0, 1, 0, 0] and counts.tolist() == [2, 2]
        assert halves.tolist() == [False, True]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.lists(st.sampled_from(["a", "b", "ab", "ba", "aab", "ǅ", "𝐀"]), max_size=7)))
def test_line_halves_read_the_letters_across_tokens(lines):
    from dedup.kernels import line_halves

    strings = sorted({token for line in lines for token in line})
    row = {token: r for r, token in enumerate(strings)}
    counts = np.array([len(token) for token in strings], dtype=np.int64)
    starts = np.cumsum(counts) - counts
    letters = np.array([ord(c) for token in strings for c in token], dtype=np.uint32)
    rows = np.array([row[t] for line in lines for t in line], dtype=np.int64)
    halves = np.empty(len(lines), dtype=np.bool_)
    line_halves(rows, np.array(list(map(len, lines)), np.int64), starts, counts, letters, halves)
    assert halves.tolist() == [two_equal_halves("".join(line)) for line in lines]
