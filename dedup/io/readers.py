"""Read articles from JSON Lines, CSV/TSV, folders of ``.txt`` files, or standard input.

:func:`read_documents` streams line by line (memory bounded by the largest record). A bad record
is an :class:`~dedup.errors.InputError` that stops the read, or a :class:`~dedup.types.Rejected`.
"""

from __future__ import annotations

import csv
import functools
import gzip
import json
import os
import re
import sys
import zlib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from dedup.errors import ConfigError, InputError
from dedup.io.article import split_article
from dedup.io.dates import parse_date
from dedup.types import Document, Rejected

__all__ = ["FieldNames", "read_documents"]

STDIN = "-"
_STDIN_LABEL = "<stdin>"
_BOM = b"\xef\xbb\xbf"
_JSONL_EXTS = frozenset({".jsonl", ".ndjson", ".json"})
_DELIMITERS = {".csv": ",", ".tsv": "\t", ".tab": "\t"}
_BINARY_SNIFF = 8192  # a NUL byte in the first 8 KB makes a file binary
_JSON_TYPES = {dict: "object", list: "array", str: "string", bool: "boolean", type(None): "null"}


@dataclass(frozen=True, slots=True)
class FieldNames:
    """Names of the input fields that fill a :class:`~dedup.types.Document` (JSONL, CSV, TSV).

    Attributes:
        id: Unique id (string or integer); when missing, ``<file stem>-<line>`` is used.
        text: Body text (required).
        title: Headline (optional).
        source: Outlet or domain (optional).
        date: Publication date (optional; see :func:`~dedup.io.dates.parse_date`).
        url: Address (optional).
    """

    id: str = "id"
    text: str = "text"
    title: str = "title"
    source: str = "source"
    date: str = "date"
    url: str = "url"


class _BadRecord(Exception):
    """A record is wrong; the reader adds file and line to make it an InputError."""


@dataclass(frozen=True, slots=True)
class _Errors:
    """Applies the ``on_error`` policy; ``seen`` maps each id read to its ``FILE:LINE``."""

    skip: bool
    rejected: list[Rejected] | None
    seen: dict[str, str] = field(default_factory=dict)

    def claim(self, doc: Document) -> Document:
        """Return ``doc``, or raise _BadRecord when its id was already read."""
        if doc.id in self.seen:
            raise _BadRecord(f"duplicate id {doc.id!r} (first at {self.seen[doc.id]})")
        self.seen[doc.id] = doc.origin
        return doc

    def __call__(
        self, error: Exception, path: str, line_no: int, raw: str, *, fatal: bool = False
    ) -> None:
        """Raise ``error`` as an InputError, or record it with the record's ``raw`` text."""
        if not isinstance(error, InputError):
            error = InputError(path, line_no, str(error))
        if fatal or not self.skip:
            raise error from None
        if self.rejected is not None:
            self.rejected.append(Rejected(f"{error.path}:{error.line_no}", error.reason, raw))


def _json_type(value: object) -> str:
    """Name the JSON type of ``value`` (``object``, ``array``, ``number``, ...)."""
    return _JSON_TYPES.get(type(value), "number")


def _natural_key(rel: str) -> tuple[tuple[tuple[int, int | str], ...], ...]:
    """Sort key that orders ``2.txt`` before ``10.txt``, part by part of the path."""
    return tuple(
        tuple((0, int(tok)) if tok.isdigit() else (1, tok) for tok in re.split(r"(\d+)", part))
        for part in rel.split("/")
    )


def _utf8_error(data: bytes, start: int, path: str, first_line: int) -> InputError:
    """Build the error for the bad byte at ``start`` of ``data``, whose line 1 is ``first_line``."""
    line_start = data.rfind(b"\n", 0, start) + 1
    line_no = first_line + data.count(b"\n", 0, start)
    return InputError(path, line_no, f"invalid UTF-8 at byte {start - line_start}")


def _bad_utf8_offset(text: str) -> int | None:
    """Return the byte offset of the first undecodable byte kept by ``surrogateescape``."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        return len(text[: exc.start].encode("utf-8", "surrogateescape"))
    return None


def _open_binary(path: Path) -> IO[bytes] | gzip.GzipFile:
    """Open ``path`` for reading bytes, through gzip when it ends in ``.gz``."""
    try:
        if path.suffix.lower() == ".gz":
            return gzip.open(path, "rb")
        return path.open("rb")
    except OSError as exc:
        raise InputError(path, 0, f"cannot read: {exc.strerror or exc}") from None


def _raw_lines(stream: Iterable[bytes], label: str) -> Iterator[tuple[int, bytes, int]]:
    """Yield ``(line_no, line, BOM bytes dropped)``, without newline (LF or CRLF) or BOM."""
    line_no = 0
    try:
        for line_no, line in enumerate(stream, start=1):
            bom = 0
            if line_no == 1 and line.startswith(_BOM):
                line, bom = line[len(_BOM) :], len(_BOM)
            if line.endswith(b"\n"):
                line = line[:-2] if line.endswith(b"\r\n") else line[:-1]
            yield line_no, line, bom
    except (OSError, EOFError, zlib.error) as exc:
        raise InputError(label, line_no + 1, f"cannot read: {exc}") from None


def _text_field(
    record: Mapping[str, Any], name: str, *, required: bool = False, surrogates: bool = True
) -> str | None:
    """Return a string field of ``record``: None when absent or null, unless ``required``.

    ``surrogates``: whether the field may hold a lone surrogate (False when the record's
    text was checked whole, or holds no JSON escape that could make one).
    """
    value = record.get(name)
    if value is None and not required:
        return None
    if not isinstance(value, str):
        kind = "a string" if required else "a string or null"
        raise _BadRecord(f"'{name}' field must be {kind}, got {_json_type(value)}")
    if surrogates and _bad_utf8_offset(value) is not None:
        raise _BadRecord(f"'{name}' field holds a lone surrogate (invalid Unicode)")
    return value


@functools.lru_cache(maxsize=64)
def _stem(label: str) -> str:
    """The file name ``label`` gives ids of records without one (``news.jsonl.gz`` -> ``news``)."""
    return "stdin" if label == _STDIN_LABEL else Path(Path(label).name.removesuffix(".gz")).stem


def _to_document(
    record: dict[str, Any],
    fields: FieldNames,
    label: str,
    line_no: int,
    *,
    csv_mode: bool,
    surrogates: bool = True,
) -> Document:
    """Build a Document from one parsed record; raise _BadRecord when a field is wrong.

    ``surrogates``: whether the strings may hold lone surrogates (see :func:`_text_field`).
    """
    if fields.text not in record:
        keys = list(record)
        shown = ", ".join(keys[:12]) + (", ..." if len(keys) > 12 else "")
        raise _BadRecord(f"missing '{fields.text}' field (available: {shown or 'none'})")
    text = _text_field(record, fields.text, required=True, surrogates=surrogates)
    raw_id = record.get(fields.id)
    if isinstance(raw_id, bool) or not isinstance(raw_id, (str, int, type(None))):
        kind = _json_type(raw_id)
        raise _BadRecord(f"'{fields.id}' field must be a string or an integer, got {kind}")
    if isinstance(raw_id, str):
        _text_field(record, fields.id, surrogates=surrogates)
    doc_id = str(raw_id) if raw_id not in (None, "") else f"{_stem(label)}-{line_no}"
    optional = {}
    for name in (fields.title, fields.source, fields.url):
        value = _text_field(record, name, surrogates=surrogates)
        optional[name] = None if csv_mode and value == "" else value
    raw_date = record.get(fields.date)
    published = parse_date(raw_date) if isinstance(raw_date, str) else None
    return Document(
        id=doc_id,
        text=text or "",
        title=optional[fields.title],
        source=optional[fields.source],
        published=published,
        url=optional[fields.url],
        fields=record,
        origin=f"{label}:{line_no}",
    )


def _read_jsonl(
    stream: Iterable[bytes], label: str, fields: FieldNames, errors: _Errors, note: str = ""
) -> Iterator[Document]:
    """Read JSON Lines from ``stream``; ``note`` is appended to JSON syntax errors."""
    for line_no, line, bom in _raw_lines(stream, label):
        if not line.strip():
            continue
        try:
            try:
                record = json.loads(line.decode("utf-8"))
            except UnicodeDecodeError as exc:
                raise _BadRecord(f"invalid UTF-8 at byte {exc.start + bom}") from None
            except json.JSONDecodeError as exc:
                msg = exc.msg.removesuffix(" at")  # "Invalid control character at"
                raise _BadRecord(f"invalid JSON: {msg} at column {exc.colno}{note}") from None
            if not isinstance(record, dict):
                raise _BadRecord(f"expected a JSON object, got {_json_type(record)}{note}")
            # Strictly decoded, a string holds a lone surrogate only from a \uD800-\uDFFF escape.
            escapes = b"\\u" in line and (b"\\ud" in line or b"\\uD" in line)
            document = _to_document(
                record, fields, label, line_no, csv_mode=False, surrogates=escapes
            )
            yield errors.claim(document)
        except (InputError, _BadRecord) as exc:
            errors(exc, label, line_no, line.decode("utf-8", "surrogateescape"))


def _read_delimited(
    stream: Iterable[bytes], label: str, delimiter: str, fields: FieldNames, errors: _Errors
) -> Iterator[Document]:
    """Read CSV or TSV with a header row; quoted fields may span lines."""
    csv.field_size_limit(max(csv.field_size_limit(), 2**31 - 1))
    pending: list[str] = []  # the lines of the record being parsed
    line_numbers: list[int] = []

    def text_lines() -> Iterator[str]:
        for line_no, line, _bom in _raw_lines(stream, label):
            pending.append(line.decode("utf-8", "surrogateescape") + "\n")
            line_numbers.append(line_no)
            yield pending[-1]

    reader = csv.reader(text_lines(), delimiter=delimiter, quoting=csv.QUOTE_MINIMAL, strict=True)
    header: list[str] | None = None
    while True:
        pending.clear()
        line_numbers.clear()
        try:
            row = next(reader, None)
            if row is None:
                return
            bad = _bad_utf8_offset("".join(pending))
            if bad is not None:
                data = "".join(pending).encode("utf-8", "surrogateescape")
                raise _utf8_error(data, bad, label, line_numbers[0])
            if not row:
                continue
            if header is None:
                header = row
                continue
            if len(row) != len(header):
                raise _BadRecord(
                    f"expected {len(header)} fields (as in the header), got {len(row)}"
                )
            record = dict(zip(header, row, strict=True))
            # The record's lines were checked whole for undecodable bytes above.
            document = _to_document(
                record, fields, label, line_numbers[0], csv_mode=True, surrogates=False
            )
            yield errors.claim(document)
        except (csv.Error, InputError, _BadRecord) as exc:
            error = _BadRecord(f"invalid CSV: {exc}") if isinstance(exc, csv.Error) else exc
            line_no = line_numbers[0] if line_numbers else 0
            raw = "".join(pending).removesuffix("\n")
            # Without its header the rest of the file cannot be read: always fatal.
            errors(error, label, line_no, raw, fatal=header is None)


def _read_text_file(path: Path, rel_id: str, errors: _Errors) -> Iterator[Document]:
    """Read one ``.txt`` article of a folder as a Document (at most one)."""
    label = str(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(label, 0, f"cannot read: {exc.strerror or exc}") from None
    raw = data.decode("utf-8", "surrogateescape")
    try:
        if b"\0" in data[:_BINARY_SNIFF]:
            raise _BadRecord("binary file, not text")
        bom = len(_BOM) if data.startswith(_BOM) else 0
        try:
            text = data[bom:].decode("utf-8")
        except UnicodeDecodeError as exc:
            raise _utf8_error(data, exc.start + bom, label, 1) from None
        title, date_line, body = split_article(text)
        published = parse_date(date_line) if date_line else None
        record = {"id": rel_id, "title": title, "text": body, "date": date_line, "path": label}
        doc = Document(rel_id, body, title, None, published, fields=record, origin=f"{label}:1")
        errors.claim(doc)
    except (InputError, _BadRecord) as exc:
        errors(exc, label, 1, raw)
        return
    yield doc


def _read_directory(root: Path, errors: _Errors) -> Iterator[Document]:
    """Read every ``*.txt`` under ``root`` (recursively, natural order of relative paths)."""
    found: list[tuple[str, Path]] = []
    for folder, _dirs, names in os.walk(root):
        for name in names:
            if name.lower().endswith(".txt"):
                path = Path(folder, name)
                found.append((path.relative_to(root).as_posix(), path))
    found.sort(key=lambda item: _natural_key(item[0]))
    for rel, path in found:
        yield from _read_text_file(path, rel[: -len(".txt")], errors)


def _read_path(path: Path, fields: FieldNames, errors: _Errors) -> Iterator[Document]:
    """Read one input path (file or folder), choosing the format from the extension."""
    if not path.exists():
        raise InputError(path, 0, "no such file or directory")
    if path.is_dir():
        yield from _read_directory(path, errors)
        return
    suffixes = [s.lower() for s in path.suffixes[-2:]]
    ext = suffixes[-2] if suffixes[-1:] == [".gz"] and len(suffixes) == 2 else path.suffix.lower()
    if path.suffix.lower() == ".txt":
        yield from _read_text_file(path, path.stem, errors)
        return
    label = str(path)
    with _open_binary(path) as stream:
        if ext in _DELIMITERS:
            yield from _read_delimited(stream, label, _DELIMITERS[ext], fields, errors)
        elif ext in _JSONL_EXTS:
            yield from _read_jsonl(stream, label, fields, errors)
        else:
            note = f" (unknown extension '{ext or 'none'}', read as JSON Lines)"
            yield from _read_jsonl(stream, label, fields, errors, note)


def read_documents(
    inputs: Sequence[str | Path],
    *,
    fields: FieldNames = FieldNames(),
    on_error: str = "fail",
    rejected: list[Rejected] | None = None,
) -> Iterator[Document]:
    """Read articles from files, folders and standard input, in order, one record at a time.

    Formats, by extension (a trailing ``.gz`` is read through gzip): ``.jsonl``, ``.ndjson``,
    ``.json`` are JSON Lines (one object per line; blank lines skipped); ``.csv`` and ``.tsv`` /
    ``.tab`` have a header row and may quote fields across lines; any other extension is read as
    JSON Lines. ``-`` is JSON Lines on standard input. A folder gives one document per ``*.txt``
    file under it (recursively, sorted naturally: ``2.txt`` before ``10.txt``), with id the
    relative path without ``.txt``; a ``.txt`` file given by itself is one article too (id its
    stem). Its first non-blank line of at least 3 words is the title (shorter lines before it,
    such as a section label, stay in the body, unless no headline follows them), and a date line
    just after the title (``16/11/2015 21:58 GMT+7``) gives ``published``; both lines are taken
    out of ``text``, every other line is kept (bar blank lines at either end).

    Input is UTF-8 (a BOM is dropped; CRLF accepted); text is passed through untouched (no
    normalization). A record without an id gets ``<file stem>-<line>``. A date that does not
    parse leaves ``published`` None (its raw value stays in ``fields``).

    Args:
        inputs: Paths of files or folders, or ``-`` for standard input.
        fields: Names of the input fields (JSONL keys, CSV/TSV header names).
        on_error: ``"fail"`` raises at the first bad record; ``"skip"`` records it in
            ``rejected`` and goes on.
        rejected: Where skipped records go (origin, reason and the record as read; encoding
            ``raw`` with ``"utf-8", "surrogateescape"`` gives back its bytes). With ``None``,
            skipped records are dropped.

    Returns:
        An iterator of Documents, one per record, in input order. While it is consumed it raises
        InputError when a record is malformed (``on_error="fail"``) or an input cannot be
        opened (always; ``FILE: no such file or directory``).

    Raises:
        ConfigError: ``on_error`` is neither ``"fail"`` nor ``"skip"`` (raised at once).
    """
    if on_error not in ("fail", "skip"):
        raise ConfigError(f"on_error must be 'fail' or 'skip'. Got {on_error!r} instead.")
    return _read_all(list(inputs), fields, _Errors(on_error == "skip", rejected))


def _read_all(inputs: list[str | Path], fields: FieldNames, errors: _Errors) -> Iterator[Document]:
    """Read every input in turn (the generator behind :func:`read_documents`)."""
    for item in inputs:
        if str(item) == STDIN:
            yield from _read_jsonl(sys.stdin.buffer, _STDIN_LABEL, fields, errors)
        else:
            yield from _read_path(Path(item), fields, errors)
