"""The terminal report: plain text that reads well at 80 columns, colour only when asked."""

from __future__ import annotations

import textwrap

from ..types import Result
from .outline import ArticleLine, outline, titles

WIDTH = 80
_STYLES = {"bold": "1", "dim": "2", "cyan": "36", "yellow": "33", "green": "32"}


def _fit(text: str, width: int) -> str:
    """Cut ``text`` to ``width`` characters, ending with an ellipsis when cut."""
    indent = len(text) - len(text.lstrip(" "))
    text = " " * indent + " ".join(text.split())
    return text if len(text) <= width else text[: max(0, width - 1)] + "…"


class _Painter:
    def __init__(self, color: bool) -> None:
        self.color = color

    def __call__(self, text: str, *styles: str) -> str:
        if not self.color or not styles:
            return text
        codes = ";".join(_STYLES[s] for s in styles)
        return f"\x1b[{codes}m{text}\x1b[0m"


def summary_line(result: Result) -> str:
    """One sentence with the run's main counts."""
    s = result.stats
    parts = [
        f"{int(s.get('articles', 0))} articles",
        f"{len(result.stories)} stories",
        f"{len(result.events)} events",
        f"{int(s.get('duplicates', 0))} duplicates in {len(result.dup_groups)} groups",
        f"{int(s.get('paragraphs_removed', 0))} paragraphs removed",
    ]
    if result.rejected:
        parts.append(f"{len(result.rejected)} records skipped")
    return ", ".join(parts)


def _article(line: ArticleLine, paint: _Painter, indent: int) -> str:
    date = (line.date or "no date").ljust(16)
    mark = f" = copy of {line.duplicate_of}" if line.duplicate_of else ""
    head = f"{' ' * indent}{date}  "
    room = WIDTH - len(head)
    ident = f"[{line.id}]"
    if line.source:
        ident = f"[{line.source}] {ident}"
    body = _fit(f"{line.title} {ident}{mark}", room)
    return head + (paint(body, "dim") if line.duplicate_of else body)


def to_text(result: Result, *, color: bool = False) -> str:
    """Render ``result`` for a terminal.

    Args:
        result: A pipeline result.
        color: Use ANSI colours (only when writing to a terminal).
    """
    paint = _Painter(color)
    out = [paint(line, "bold") for line in textwrap.wrap("dedup: " + summary_line(result), WIDTH)]
    out.append("")
    out.append(paint("STORIES, EVENTS AND ARTICLES", "bold"))
    for story in outline(result):
        n = len(story.cluster.members)
        head = f"{story.cluster.id}  {n} article{'s' * (n != 1)}, {len(story.events)} event"
        head += "s" * (len(story.events) != 1)
        if story.span:
            head += f", {story.span}"
        out.append(paint(_fit(head, WIDTH), "cyan", "bold"))
        if story.cluster.terms:
            out.append(paint(_fit("  terms: " + ", ".join(story.cluster.terms), WIDTH), "dim"))
        for event in story.events:
            m = len(event.articles)
            line = f"  {event.cluster.id}  {m} article{'s' * (m != 1)}"
            if event.span:
                line += f", {event.span}"
            if event.cluster.terms and len(story.events) > 1:
                line += "  (" + ", ".join(event.cluster.terms[:4]) + ")"
            out.append(paint(_fit(line, WIDTH), "yellow"))
            out.extend(_article(a, paint, 4) for a in event.articles)
        out.append("")
    names = titles(result)
    out.append(paint(f"DUPLICATES ({len(result.dup_groups)} groups)", "bold"))
    if not result.dup_groups:
        out.append("  none")
    for group in result.dup_groups:
        out.append(_fit(f"  {group.canonical}  {names[group.canonical]}", WIDTH))
        for member in group.members:
            if member != group.canonical:
                sim = group.similarity.get(member, 0.0)
                out.append(_fit(f"    = {member}  similarity {sim:.2f}  {names[member]}", WIDTH))
    out.append("")
    removed = [(a.id, r) for a in result.articles for r in a.removed]
    out.append(paint(f"REMOVED PARAGRAPHS ({len(removed)})", "bold"))
    if not removed:
        out.append("  none")
    current = None
    for doc_id, record in removed:
        if doc_id != current:
            out.append(_fit(f"  {doc_id}  {names[doc_id]}", WIDTH))
            current = doc_id
        why = f"{record.reason} of {record.repeats}" if record.repeats else record.reason
        out.append(_fit(f"    #{record.paragraph} {why}: {record.text}", WIDTH))
    if result.rejected:
        out.append("")
        out.append(paint(f"SKIPPED RECORDS ({len(result.rejected)})", "bold"))
        out.extend(_fit(f"  {r.origin}: {r.reason}", WIDTH) for r in result.rejected)
    return "\n".join(out) + "\n"
