import pytest
from conftest import dev_records
from hypothesis import given, settings
from hypothesis import strategies as st

from dedup import compiled
from dedup.config import NormConfig
from dedup.features import (
    NAME_PREFIX,
    _capitalised_runs,
    _capitalised_runs_by_token,
    document_features,
    name_sequences,
    name_sequences_of_articles,
)


def names(text):
    return [n.split(":", 1)[1] for n in name_sequences(text)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Lindsay Lohan checks into Betty Ford Center", ["lindsay lohan", "betty ford center"]),
        ("The star left . Reid went to Promises on Tuesday .", ["promises", "tuesday"]),
        ("Reid went home.\nThe friend said so.", []),
        ("Tổng thống Nga Vladimir Putin hôm thứ hai", ["nga vladimir putin"]),
        ("ông Nguyễn Quang Huy, 27 tuổi", ["nguyễn quang huy"]),
        ("CNRP tuyên bố", []),
        ("đảng CNRP tuyên bố", ["cnrp"]),
        ("", []),
    ],
)
def test_name_sequences(text, expected):
    assert names(text) == expected


def test_name_sequences_are_normalized_like_every_other_feature():
    assert names("gặp Thanh Hoà") == names("gặp Thanh Hòa") == ["thanh hòa"]
    assert name_sequences("gặp Thanh Hoà")[0] != "thanh hòa"  # kept apart from plain tokens


def test_document_features_weights():
    feats = document_features(["a", "b"], ["t"], ["<n>"], title_weight=2, name_weight=3)
    assert feats.count("t") == 2
    assert feats.count("<n>") == 3
    assert feats.count("a b") == 1


_WORDS = st.sampled_from(
    ["Hà", "Nội", "ông", "A", "b", "1990", "_x", "ǅa", "Ⓐ", "Ông", "İz", "x𝐀", "𝐀b", "U"]
)
_GAPS = st.sampled_from(
    [" ", ", ", " - ", ".", ". ", "!", "?", "\n", "\r\n", "\u2028", "\x1f", "\x85"]
)


@given(st.lists(st.tuples(_WORDS, _GAPS), max_size=12))
def test_runs_by_regex_equal_runs_token_by_token(pieces):
    text = "".join(word + gap for word, gap in pieces).replace("𝐀", "")  # no letter past the BMP
    assert _capitalised_runs(text) == _capitalised_runs_by_token(text)


def test_capitals_past_the_bmp_start_runs_too():
    # 𝐀 (U+1D400) is an upper-case letter: the regex, which knows only the BMP's, must not
    # be used for this text.
    assert names("x 𝐀 Bình Minh") == ["𝐀 bình minh"]
    assert names("Mục 𝐀b Cd") == ["mục 𝐀b cd"]


_LETTERS = st.sampled_from(["Hà", "NỘI", "Hoà", "İz", "ǅa", "Straße", "ΣΑΣ", "Ｍ", "x", "1", "_"])


@given(st.lists(st.tuples(_LETTERS, _GAPS), max_size=10))
def test_name_sequences_are_normalize_lines_of_the_runs(pieces):
    from dedup.normalize import normalize_lines

    text = "".join(word + gap for word, gap in pieces)
    runs = _capitalised_runs(text)
    assert name_sequences(text) == [f"{NAME_PREFIX}{run}" for run in normalize_lines(runs)]


_ANY_WORDS = st.sampled_from(
    ["Hà", "Nội", "ông", "A", "b", "1990", "_x", "ǅa", "Ⓐ", "Ông", "İz", "x𝐀", "𝐀b", "U", "Hoà",
     "ΣΑΣ", "Straße", "E\u0301m", "\ud800", "iPhone", "Ｍ", "[mecloud]", "[/mecloud]"]
)  # fmt: skip
_ANY_GAPS = st.sampled_from(
    [" ", "  ", ", ", " - ", ": “", "\t", "\u00a0", ".", ". ", "!", "?", "\n", "\r\n", "\x85", ""]
)
_TEXTS = st.lists(st.tuples(_ANY_WORDS, _ANY_GAPS), max_size=12).map(
    lambda pieces: "".join(word + gap for word, gap in pieces)
)


@pytest.mark.skipif(not compiled.available(), reason="numba (the fast extra) is not installed")
@settings(deadline=None)  # the first example may compile the kernel
@given(
    st.lists(st.tuples(_TEXTS, _TEXTS), max_size=6),
    st.sampled_from([NormConfig(), NormConfig(casefold=False), NormConfig(strip_embeds=False)]),
)
def test_compiled_names_of_articles_are_each_articles_names(articles, config):
    from dedup.normalize import nfc

    articles = [(title, nfc(text)) for title, text in articles]
    expected = [
        name_sequences(title, config) + name_sequences(text, config, is_nfc=True)
        for title, text in articles
    ]
    assert name_sequences_of_articles(articles, config, compiled=False) == expected
    assert name_sequences_of_articles(articles, config, compiled=True) == expected


@pytest.mark.skipif(not compiled.available(), reason="numba (the fast extra) is not installed")
@pytest.mark.parametrize("corpus", ["vims.jsonl", "ecbplus-dev.jsonl"])
def test_compiled_names_of_real_articles(corpus):
    from dedup.normalize import nfc

    records = dev_records(corpus, 300)
    articles = [(r.get("title") or "", nfc(r["text"])) for r in records]
    expected = name_sequences_of_articles(articles, compiled=False)
    assert name_sequences_of_articles(articles, compiled=True) == expected
    assert sum(map(len, expected)) > 10 * len(articles)  # names found, many of several words
    assert sum(" " in name for found in expected for name in found) > len(articles)
