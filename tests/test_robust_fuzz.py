"""Fuzzing with hypothesis: readers, normalizer, and the repeated-paragraph check.

Arbitrary bytes into the JSONL and CSV readers may only ever raise InputError; arbitrary text
into normalize_text never crashes and is idempotent; the prefix-filtered repeated-paragraph
check gives exactly what comparing every pair gives.
"""

from __future__ import annotations

import unicodedata

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dedup.config import NormConfig, ParagraphConfig
from dedup.errors import InputError
from dedup.io.readers import read_documents
from dedup.normalize import normalize_text
from dedup.paragraphs import ParagraphCleaner
from dedup.shingle import jaccard_containment
from dedup.types import Rejected

FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Bytes that look like the inputs: JSON and CSV punctuation, UTF-8 pieces, BOM, CR, NUL.
_PIECES = [
    b'{"id": ', b'"text": ', b'"', b"}", b"{", b",", b"\n", b"\r\n", b"\\u0000", b"\\ud800",
    b"\xef\xbb\xbf", b"\x00", b"\xff", b"\xc3", b"\xc3\xa0", "hòa".encode(), b"null", b"5",
    b"[", b"]", b'"a"', b"id,text", b'"x\ny"', b"\t",
]  # fmt: skip
_bytes = st.one_of(
    st.binary(max_size=300),
    st.lists(st.sampled_from(_PIECES), max_size=40).map(b"".join),
)


def _read_all(tmp_path, name: str, data: bytes, on_error: str) -> tuple[int, list[Rejected]]:
    path = tmp_path / name
    path.write_bytes(data)
    rejected: list[Rejected] = []
    docs = list(read_documents([path], on_error=on_error, rejected=rejected))
    for doc in docs:
        assert isinstance(doc.id, str) and isinstance(doc.text, str)
    return len(docs), rejected


@FUZZ
@given(data=_bytes, name=st.sampled_from(["in.jsonl", "in.csv", "in.tsv", "in.dat"]))
def test_readers_raise_only_input_errors(tmp_path_factory, data, name):
    tmp_path = tmp_path_factory.mktemp("fuzz")
    try:
        _read_all(tmp_path, name, data, "fail")
    except InputError as error:
        assert str(error).startswith(str(tmp_path / name))
        assert "\n" not in str(error)


@FUZZ
@given(data=_bytes)
def test_skipping_jsonl_loses_no_record(tmp_path_factory, data):
    # Every non-blank line is either a document or a reject holding that line's bytes.
    tmp_path = tmp_path_factory.mktemp("fuzz")
    count, rejected = _read_all(tmp_path, "in.jsonl", data, "skip")
    lines = [line for line in data.split(b"\n") if line.strip()]  # LF ends a line, not CR
    assert count + len(rejected) == len(lines) - _blank_after_bom(data)
    for reject in rejected:
        raw = reject.raw.encode("utf-8", "surrogateescape")
        assert raw in data


def _blank_after_bom(data: bytes) -> int:
    """1 when the first line is only a BOM (and white space): the reader skips it as blank."""
    first = data.split(b"\n")[0]
    return int(first.startswith(b"\xef\xbb\xbf") and not first[3:].strip())


_text = st.text(
    st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=200
) | st.lists(
    st.sampled_from(["hoà", "hòa", "thuý", "quý", "Ǆ", "İ", "ß", "\u200b", "\n", " ", "[a]x[/a]",
                     "\u0301", "o\u0300a", "ﬃ", "Σ", "\u00ad", "\r\n", "\t", "ΐ"]),
    max_size=30,
).map("".join)  # fmt: skip


@FUZZ
@given(text=_text, casefold=st.booleans(), tones=st.booleans(), newlines=st.booleans())
def test_normalize_text_is_idempotent_and_nfc(text, casefold, tones, newlines):
    config = NormConfig(casefold=casefold, tone_placement=tones)
    once = normalize_text(text, config, keep_newlines=newlines)
    assert normalize_text(once, config, keep_newlines=newlines) == once
    assert unicodedata.is_normalized("NFC", once)
    assert normalize_text(unicodedata.normalize("NFD", text), config) == normalize_text(
        text, config
    )


def _repeats_by_every_pair(cleaner: ParagraphCleaner, text: str) -> dict[int, str]:
    """The reference: compare each paragraph with every earlier kept one."""
    doc = cleaner.prepare("d", "", title=None, source=None)
    full = cleaner.prepare("d", text, title=None, source=None)
    doc.raw, doc.tokens, doc.shingles = full.raw, full.tokens, full.shingles
    threshold = cleaner.config.threshold
    removed: dict[int, str] = {}
    for j in range(len(doc.raw)):
        for i in range(j):
            if i in removed or not len(doc.tokens[j]):
                continue
            jaccard = jaccard_containment(doc.shingles[i], doc.shingles[j])[0]
            if doc.tokens[i].tolist() == doc.tokens[j].tolist() or jaccard >= threshold:
                removed[j] = f"paragraph {i}"
                break
    return removed


_words = st.sampled_from(["hòa", "bình", "nga", "anh", "syria", "g20", "putin", "obama", "và"])
_paragraph = st.lists(_words, min_size=0, max_size=9).map(" ".join)


@FUZZ
@given(
    paragraphs=st.lists(_paragraph, max_size=25),
    threshold=st.sampled_from([0.3, 0.5, 0.7, 0.8, 1.0]),
    k=st.integers(1, 4),
)
def test_prefix_filtered_repeats_equal_every_pair(paragraphs, threshold, k):
    cleaner = ParagraphCleaner(ParagraphConfig(threshold=threshold, k=k))
    text = "\n".join(paragraphs)
    found = cleaner.prepare("d", text, title=None, source=None)
    marked = {i: r.repeats for i, r in found.removed.items() if r.reason == "repeated"}
    assert marked == _repeats_by_every_pair(cleaner, text)
