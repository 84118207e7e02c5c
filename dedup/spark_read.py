"""Reading JSON Lines on the Spark executors, so the driver never holds the corpus.

Each file is read with ``SparkContext.textFile`` (split across executors), numbered with
``zipWithIndex`` (line numbers as in the file) and parsed by the same record rules as
:mod:`dedup.io.readers` (the same ids, fields, dates and error messages). Problems come back to
the driver as ``(position, FILE:LINE, reason, raw line)``: with ``on_error="fail"`` the first
one in input order becomes the :class:`~dedup.errors.InputError` the local reader would raise;
with ``"skip"`` they are all returned for the rejects file. A repeated id is a problem at its
second occurrence, as in the local pipeline.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .errors import InputError
from .io.readers import FieldNames, _BadRecord, _json_type, _to_document

JSONL_SUFFIXES = (".jsonl", ".ndjson")
Position = tuple[int, int]  # (input number, line number)


def readable_on_executors(inputs: Sequence[str]) -> bool:
    """True when every input is a plain JSON Lines file (not stdin, a folder, CSV or gzip)."""
    return bool(inputs) and all(
        Path(p).is_file() and Path(p).suffix.lower() in JSONL_SUFFIXES for p in inputs
    )


def _parse(
    item: tuple[str, int], number: int, label: str, fields: FieldNames
) -> list[tuple[str, Position, Any]]:
    """Parse one numbered line into ``("doc", position, record, line)`` or ``("bad", ...)``."""
    line, index = item
    position = (number, index + 1)
    if index == 0:
        line = line.removeprefix("\ufeff")
    if not line.strip():
        return []
    try:
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise _BadRecord(f"invalid JSON: {exc.msg} at column {exc.colno}") from None
        if not isinstance(record, dict):
            raise _BadRecord(f"expected a JSON object, got {_json_type(record)}")
        doc = _to_document(record, fields, label, index + 1, csv_mode=False)
    except (_BadRecord, InputError) as exc:
        reason = exc.reason if isinstance(exc, InputError) else str(exc)
        return [("bad", position, (f"{label}:{index + 1}", reason, line))]
    return [("doc", position, (doc.id, doc.text, doc.title, doc.source, doc.published), line)]


def read_jsonl(
    sc: Any, inputs: Sequence[str], fields: FieldNames, on_error: str, n: int
) -> tuple[Any, list[tuple[str, str, str]]]:
    """Read JSON Lines files on the executors.

    Args:
        sc: A live SparkContext.
        inputs: Paths of ``.jsonl`` files (see :func:`readable_on_executors`).
        fields: Names of the input fields.
        on_error: ``"fail"`` or ``"skip"``.
        n: Partitions of every shuffle.

    Returns:
        An RDD of records ``(position, id, text, title, source, published)`` and the skipped
        records ``(FILE:LINE, reason, raw line)`` in input order.

    Raises:
        InputError: The first problem in input order, when ``on_error="fail"``.
    """
    parts = []
    for number, path in enumerate(inputs):
        label = str(path)
        lines = sc.textFile(str(Path(path).resolve()), n).zipWithIndex()
        parts.append(lines.flatMap(lambda item, k=number, at=label: _parse(item, k, at, fields)))
    parsed = sc.union(parts)  # not cached: the raw lines are read again only when needed
    docs = parsed.filter(lambda p: p[0] == "doc").map(lambda p: (p[1], p[2])).cache()
    ids = docs.map(lambda d: (d[1][0], d[0]))
    first = ids.reduceByKey(min, n)
    # (position, id, position of the first occurrence) of every repeated id: few
    repeated = (
        ids.join(first, n)
        .filter(lambda kv: kv[1][0] != kv[1][1])
        .map(lambda kv: (kv[1][0], kv[0], kv[1][1]))
        .collect()
    )
    problems = parsed.filter(lambda p: p[0] == "bad").map(lambda p: (p[1], p[2])).collect()
    if repeated:
        wanted = {r[0] for r in repeated}
        raw = dict(
            parsed.filter(lambda p: p[0] == "doc" and p[1] in wanted)
            .map(lambda p: (p[1], p[3]))
            .collect()
        )
        for position, doc_id, first_at in repeated:
            reason = f"duplicate id {doc_id!r} (first at {inputs[first_at[0]]}:{first_at[1]})"
            origin = f"{inputs[position[0]]}:{position[1]}"
            problems.append((position, (origin, reason, raw[position])))
    problems.sort()
    if problems and on_error == "fail":
        origin, reason, _ = problems[0][1]
        path, _, line = origin.rpartition(":")
        raise InputError(path, int(line), reason)
    skip = {position for position, _ in problems}
    records = docs.filter(lambda d: d[0] not in skip).map(lambda d: (d[0], *d[1]))
    return records, [problem for _, problem in problems]
