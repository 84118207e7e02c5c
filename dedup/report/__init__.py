"""Reports: pure functions of a :class:`~dedup.types.Result`."""

from __future__ import annotations

from .html import to_html
from .markdown import to_markdown
from .records import iter_json, iter_records, to_dict, to_json, to_jsonl
from .text import to_text

FORMATS = ("text", "markdown", "json", "jsonl", "html")

__all__ = [
    "FORMATS",
    "iter_json",
    "iter_records",
    "to_dict",
    "to_html",
    "to_json",
    "to_jsonl",
    "to_markdown",
    "to_text",
]
