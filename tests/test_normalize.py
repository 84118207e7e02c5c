import re
import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dedup.config import NormConfig
from dedup.normalize import (
    _MAYBE_NOT_NFC_FOLDED,
    clean_whitespace,
    fold,
    fold_lines,
    fold_nfc_lines,
    nfc,
    nfc_and_fold_lines,
    nfc_and_unfolded_lines,
    normalize_lines,
    normalize_text,
    place_tones,
    strip_embeds,
)
from dedup.shingle import tokenize


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("hoà bình", "hòa bình"),  # seed 004 (new style) meets seed 000 (old style)
        ("hòa bình", "hòa bình"),
        ("Thuý Kiều", "thúy kiều"),
        ("khoẻ mạnh", "khỏe mạnh"),
        ("HOÀ", "hòa"),
        ("quý", "quý"),  # the u of "qu" is part of the consonant: tone stays on y
        ("hoàng", "hoàng"),  # a final consonant: both styles agree
        ("má mà mả", "má mà mả"),  # diacritics are never stripped
        ("Đà Nẵng", "đà nẵng"),
        ("a\u200bb\u00a0c", "ab c"),
        ("  many   spaces\n\tand tabs ", "many spaces and tabs"),
        ("video [mecloud]OHzMHprpEs[/mecloud] end", "video end"),
        ("Café", "café"),
    ],
)
def test_normalize_table(text, expected):
    assert normalize_text(text) == expected


def test_nfd_equals_nfc():
    text = "Tổng thống Nga hoà bình thuý"
    assert normalize_text(unicodedata.normalize("NFD", text)) == normalize_text(text)


def test_keep_case_still_places_tones():
    assert normalize_text("Hoà THUÝ", NormConfig(casefold=False)) == "Hòa THÚY"


def test_keep_newlines():
    assert normalize_text("a  b\n\n  c", keep_newlines=True) == "a b\nc"


def test_steps_are_small_pure_functions():
    assert place_tones("thuý") == "thúy"
    assert strip_embeds("[x]1[/x]") == " "
    assert clean_whitespace("\ufeffa  b") == "a b"


@given(st.text())
def test_idempotent(text):
    once = normalize_text(text)
    assert normalize_text(once) == once


@given(st.text())
def test_output_is_nfc(text):
    out = normalize_text(text)
    assert unicodedata.is_normalized("NFC", out)


@given(st.text(alphabet=st.sampled_from("hoàáảãạuyýỳèéoe qđ ")))
def test_tone_placement_idempotent_on_vietnamese_letters(text):
    once = place_tones(text)
    assert place_tones(once) == once


_CONFIGS = [
    NormConfig(),
    NormConfig(casefold=False),
    NormConfig(casefold=False, tone_placement=False),
    NormConfig(strip_embeds=False),
]
# Letters, marks and codes where a step could act across a line break if it were careless.
_PIECES = ["o", "u", "q", "Q", "O", "a", "y", " ", "\t", ".", "\u200b", "\u0301", "\u0323"]
_PIECES += ["İ", "Σ", "oà", "uý", "oẻ", "[x]", "[/x]", "[", "]", "\n"]
_TRICKY = st.lists(st.sampled_from(_PIECES), max_size=20).map("".join)


@pytest.mark.parametrize("config", _CONFIGS)
@given(texts=st.lists(_TRICKY | st.text(), max_size=6))
def test_lines_in_one_pass_equal_one_at_a_time(config, texts):
    lines = [line for text in texts for line in text.split("\n")]
    assert normalize_lines(lines, config) == [normalize_text(line, config) for line in lines]
    assert fold_lines(lines, config) == [fold(line, config) for line in lines]


@pytest.mark.parametrize("config", _CONFIGS)
@given(texts=st.lists(_TRICKY | st.text(), max_size=6))
def test_nfc_and_fold_lines_equal_each_step_alone(config, texts):
    lines = [line for text in texts for line in text.splitlines()]
    joined, folded = nfc_and_fold_lines(lines, config)
    assert joined == unicodedata.normalize("NFC", "\n".join(lines))
    assert joined.split("\n") == [unicodedata.normalize("NFC", line) for line in lines] or not lines
    assert folded == [fold(line, config) for line in lines]


@pytest.mark.parametrize("config", _CONFIGS)
@given(text=_TRICKY | st.text())
def test_fold_of_nfc_text_skips_nothing(config, text):
    assert fold(unicodedata.normalize("NFC", text), config, is_nfc=True) == fold(text, config)


def test_moved_tone_pair_composes_with_a_following_mark():
    # "hoà" + U+0301: once the tone moves, "a" + U+0301 is "á" (NFC again needed).
    folded = fold("ho\u00e0\u0301 x")
    assert folded == unicodedata.normalize("NFC", "h\u00f2a\u0301 x") == "h\u00f2\u00e1 x"


def test_embed_spanning_lines_is_folded_line_by_line():
    lines = ["a [mecloud]x", "y[/mecloud] b"]
    assert normalize_lines(lines) == ["a [mecloud]x", "y[/mecloud] b"]


@pytest.mark.parametrize("config", _CONFIGS)
@given(text=_TRICKY | st.text())
def test_fold_gives_the_tokens_of_normalize_text(config, text):
    assert tokenize(fold(text, config)) == tokenize(normalize_text(text, config))


_MARKED = st.lists(
    st.sampled_from(
        ["a", "e", "o", "u", "y", "đ", " ", "\n", "\u0301", "\u0300", "\u0323", "\u0302"]
    )
    | st.sampled_from(["\u031b", "\u1100", "\u1161", "\u11a8", "\u212b", "\u0344", "𝐀", "\u0f73"])
    | st.characters(),
    max_size=100,
).map("".join)


@given(_MARKED)
def test_nfc_equals_unicodedata(text):
    assert nfc(text) == unicodedata.normalize("NFC", text)
    decomposed = unicodedata.normalize("NFD", text)
    assert nfc(decomposed) == unicodedata.normalize("NFC", decomposed)  # past 32 stretches too


_FOLDS_NOT_NFC = st.lists(
    st.sampled_from(["İ", "ǰ", "ΐ", "ẘ", "W\u030a", "I\u0307", "Ǹ", "ß", "oà", "q", " ", "x"])
    | st.characters(),
    max_size=30,
).map("".join)


@pytest.mark.parametrize(
    "config", [NormConfig(), NormConfig(strip_embeds=False), NormConfig(tone_placement=False)]
)
@given(text=_FOLDS_NOT_NFC)
def test_fold_equals_nfc_after_every_step(config, text):
    # The reference normalizes after each step; fold skips the steps one search shows idle.
    expected = unicodedata.normalize(
        "NFC", "".join(c for c in text if c not in "\u200b\u200c\u200d\u2060\ufeff\u00ad")
    )
    if config.strip_embeds:
        expected = strip_embeds(expected)
    expected = unicodedata.normalize("NFC", expected.casefold())
    if config.tone_placement:
        expected = unicodedata.normalize("NFC", place_tones(expected))
    assert fold(text, config) == expected
    assert fold("W\u030a", config) == "ẘ"  # W with a ring is NFC; its folding is not


@pytest.mark.parametrize("config", _CONFIGS)
@given(texts=st.lists(_TRICKY | _FOLDS_NOT_NFC | st.text(), max_size=6))
def test_unfolded_lines_fold_token_by_token(config, texts):
    lines = [line for text in texts for line in text.splitlines()]
    joined, unfolded = nfc_and_unfolded_lines(lines, config)
    assert joined == unicodedata.normalize("NFC", "\n".join(lines))
    if unfolded is None:  # the whole text must be folded: from the NFC given
        assert fold_nfc_lines(lines, joined, config) == [fold(line, config) for line in lines]
        return
    assert len(unfolded) == len(lines)
    for line, as_written in zip(lines, unfolded, strict=True):
        by_token = [fold(token, config) for token in tokenize(as_written)]
        assert by_token == tokenize(fold(line, config))
        assert all(tokenize(token) == [token] for token in by_token)


@pytest.mark.parametrize(
    ("lines", "by_token"),
    [
        (["Hoà bình", "THUÝ"], True),
        ([], True),
        (["ho\u0300a\u0300 x"], True),  # decomposed: NFC first
        (["a\u200bb c"], True),  # the zero-width space is dropped: one token "ab"
        (["video [mecloud]x[/mecloud] end"], False),  # an embed code is removed whole
        (["İstanbul"], False),  # its folding has a combining dot: NFC once folded
        (["x\u0301\u0323"], False),  # a mark that stays apart
    ],
)
def test_unfolded_lines_or_none(lines, by_token):
    _, unfolded = nfc_and_unfolded_lines(lines)
    assert (unfolded is not None) == by_token
    if unfolded is not None:
        assert [tokenize(fold(t)) for line in unfolded for t in tokenize(line)] == [
            [t] for line in lines for t in tokenize(fold(line))
        ]
    assert nfc_and_unfolded_lines(lines, NormConfig(casefold=False))[1] is None


def test_case_folding_keeps_each_character_a_word_character_or_not():
    # Why folding token by token is folding the text (nfc_and_unfolded_lines): every code
    # point that stays NFC once folded keeps its kind (a word character or not) when folded.
    word = re.compile(r"\w")
    changed = []
    for code in range(0x110000):
        char = chr(code)
        if 0xD800 <= code < 0xE000 or _MAYBE_NOT_NFC_FOLDED.match(char):
            continue
        kind = word.match(char) is not None
        if any((word.match(c) is not None) != kind for c in char.casefold()):
            changed.append(char)
    assert changed == []
