"""Valid but odd records are processed, never rejected, and each appears once in the output.

BOM, CRLF, NUL characters, NFD text, the other Vietnamese tone placement, empty and
whitespace-only articles, dates nobody can parse: all go through the whole pipeline.
"""

from __future__ import annotations

import json
import unicodedata

from robust_helpers import invoke, jsonl_line, output_ids, run_dedup, seed_records, write_jsonl

GOOD = seed_records()
GOOD_IDS = [r["id"] for r in GOOD]

# New-style placement (tone on the second vowel) of every old-style pair the seeds use.
_NEW_STYLE = {
    "òa": "oà",
    "óa": "oá",
    "ỏa": "oả",
    "õa": "oã",
    "ọa": "oạ",
    "òe": "oè",
    "óe": "oé",
    "ỏe": "oẻ",
    "ùy": "uỳ",
    "úy": "uý",
    "ủy": "uỷ",
    "ũy": "uỹ",
    "ụy": "uỵ",
}


def _run_jsonl(path, *extra: str) -> list[dict[str, object]]:
    result = invoke(["run", str(path), "--format", "jsonl", *extra])
    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    return [json.loads(line) for line in result.stdout.splitlines()]


def test_bom_and_crlf_give_byte_identical_output(tmp_path):
    plain = tmp_path / "plain.jsonl"
    data = b"".join(map(jsonl_line, GOOD))
    plain.write_bytes(data)
    bom = tmp_path / "bom.jsonl"
    bom.write_bytes(b"\xef\xbb\xbf" + data.replace(b"\n", b"\r\n"))
    first = invoke(["run", str(plain), "--format", "jsonl", "--with-text"])
    second = invoke(["run", str(bom), "--format", "jsonl", "--with-text"])
    assert first.exit_code == second.exit_code == 0
    assert first.stdout_bytes == second.stdout_bytes
    assert output_ids(first.stdout) == GOOD_IDS


def test_crlf_text_folder_gives_the_same_articles(tmp_path, seeds_dir):
    crlf = tmp_path / "crlf"
    crlf.mkdir()
    for path in seeds_dir.glob("*.txt"):
        (crlf / path.name).write_bytes(path.read_bytes().replace(b"\n", b"\r\n"))
    assert _run_jsonl(crlf, "--with-text") == _run_jsonl(seeds_dir, "--with-text")


def test_nul_characters_are_text_not_errors(tmp_path):
    nul = {"id": "nul", "text": "Một\u0000 bài\u0000báo có ký tự NUL.\n\u0000\nĐoạn hai."}
    path = write_jsonl(tmp_path / "in.jsonl", [*GOOD, nul])
    records = _run_jsonl(path, "--with-text")
    assert [r["id"] for r in records] == [*GOOD_IDS, "nul"]
    assert records[-1]["clean_text"] == "Một\u0000 bài\u0000báo có ký tự NUL.\n\u0000\nĐoạn hai."
    assert records[-1]["duplicate_of"] is None


def test_empty_and_whitespace_only_articles_are_kept(tmp_path):
    odd = [
        {"id": "empty", "text": ""},
        {"id": "blank", "text": " \n\t\r\n\u00a0\u200b"},
        {"id": "punct", "text": "… !!! ?"},
    ]
    path = write_jsonl(tmp_path / "in.jsonl", [GOOD[0], *odd, GOOD[1]])
    records = _run_jsonl(path)
    assert [r["id"] for r in records] == ["s0", "empty", "blank", "punct", "s1"]
    for record in records[1:4]:
        assert record["duplicate_of"] is None  # nothing to compare: never a duplicate
        assert record["removed"] == []
    assert len({r["event"] for r in records[1:4]}) == 3


def test_only_empty_articles(tmp_path):
    path = write_jsonl(tmp_path / "in.jsonl", [{"id": "a", "text": ""}, {"id": "b", "text": "?"}])
    for fmt in ("jsonl", "json", "text", "markdown"):
        result = invoke(["run", str(path), "--format", fmt])
        assert result.exit_code == 0, (fmt, result.output)
    assert [r["story"] for r in _run_jsonl(path)] == ["s1", "s2"]


def test_empty_input_file(tmp_path):
    path = tmp_path / "in.jsonl"
    path.write_bytes(b"\n\n")
    assert _run_jsonl(path) == []


def test_unknown_date_formats_are_kept_and_ignored(tmp_path):
    dates = ["yesterday", "32/13/2015", "2015-02-30", "99999-01-01", "", "16/11/2015 25:99"]
    records = [{**r, "date": d} for r, d in zip(GOOD, dates, strict=False)]
    records.append({"id": "odd", "text": "Bài báo khác hẳn.", "date": "Thứ tám, 45/45/2045"})
    path = write_jsonl(tmp_path / "in.jsonl", records)
    out = _run_jsonl(path, "--with-input")
    assert [r["id"] for r in out] == [r["id"] for r in records]
    assert [r["date"] for r in out] == [r["date"] for r in records]  # passed through as given


def test_nfd_and_new_style_tone_copies_are_duplicates_of_their_nfc_original(tmp_path):
    original = GOOD[2]
    nfd = {**original, "id": "t-nfd", "text": unicodedata.normalize("NFD", original["text"])}
    text = original["text"]
    for old, new in _NEW_STYLE.items():
        text = text.replace(old, new)
    assert text != original["text"]  # the seed really has such pairs
    retoned = {**original, "id": "t-tone", "text": text}
    both = {**nfd, "id": "t-both", "text": unicodedata.normalize("NFD", text)}
    for order in ([original, nfd, retoned, both], [both, retoned, nfd, original]):
        path = write_jsonl(tmp_path / "in.jsonl", [*GOOD[:2], *order, *GOOD[3:]])
        records = {r["id"]: r for r in _run_jsonl(path)}
        assert records["s2"]["duplicate_of"] is None
        for copy in ("t-nfd", "t-tone", "t-both"):
            assert records[copy]["duplicate_of"] == "s2"
            assert records[copy]["similarity"] == 1.0
            assert records[copy]["event"] == records["s2"]["event"]
        assert sum(r["duplicate_of"] is not None for r in records.values()) == 3


def test_nfd_copy_found_by_a_real_subprocess(tmp_path):
    original = GOOD[0]
    nfd = {**original, "id": "s0-nfd", "text": unicodedata.normalize("NFD", original["text"])}
    write_jsonl(tmp_path / "in.jsonl", [nfd, *GOOD])
    proc = run_dedup(["near", "in.jsonl"], cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    records = [json.loads(line) for line in proc.stdout.decode().splitlines()]
    assert records[0] == {"id": "s0-nfd", "duplicate_of": "s0", "similarity": 1.0}
