"""Machine-readable output: one JSONL record per article, and the whole result as JSON."""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from typing import Any

from ..types import ArticleResult, Document, Result

#: Names dedup writes into each JSONL record; an input field of the same name is kept under
#: ``input_<name>`` in ``with_input`` mode.
ANNOTATIONS = ("id", "duplicate_of", "similarity", "event", "story", "removed", "clean_text")


def _removed(article: ArticleResult) -> list[dict[str, Any]]:
    return [{"paragraph": r.paragraph, "reason": r.reason, "text": r.text} for r in article.removed]


def article_record(
    doc: Document, article: ArticleResult, *, with_input: bool = False, with_text: bool = False
) -> dict[str, Any]:
    """The JSONL record of one article.

    Args:
        doc: The input document.
        article: What dedup decided about it.
        with_input: Start from every field of the input record. An input field whose name is an
            annotation (see :data:`ANNOTATIONS`) other than ``id`` is renamed ``input_<name>``
            so nothing is lost and the annotation keeps its documented meaning.
        with_text: Add ``clean_text``, the text after the paragraph stage.

    Returns:
        ``id``, ``duplicate_of``, ``similarity``, ``event``, ``story``, ``removed`` (and
        ``clean_text``), after the input fields when asked.
    """
    record: dict[str, Any] = {}
    if with_input:
        for key, value in doc.fields.items():
            if key in ANNOTATIONS and key != "id":
                record[f"input_{key}"] = value
            elif key != "id":
                record[key] = value
    annotations: dict[str, Any] = {
        "id": article.id,
        "duplicate_of": article.duplicate_of,
        "similarity": article.similarity,
        "event": article.event,
        "story": article.story,
        "removed": _removed(article),
    }
    if with_text:
        annotations["clean_text"] = article.cleaned_text
    if with_input:
        return {"id": article.id, **record, **{k: v for k, v in annotations.items() if k != "id"}}
    return annotations


def iter_records(
    result: Result,
    *,
    with_input: bool = False,
    with_text: bool = False,
    drop_duplicates: bool = False,
) -> Iterator[dict[str, Any]]:
    """Yield the JSONL records of ``result`` in input order (duplicates skipped when asked)."""
    for doc, article in zip(result.documents, result.articles, strict=True):
        if drop_duplicates and article.duplicate_of is not None:
            continue
        yield article_record(doc, article, with_input=with_input, with_text=with_text)


def to_jsonl(result: Result, **options: bool) -> str:
    """One JSON object per line (see :func:`iter_records` for the options)."""
    return "".join(
        json.dumps(r, ensure_ascii=False, sort_keys=False) + "\n"
        for r in iter_records(result, **options)
    )


def to_dict(result: Result) -> dict[str, Any]:
    """The whole result as plain data: stats, groups, stories, events and articles."""
    return {
        key: dict(value) if isinstance(value, dict) else list(value)
        for key, value in _sections(result)
    }


def to_json(result: Result) -> str:
    """The whole result as one indented JSON document (:func:`to_dict`'s data)."""
    return "".join(iter_json(result))


def iter_json(result: Result) -> Iterator[str]:
    """:func:`to_json`'s text in pieces, one per list item, so no piece is the whole document.

    The document of a million articles is about 700 MB of text, and the indented encoder
    keeps every small piece of it until joined: written as it is made, it needs the memory
    of one item at a time. The bytes are those of ``json.dumps(to_dict(result),
    ensure_ascii=False, indent=2)`` followed by a newline.
    """
    yield "{"
    for n, (key, value) in enumerate(_sections(result)):
        yield ("," if n else "") + "\n  " + json.dumps(key, ensure_ascii=False) + ": "
        if isinstance(value, dict):
            yield _dumps(value, depth=1)
            continue
        if key == "articles":  # the longest list, laid out without its records (as they read)
            value = map(_article_json, _documents_of(result), result.articles)
        else:
            value = (_dumps(item, depth=2) for item in value)
        first = True
        for text in value:
            yield ("[" if first else ",") + "\n    " + text
            first = False
        yield "[]" if first else "\n  ]"
    yield "\n}\n"


def _documents_of(result: Result) -> Iterator[Document]:
    """The document of each article of ``result``, in article order."""
    if [d.id for d in result.documents] == [a.id for a in result.articles]:
        return iter(result.documents)  # the pipeline's order: no lookup by id
    docs = {d.id: d for d in result.documents}
    return (docs[a.id] for a in result.articles)


_ARTICLE_INDENT = "  " * 2  # an item of a top-level list
_FIELD = "\n" + _ARTICLE_INDENT + "  "  # a new line, then a key of the item


def _article_json(doc: Document, article: ArticleResult) -> str:
    """``_dumps(record, 2)`` of the document's record of ``article`` (see :func:`_sections`).

    The same bytes, with the record's keys in a template instead of a dict laid out key by
    key (50,000 news articles: 0.37 s instead of 0.46-0.51 s; 0.8 s with each document looked
    up by id, as before :func:`_documents_of`). ``tests/test_pipeline.py`` compares the
    document with ``json.dumps``.
    """
    inner = _ARTICLE_INDENT + "  "
    date = doc.published.isoformat() if doc.published else None
    return (
        f'{{{_FIELD}"id": {_indented(article.id, inner)},'
        f'{_FIELD}"duplicate_of": {_indented(article.duplicate_of, inner)},'
        f'{_FIELD}"similarity": {_indented(article.similarity, inner)},'
        f'{_FIELD}"event": {_indented(article.event, inner)},'
        f'{_FIELD}"story": {_indented(article.story, inner)},'
        f'{_FIELD}"removed": {_indented(_removed(article), inner)},'
        f'{_FIELD}"title": {_indented(doc.title, inner)},'
        f'{_FIELD}"source": {_indented(doc.source, inner)},'
        f'{_FIELD}"date": {_indented(date, inner)},'
        f'{_FIELD}"url": {_indented(doc.url, inner)}\n{_ARTICLE_INDENT}}}'
    )


def _dumps(value: Any, depth: int) -> str:
    """``value`` as indented JSON, as it reads ``depth`` levels deep in a document."""
    return _indented(value, "  " * depth)


_STRING = json.encoder.encode_basestring  # a str as JSON, non-ASCII kept (C)
_CONSTANTS = {None: "null", True: "true", False: "false"}


def _indented(value: Any, indent: str) -> str:
    """``json.dumps(value, ensure_ascii=False, indent=2)``, each new line after ``indent``.

    The same bytes, but the containers are laid out here and only their strings and numbers
    encoded by ``json``: with ``indent`` set, ``json.dumps`` runs its pure-Python encoder
    throughout (writing a million articles took about a minute that way, 4-5 times longer).
    What this does not lay out itself (keys that are not strings, numbers of other types,
    values JSON cannot hold) goes to ``json.dumps`` whole, so it reads or fails as there.
    """
    kind = type(value)
    if kind is str:
        return _STRING(value)
    if kind is dict:
        if not value:
            return "{}"
        inner = indent + "  "
        items = []
        for key, item in value.items():
            if type(key) is not str:
                return _json_indented(value, indent)
            text = _STRING(item) if type(item) is str else _indented(item, inner)
            items.append(f"{inner}{_STRING(key)}: {text}")
        return "{\n" + ",\n".join(items) + "\n" + indent + "}"
    if kind is list or kind is tuple:
        if not value:
            return "[]"
        inner = indent + "  "
        items = [
            inner + (_STRING(item) if type(item) is str else _indented(item, inner))
            for item in value
        ]
        return "[\n" + ",\n".join(items) + "\n" + indent + "]"
    if kind is float and math.isfinite(value):  # NaN and infinities: json.dumps' own words
        return float.__repr__(value)
    if kind is int:
        return int.__repr__(value)
    if value is None or kind is bool:
        return _CONSTANTS[value]
    return _json_indented(value, indent)


def _json_indented(value: Any, indent: str) -> str:
    """``json.dumps(value, ensure_ascii=False, indent=2)``, each new line after ``indent``."""
    text = json.dumps(value, ensure_ascii=False, indent=2)
    return text.replace("\n", "\n" + indent)  # JSON text has no raw newline in strings


def _sections(result: Result) -> Iterator[tuple[str, Any]]:
    """The document's top-level keys in order, each with a dict or a lazy iterable of items."""
    # Wall-clock seconds differ from run to run; the report must not (Result.stats has them).
    yield "stats", {k: v for k, v in result.stats.items() if not k.startswith("seconds_")}
    yield (
        "duplicate_groups",
        (
            {"canonical": g.canonical, "members": list(g.members), "similarity": dict(g.similarity)}
            for g in result.dup_groups
        ),
    )
    yield (
        "stories",
        (
            {
                "id": s.id,
                "events": list(s.children),
                "terms": list(s.terms),
                "members": list(s.members),
            }
            for s in result.stories
        ),
    )
    yield (
        "events",
        ({"id": e.id, "terms": list(e.terms), "members": list(e.members)} for e in result.events),
    )
    yield (
        "articles",
        (
            {
                **article_record(doc, a),
                "title": doc.title,
                "source": doc.source,
                "date": doc.published.isoformat() if doc.published else None,
                "url": doc.url,
            }
            for doc, a in zip(_documents_of(result), result.articles)  # noqa: B905 - as long
        ),
    )
    yield "rejected", ({"origin": r.origin, "reason": r.reason} for r in result.rejected)
