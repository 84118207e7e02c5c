import gzip
import io
import json
import shutil
import sys
import unicodedata
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from dedup.errors import ConfigError, InputError
from dedup.io import FieldNames, read_documents, write_rejects

SEEDS = Path(__file__).resolve().parents[1] / "seeds"
DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
GMT7 = timezone(timedelta(hours=7))


def write(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def jsonl(*records: object) -> bytes:
    return b"".join(json.dumps(r, ensure_ascii=False).encode() + b"\n" for r in records)


def read(*inputs, **kwargs):
    return list(read_documents(inputs, **kwargs))


def error_of(*inputs, **kwargs) -> str:
    with pytest.raises(InputError) as info:
        read(*inputs, **kwargs)
    return str(info.value)


@pytest.fixture
def seeds(tmp_path):
    return Path(shutil.copytree(SEEDS, tmp_path / "seeds"))


def test_seed_titles_and_dates(seeds):
    docs = {d.id: d for d in read(seeds)}
    assert list(docs) == [path.stem for path in sorted(SEEDS.glob("*.txt"))]
    assert [d.title for d in docs.values()] == [
        "Tổng thống Putin hứa sẽ tập trung đánh IS",
        "Bàn cách diệt IS - Obama và Putin đang xích lại gần nhau?",
        'Nga - Mỹ bất ngờ "kề vai sát cánh" chống IS',
        "Putin: Nga vẫn hợp tác với liên quân do Mỹ dẫn đầu để tiêu diệt IS",
        "Nga sẵn sàng hợp tác chống khủng bố với Mỹ",
    ]
    assert [d.published for d in docs.values()] == [
        datetime(2015, 11, 16, 21, 58, tzinfo=GMT7),
        datetime(2015, 11, 16, 9, 42, tzinfo=GMT7),
        datetime(2014, 10, 15, 14, 21),  # naive: no zone given
        None,  # 003 and 004 only mention dates in their bodies ("hôm 26/11")
        None,
    ]
    for doc in docs.values():
        assert doc.source is None
        assert doc.origin == f"{seeds / doc.id}.txt:1"
        assert doc.fields["title"] == doc.title


def test_seed_body_keeps_section_label_and_drops_title_and_date(seeds):
    docs = {d.id: d for d in read(seeds)}
    first = docs["001_467d0ff83c60400f"].text.split("\n")
    assert first[0] == "Tin mới"
    assert first[4].startswith("Tại cuộc gặp bên lề Hội nghị thượng đỉnh G-20 hôm 15/11")
    for doc in docs.values():
        assert doc.title not in doc.text.split("\n")
        assert "GMT+7" not in doc.text
        assert not doc.text.startswith("\n")
    assert docs["000_3b025018dbb24883"].text.startswith("Tổng thống Nga Vladimir Putin hôm thứ hai")
    assert docs["000_3b025018dbb24883"].fields["date"] == "16/11/2015 21:58 GMT+7"
    (alone,) = read(seeds / "001_467d0ff83c60400f.txt")  # a .txt file given by itself
    assert (alone.id, alone.text) == ("001_467d0ff83c60400f", docs["001_467d0ff83c60400f"].text)


def test_folder_natural_order_recursive_and_ignores_other_files(tmp_path):
    for rel in ["Cluster_10/1.txt", "Cluster_2/10.txt", "Cluster_2/2.txt", "Cluster_2/1.TXT"]:
        write(tmp_path / rel, f"Title of {rel} here\nbody\n".encode())
    write(tmp_path / "Cluster_2/notes.md", b"ignored")
    write(tmp_path / "Cluster_2/3.txt.bak", b"ignored")
    ids = [d.id for d in read(tmp_path)]
    assert ids == ["Cluster_2/1", "Cluster_2/2", "Cluster_2/10", "Cluster_10/1"]


@pytest.mark.parametrize(
    ("content", "title", "text", "published"),
    [
        ("Một tiêu đề dài\nThân bài.\n", "Một tiêu đề dài", "Thân bài.", None),
        ("\n\n  Một tiêu đề dài  \n\nThân bài.", "Một tiêu đề dài", "Thân bài.", None),
        ("Tin mới\n\nMột tiêu đề dài\nThân bài.", "Một tiêu đề dài", "Tin mới\n\nThân bài.", None),
        ("Ngắn\nHai từ", "Ngắn", "Hai từ", None),  # no line of 3 words: the first line
        # a short label followed by a body sentence, not a headline: the label is the title
        (
            "Title:\nCụ thể, khi mua xe bạn sẽ nhận quà.\n",
            "Title:",
            "Cụ thể, khi mua xe bạn sẽ nhận quà.",
            None,
        ),
        (
            "Một tiêu đề dài\r\n16/11/2015\r\nThân bài.\r\n",
            "Một tiêu đề dài",
            "Thân bài.",
            datetime(2015, 11, 16),
        ),
        ("Một tiêu đề dài\rThân\rbài.", "Một tiêu đề dài", "Thân\nbài.", None),  # old Mac ends
        # a dateline above the headline is taken too, and is never the title
        (
            "16/11/2015 21:58\nMột tiêu đề dài\nThân bài.",
            "Một tiêu đề dài",
            "Thân bài.",
            datetime(2015, 11, 16, 21, 58),
        ),
        # a date-only line inside the body is kept
        (
            "Một tiêu đề dài\n" + "từ " * 20 + "\nNgày 9.11.2010,\nsau.",
            "Một tiêu đề dài",
            "từ " * 20 + "\nNgày 9.11.2010,\nsau.",
            None,
        ),
        ("", None, "", None),
        ("   \n\n", None, "   \n\n", None),
        ("\ufeffMột tiêu đề dài\nThân bài.", "Một tiêu đề dài", "Thân bài.", None),
    ],
)
def test_text_article_layout(tmp_path, content, title, text, published):
    write(tmp_path / "dir" / "a.txt", content.encode())
    (doc,) = read(tmp_path / "dir")
    assert (doc.title, doc.text, doc.published) == (title, text, published)


def test_folder_binary_file_fails(tmp_path):
    write(tmp_path / "1.txt", b"Good title here\nbody")
    bad = write(tmp_path / "2.txt", b"PK\x03\x04\x00\x00binary")
    assert error_of(tmp_path) == f"{bad}:1: binary file, not text"


def test_folder_binary_and_invalid_utf8_skipped(tmp_path):
    write(tmp_path / "1.txt", b"Good title here\nbody")
    write(tmp_path / "2.txt", b"PK\x03\x04\x00\x00binary")
    bad = write(tmp_path / "3.txt", b"Good title here\nline two\nabc\xff\xfedef\n")
    write(tmp_path / "4.txt", b"Another good title\nbody")
    rejected = []
    docs = read(tmp_path, on_error="skip", rejected=rejected)
    assert [d.id for d in docs] == ["1", "4"]
    assert [(r.origin, r.reason) for r in rejected] == [
        (f"{tmp_path / '2.txt'}:1", "binary file, not text"),
        (f"{bad}:3", "invalid UTF-8 at byte 3"),
    ]
    assert rejected[1].raw.encode("utf-8", "surrogateescape") == bad.read_bytes()


def test_jsonl_fields(tmp_path):
    record = {
        "id": 7,
        "text": "Thân bài",
        "title": "Tiêu đề",
        "source": "vnexpress.net",
        "date": "2015-11-16T21:58:00+07:00",
        "url": "https://vnexpress.net/a",
        "story": 3,
    }
    path = write(tmp_path / "in.jsonl", jsonl(record))
    (doc,) = read(path)
    assert doc.id == "7"
    assert (doc.text, doc.title, doc.source, doc.url) == (
        "Thân bài",
        "Tiêu đề",
        "vnexpress.net",
        "https://vnexpress.net/a",
    )
    assert doc.published == datetime(2015, 11, 16, 21, 58, tzinfo=GMT7)
    assert doc.fields == record
    assert doc.origin == f"{path}:1"


def test_jsonl_bom_crlf_blank_lines_and_missing_ids(tmp_path):
    data = b"\xef\xbb\xbf" + b'{"text": "a"}\r\n\r\n   \n{"text": "b", "id": null}\r\n{"text": "c"}'
    path = write(tmp_path / "news.jsonl", data)
    docs = read(path)
    assert [(d.id, d.text, d.origin) for d in docs] == [
        ("news-1", "a", f"{path}:1"),
        ("news-4", "b", f"{path}:4"),
        ("news-5", "c", f"{path}:5"),
    ]


@pytest.mark.parametrize(
    "text",
    ["", "   \n\t ", "a\x00b", unicodedata.normalize("NFD", "Hòa bình"), "line\r\nline"],
)
def test_jsonl_text_passes_through_untouched(tmp_path, text):
    (doc,) = read(write(tmp_path / "in.jsonl", jsonl({"id": "x", "text": text})))
    assert doc.text == text


def test_jsonl_unparseable_date_is_kept_raw(tmp_path):
    path = write(
        tmp_path / "in.jsonl", jsonl({"text": "a", "date": "sometime"}, {"text": "b", "date": 5})
    )
    docs = read(path)
    assert [d.published for d in docs] == [None, None]
    assert [d.fields["date"] for d in docs] == ["sometime", 5]


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        (b'{"id": "1", "text": "a"', "invalid JSON: Expecting ',' delimiter at column 24"),
        (b"not json", "invalid JSON: Expecting value at column 1"),
        (b'["a", "b"]', "expected a JSON object, got array"),
        (b'"text"', "expected a JSON object, got string"),
        (
            b'{"id": "1", "body": "a", "title": null}',
            "missing 'text' field (available: id, body, title)",
        ),
        (b"{}", "missing 'text' field (available: none)"),
        (b'{"text": 5}', "'text' field must be a string, got number"),
        (b'{"text": null}', "'text' field must be a string, got null"),
        (b'{"text": ["a"]}', "'text' field must be a string, got array"),
        (b'{"text": "a", "id": 1.5}', "'id' field must be a string or an integer, got number"),
        (b'{"text": "a", "id": true}', "'id' field must be a string or an integer, got boolean"),
        (b'{"text": "a", "id": {"x": 1}}', "'id' field must be a string or an integer, got object"),
        (b'{"text": "a", "title": 5}', "'title' field must be a string or null, got number"),
        (b'{"text": "a", "source": []}', "'source' field must be a string or null, got array"),
        (b'{"text": "a", "url": false}', "'url' field must be a string or null, got boolean"),
        (b'{"text": "a\\ud800"}', "'text' field holds a lone surrogate (invalid Unicode)"),
        (
            b'{"text": "a", "title": "\\uDFFF"}',
            "'title' field holds a lone surrogate (invalid Unicode)",
        ),
        (b'{"text": "a", "id": "x\\uDbff"}', "'id' field holds a lone surrogate (invalid Unicode)"),
        (b'{"text": "caf\xe9"}', "invalid UTF-8 at byte 13"),
    ],
)
def test_jsonl_bad_record_mid_file(tmp_path, line, reason):
    path = write(tmp_path / "in.jsonl", b'{"text": "ok"}\n\n' + line + b'\n{"text": "after"}\n')
    assert error_of(path) == f"{path}:3: {reason}"

    rejected = []
    docs = read(path, on_error="skip", rejected=rejected)
    assert [d.text for d in docs] == ["ok", "after"]
    assert [(r.origin, r.reason) for r in rejected] == [(f"{path}:3", reason)]
    assert rejected[0].raw.encode("utf-8", "surrogateescape") == line


def test_invalid_utf8_offset_counts_the_bom(tmp_path):
    path = write(tmp_path / "in.jsonl", b'\xef\xbb\xbf{"text": "\xc3"}\n')
    assert error_of(path) == f"{path}:1: invalid UTF-8 at byte 13"


def test_rejects_round_trip_bytes(tmp_path):
    bad_lines = [b'{"text": "caf\xe9"}', b"{broken \xff\xfe", b'{"body": "x"}']
    data = b'{"text": "ok"}\r\n' + b"\n".join(bad_lines) + b"\n"
    path = write(tmp_path / "in.jsonl", data)
    rejected = []
    assert len(read(path, on_error="skip", rejected=rejected)) == 1
    write_rejects(tmp_path / "rejects.jsonl", rejected)
    assert (tmp_path / "rejects.jsonl").read_bytes() == b"\n".join(bad_lines) + b"\n"
    assert len(read(path, on_error="skip")) == 1  # rejected=None: nowhere to keep them


def test_custom_field_names(tmp_path):
    path = write(tmp_path / "in.jsonl", jsonl({"doc_id": "a1", "body": "x", "headline": "h"}))
    fields = FieldNames(id="doc_id", text="body", title="headline")
    (doc,) = read(path, fields=fields)
    assert (doc.id, doc.text, doc.title) == ("a1", "x", "h")
    assert error_of(path) == f"{path}:1: missing 'text' field (available: doc_id, body, headline)"


@pytest.mark.parametrize("name", ["in.json", "in.ndjson", "in.jsonl", "in.dat", "noext"])
def test_jsonl_extensions(tmp_path, name):
    (doc,) = read(write(tmp_path / name, jsonl({"id": "a", "text": "x"})))
    assert doc.id == "a"


def test_unknown_extension_says_so(tmp_path):
    bad = write(tmp_path / "in.xml", b"<doc>x</doc>\n")
    reason = (
        "invalid JSON: Expecting value at column 1 (unknown extension '.xml', read as JSON Lines)"
    )
    assert error_of(bad) == f"{bad}:1: {reason}"


def test_gzip_input(tmp_path):
    path = tmp_path / "in.jsonl.gz"
    path.write_bytes(gzip.compress(jsonl({"text": "x"}, {"text": "y"})))
    assert [(d.id, d.text) for d in read(path)] == [("in-1", "x"), ("in-2", "y")]


def test_stdin(tmp_path, monkeypatch):
    class FakeStdin:
        buffer = io.BytesIO(b'{"id": "s1", "text": "x"}\n{"text": "y"}\nnope\n')

    monkeypatch.setattr(sys, "stdin", FakeStdin())
    file = write(tmp_path / "f.jsonl", jsonl({"id": "f1", "text": "z"}))
    rejected = []
    docs = read("-", file, on_error="skip", rejected=rejected)
    assert [(d.id, d.origin) for d in docs] == [
        ("s1", "<stdin>:1"),
        ("stdin-2", "<stdin>:2"),
        ("f1", f"{file}:1"),
    ]
    assert [r.origin for r in rejected] == ["<stdin>:3"]


def test_missing_path(tmp_path):
    for missing in (tmp_path / "nope.jsonl", tmp_path / "a.txt"):
        assert error_of(missing) == f"{missing}: no such file or directory"
    with pytest.raises(InputError):  # not a record: skipping does not hide it
        read(missing, on_error="skip", rejected=[])


def test_bad_on_error_is_rejected_at_once():
    with pytest.raises(ConfigError, match=r"on_error must be 'fail' or 'skip'\. Got 'ignore'"):
        read_documents(["x.jsonl"], on_error="ignore")


def test_streaming_yields_before_a_later_bad_line(tmp_path):
    path = write(tmp_path / "in.jsonl", b'{"text": "a"}\n{oops\n')
    docs = read_documents([path])
    assert next(docs).text == "a"
    with pytest.raises(InputError, match=":2: invalid JSON"):
        next(docs)


def test_csv_with_embedded_newlines_bom_and_crlf(tmp_path):
    data = "\ufeffid,title,text,date\r\n" + (
        '1,"Tiêu đề, có phẩy","Dòng một\r\nDòng hai ""trích""",16/11/2015\r\n\r\n2,,x,\r\n'
    )
    path = write(tmp_path / "in.csv", data.encode())
    docs = read(path)
    assert [(d.id, d.title, d.text, d.origin) for d in docs] == [
        ("1", "Tiêu đề, có phẩy", 'Dòng một\nDòng hai "trích"', f"{path}:2"),
        ("2", None, "x", f"{path}:5"),
    ]
    assert docs[0].published == datetime(2015, 11, 16)
    assert docs[1].fields == {"id": "2", "title": "", "text": "x", "date": ""}


@pytest.mark.parametrize("name", ["in.tsv", "in.tab"])
def test_tsv(tmp_path, name):
    path = write(tmp_path / name, b'text\tsource\n"a\tb"\tvne\n"multi\nline"\ttt\nplain\t\n')
    docs = read(path)
    assert [(d.id, d.text, d.source) for d in docs] == [
        ("in-2", "a\tb", "vne"),
        ("in-3", "multi\nline", "tt"),
        ("in-5", "plain", None),
    ]


def test_csv_bad_rows(tmp_path):
    data = b'id,text\n1,ok\n2,"bad\n\xff line",x\n3,too,many\n4\n5,fine\n6,"x"y\n7,"open\n8,z\n'
    path = write(tmp_path / "in.csv", data)
    assert error_of(path) == f"{path}:4: invalid UTF-8 at byte 0"
    rejected = []
    docs = read(path, on_error="skip", rejected=rejected)
    assert [d.id for d in docs] == ["1", "5"]
    assert [(r.origin, r.reason) for r in rejected] == [
        (f"{path}:4", "invalid UTF-8 at byte 0"),
        (f"{path}:5", "expected 2 fields (as in the header), got 3"),
        (f"{path}:6", "expected 2 fields (as in the header), got 1"),
        (f"{path}:8", "invalid CSV: ',' expected after '\"'"),
        (f"{path}:9", "invalid CSV: unexpected end of data"),  # nothing silently swallowed
    ]
    raws = [r.raw.encode("utf-8", "surrogateescape") for r in rejected]
    assert raws == [b'2,"bad\n\xff line",x', b"3,too,many", b"4", b'6,"x"y', b'7,"open\n8,z']


def test_csv_missing_text_column(tmp_path):
    path = write(tmp_path / "in.csv", b"id,body\n1,x\n")
    assert error_of(path) == f"{path}:2: missing 'text' field (available: id, body)"


def test_csv_bad_header_is_fatal_even_when_skipping(tmp_path):
    path = write(tmp_path / "in.csv", b"id,te\xffxt\n1,x\n")
    with pytest.raises(InputError, match=r":1: invalid UTF-8 at byte 5"):
        read(path, on_error="skip", rejected=[])


def test_csv_long_field(tmp_path):
    text = "từ " * 100_000
    path = write(tmp_path / "in.csv", f'text\n"{text}"\n'.encode())
    assert read(path)[0].text == text


@pytest.mark.skipif(not (DATA / "vims.jsonl").exists(), reason="shared data not present")
def test_vims_folder_matches_jsonl():
    from_jsonl = {d.id.removeprefix("vims/"): d for d in read(DATA / "vims.jsonl")}
    from_dir = read(DATA / "vims-dir")
    assert len(from_jsonl) == len(from_dir) == 1950
    differ = [
        d.id
        for d in from_dir
        if (d.title, d.text) != (from_jsonl[d.id].title, from_jsonl[d.id].text)
    ]
    # Cluster_228/1494 starts with its dateline: the folder reader takes it as the date.
    assert differ == ["Cluster_228/1494"]
