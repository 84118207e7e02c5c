"""Broken input, as a user meets it: one exact ``Error:`` line, or skipped into --rejects.

Every case writes a real file, runs ``dedup run`` and checks the whole outcome: exit status,
the exact message, no output file on failure, and with ``--on-error skip`` every good record
exactly once in the output, the count in the report and the bad record byte for byte in the
rejects file.
"""

from __future__ import annotations

import json

import pytest
from robust_helpers import (
    invoke,
    jsonl_line,
    leftovers,
    output_ids,
    run_dedup,
    seed_records,
    write_jsonl,
)

GOOD = seed_records()
GOOD_IDS = [r["id"] for r in GOOD]

# (case, bad line(s) put between seed records 0 and 1, message after "FILE:")
BAD_JSONL = [
    ("invalid-utf8", b'{"id": "x", "text": "ab\xff\xfecd"}', "2: invalid UTF-8 at byte 23"),
    ("malformed-json", b'{"id": "m", "text": ', "2: invalid JSON: Expecting value at column 21"),
    (
        "raw-nul-byte",
        b'{"id": "n", "text": "a\x00b"}',
        "2: invalid JSON: Invalid control character at column 23",
    ),
    ("missing-text", b'{"id": "t"}', "2: missing 'text' field (available: id)"),
    ("number-text", b'{"id": "t", "text": 5}', "2: 'text' field must be a string, got number"),
    ("null-text", b'{"id": "t", "text": null}', "2: 'text' field must be a string, got null"),
    ("list-text", b'{"id": "t", "text": ["a"]}', "2: 'text' field must be a string, got array"),
    ("array-line", b'["id", "text"]', "2: expected a JSON object, got array"),
    (
        "bool-id",
        b'{"id": true, "text": "x"}',
        "2: 'id' field must be a string or an integer, got boolean",
    ),
    (
        "lone-surrogate",
        b'{"id": "u", "text": "a\\ud800b"}',
        "2: 'text' field holds a lone surrogate (invalid Unicode)",
    ),
    (
        "number-title",
        b'{"id": "t", "text": "x", "title": 3}',
        "2: 'title' field must be a string or null, got number",
    ),
    ("duplicate-id", b'{"id": "s0", "text": "x y z"}', "2: duplicate id 's0' (first at {path}:1)"),
]


def _bad_file(tmp_path, bad: bytes):
    path = tmp_path / "in.jsonl"
    path.write_bytes(jsonl_line(GOOD[0]) + bad + b"\n" + b"".join(map(jsonl_line, GOOD[1:])))
    return path


@pytest.mark.parametrize(("case", "bad", "message"), BAD_JSONL, ids=[c[0] for c in BAD_JSONL])
def test_bad_record_stops_the_run_with_one_line(tmp_path, case, bad, message):
    path = _bad_file(tmp_path, bad)
    out = tmp_path / "out.jsonl"
    result = invoke(["run", str(path), "--format", "jsonl", "-o", str(out)])
    assert result.exit_code == 1
    assert result.stderr == f"Error: {path}:{message.format(path=path)}\n"
    assert result.stdout == ""
    assert not out.exists()
    assert leftovers(tmp_path) == []


@pytest.mark.parametrize(("case", "bad", "message"), BAD_JSONL, ids=[c[0] for c in BAD_JSONL])
def test_bad_record_is_skipped_counted_and_kept_untouched(tmp_path, case, bad, message):
    path = _bad_file(tmp_path, bad)
    out, rejects = tmp_path / "out.jsonl", tmp_path / "rejects.jsonl"
    args = ["run", str(path), "--format", "jsonl", "-o", str(out)]
    result = invoke([*args, "--on-error", "skip", "--rejects", str(rejects)])
    assert result.exit_code == 0, result.output
    assert result.stderr == f"Skipped 1 malformed record(s); see {rejects}.\n"
    assert output_ids(out.read_bytes()) == GOOD_IDS  # every good record, once, in order
    assert rejects.read_bytes() == bad + b"\n"
    report = invoke(
        ["run", str(path), "--format", "json", "--on-error", "skip", "--rejects", str(rejects)]
    )
    data = json.loads(report.stdout)
    assert data["stats"]["rejected"] == 1
    assert data["stats"]["articles"] == len(GOOD)
    assert data["rejected"] == [{"origin": f"{path}:2", "reason": message.format(path=path)[3:]}]


def test_errors_of_a_real_subprocess_have_no_traceback(tmp_path):
    _bad_file(tmp_path, b'{"id": "x", "text": "ab\xff"}')
    proc = run_dedup(["run", "in.jsonl", "--format", "jsonl", "-o", "out.jsonl"], cwd=tmp_path)
    assert proc.returncode == 1
    assert proc.stderr == b"Error: in.jsonl:2: invalid UTF-8 at byte 23\n"
    assert proc.stdout == b""
    assert not (tmp_path / "out.jsonl").exists()


def test_standard_input_errors_name_stdin(tmp_path):
    data = jsonl_line(GOOD[0]) + b'{"id": 1, "text": 2}\n'
    proc = run_dedup(["run", "-", "--format", "jsonl"], cwd=tmp_path, stdin=data)
    assert proc.returncode == 1
    assert proc.stderr == b"Error: <stdin>:2: 'text' field must be a string, got number\n"
    assert proc.stdout == b""


def test_several_bad_records_and_a_repeated_id_all_reach_the_rejects(tmp_path):
    # A reader reject and a repeated id in one run: both are counted and kept, none is lost.
    lines = [
        jsonl_line(GOOD[0]),
        b"{not json\n",
        jsonl_line(GOOD[1]),
        jsonl_line({"id": "s1", "text": "again"}),
        jsonl_line(GOOD[2]),
    ]
    path = tmp_path / "in.jsonl"
    path.write_bytes(b"".join(lines))
    rejects = tmp_path / "rejects.jsonl"
    result = invoke(
        ["run", str(path), "--format", "json", "--on-error", "skip", "--rejects", str(rejects)]
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["stats"]["rejected"] == 2
    assert [a["id"] for a in data["articles"]] == ["s0", "s1", "s2"]
    assert rejects.read_bytes() == lines[1] + lines[3]


def test_same_file_twice_is_a_repeated_id_error(tmp_path):
    path = write_jsonl(tmp_path / "in.jsonl", GOOD[:2])
    result = invoke(["run", str(path), str(path), "--format", "jsonl"])
    assert result.exit_code == 1
    assert result.stderr == f"Error: {path}:1: duplicate id 's0' (first at {path}:1)\n"


# ---------------------------------------------------------------- CSV


def test_csv_with_embedded_newlines_keeps_each_paragraph(tmp_path):
    path = tmp_path / "in.csv"
    path.write_bytes(
        b'id,title,text\r\n1,"A title, with comma","line one\nline two\n""quoted"" line"\r\n'
        b"2,B,plain\r\n"
    )
    result = invoke(["paragraphs", str(path)])
    assert result.exit_code == 0, result.output
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["text"] for r in records] == ['line one\nline two\n"quoted" line', "plain"]
    assert [r["title"] for r in records] == ["A title, with comma", "B"]


def test_csv_unterminated_quote_names_the_record_line(tmp_path):
    path = tmp_path / "in.csv"
    path.write_bytes(b'id,text\n1,"ok\nstill ok"\n2,fine\n3,"never closed\nmore\n')
    out = tmp_path / "out.jsonl"
    result = invoke(["run", str(path), "--format", "jsonl", "-o", str(out)])
    assert result.exit_code == 1
    assert result.stderr == f"Error: {path}:5: invalid CSV: unexpected end of data\n"
    assert not out.exists()
    rejects = tmp_path / "rejects.csv"
    skip = ["--on-error", "skip", "--rejects", str(rejects)]
    result = invoke(["run", str(path), "--format", "jsonl", "-o", str(out), *skip])
    assert result.exit_code == 0
    assert output_ids(out.read_text()) == ["1", "2"]
    assert rejects.read_bytes() == b'3,"never closed\nmore\n'


def test_csv_row_with_too_many_fields(tmp_path):
    path = tmp_path / "in.tsv"
    path.write_bytes(b"id\ttext\n1\tone\n2\ttwo\textra\n3\tthree\n")
    result = invoke(["run", str(path), "--format", "jsonl"])
    assert result.exit_code == 1
    assert result.stderr == f"Error: {path}:3: expected 2 fields (as in the header), got 3\n"


# ---------------------------------------------------------------- folders


def test_folder_with_binary_files(tmp_path, seeds_dir):
    (seeds_dir / "photo.jpg").write_bytes(bytes(range(256)) * 8)  # not .txt: never read
    elf = b"\x7fELF\x02\x01\x01\x00" + bytes(range(256)) * 4
    (seeds_dir / "zz_program.txt").write_bytes(elf)
    out = tmp_path / "out.jsonl"
    result = invoke(["run", str(seeds_dir), "--format", "jsonl", "-o", str(out)])
    assert result.exit_code == 1
    assert result.stderr == f"Error: {seeds_dir}/zz_program.txt:1: binary file, not text\n"
    assert not out.exists()
    rejects = tmp_path / "rejects.bin"
    skip = ["--on-error", "skip", "--rejects", str(rejects)]
    result = invoke(["run", str(seeds_dir), "--format", "jsonl", "-o", str(out), *skip])
    assert result.exit_code == 0
    assert len(output_ids(out.read_text())) == 5
    assert rejects.read_bytes() == elf + b"\n"


def test_folder_text_file_with_invalid_utf8_names_its_line(tmp_path):
    folder = tmp_path / "news"
    folder.mkdir()
    text = "Tiêu đề bài báo hôm nay\n\nĐoạn một.\n".encode() + "Đoan hai: été.\n".encode("cp1258")
    (folder / "a.txt").write_bytes(text)
    result = invoke(["run", str(folder), "--format", "jsonl"])
    assert result.exit_code == 1
    # cp1258 (Windows Vietnamese) is not UTF-8: line 4, its first byte.
    assert result.stderr == f"Error: {folder}/a.txt:4: invalid UTF-8 at byte 0\n"


def test_line_breaks_quoted_in_an_error_are_escaped(tmp_path):
    # A CSV header field may hold a line break; the error that lists the fields stays one line.
    path = tmp_path / "in.csv"
    path.write_bytes(b'"x\ny"\n{"id": \n')
    result = invoke(["run", str(path)])
    assert result.exit_code == 1
    assert result.stderr == f"Error: {path}:3: missing 'text' field (available: x\\ny)\n"
