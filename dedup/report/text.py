"""The terminal report: plain text that reads well at 80 columns, colour only when asked."""

from __future__ import annotations

import textwrap
import unicodedata

from ..types import Result
from .explain import explain_pair
from .figures import corpus_figures
from .outline import ArticleLine, outline, titles

WIDTH = 80
_STYLES = {"bold": "1", "dim": "2", "cyan": "36", "yellow": "33", "green": "32"}


def char_width(char: str) -> int:
    """Terminal columns ``char`` takes: 0 for combining marks and controls, 2 for wide."""
    if unicodedata.combining(char) or unicodedata.category(char) in ("Cc", "Cf", "Mn", "Me"):
        return 0
    return 2 if unicodedata.east_asian_width(char) in ("W", "F") else 1


def display_width(text: str) -> int:
    """Terminal columns ``text`` takes (NFD Vietnamese and CJK text measured right)."""
    return sum(char_width(c) for c in text)


def _fit(text: str, width: int) -> str:
    """Cut ``text`` to ``width`` terminal columns, ending with an ellipsis when cut.

    Control and format characters (escape sequences, bidirectional overrides) are dropped:
    article text must not be able to drive the terminal.
    """
    indent = len(text) - len(text.lstrip(" "))
    text = " " * indent + " ".join(text.split())
    text = "".join(c for c in text if unicodedata.category(c) not in ("Cc", "Cf"))
    if display_width(text) <= width:
        return text
    out, used = [], 0
    for char in text:
        used += char_width(char)
        if used > width - 1:
            break
        out.append(char)
    return "".join(out) + "…"


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


def _article(line: ArticleLine, paint: _Painter, indent: int) -> list[str]:
    """Two lines: date and title, then source, id and what it copies (dimmed)."""
    head = f"{' ' * indent}{(line.date or 'no date').ljust(16)}  "
    title = _fit(line.title, WIDTH - len(head))
    details = [line.source, line.id] if line.source else [line.id]
    if line.duplicate_of:
        details.append(f"copy of {line.duplicate_of} ({line.similarity or 0.0:.2f})")
    below = _fit(" · ".join(details), WIDTH - len(head))
    return [
        head + (paint(title, "dim") if line.duplicate_of else title),
        " " * len(head) + paint(below, "dim"),
    ]


def _figures(result: Result) -> list[str]:
    """Share of text removed, and the sources whose articles were copied or are copies."""
    figures = corpus_figures(result)
    out = [
        f"{figures.boilerplate_share:.1%} of the text removed "
        f"({figures.removed_characters:,} of {figures.characters:,} characters)"
    ]
    copying = [s for s in figures.sources if s.copies or s.copied][:5]
    if copying:
        out.append("sources with copies (copies / copied by others / articles):")
        out += [
            _fit(f"  {s.source}: {s.copies} / {s.copied} / {s.articles}", WIDTH) for s in copying
        ]
    return out


def to_text(result: Result, *, color: bool = False) -> str:
    """Render ``result`` for a terminal.

    Args:
        result: A pipeline result.
        color: Use ANSI colours (only when writing to a terminal).
    """
    paint = _Painter(color)
    out = [paint(line, "bold") for line in textwrap.wrap("dedup: " + summary_line(result), WIDTH)]
    out += _figures(result)
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
            for article in event.articles:
                out.extend(_article(article, paint, 4))
        out.append("")
    names = titles(result)
    out.append(paint(f"DUPLICATES ({len(result.dup_groups)} groups)", "bold"))
    if not result.dup_groups:
        out.append("  none")
    texts = {a.id: a.cleaned_text for a in result.articles}
    for group in result.dup_groups:
        out.append(_fit(f"  {group.canonical}  {names[group.canonical]}", WIDTH))
        for member in group.members:
            if member != group.canonical:
                sim = group.similarity.get(member, 0.0)
                e = explain_pair(texts[group.canonical], texts[member])
                out.append(_fit(f"    = {member}  {names[member]}", WIDTH))
                shared = (
                    f"      similarity {sim:.2f}, {e.shared_words}/{e.copy_words} words and "
                    f"{e.shared_paragraphs}/{e.copy_paragraphs} paragraphs shared"
                )
                out.append(paint(_fit(shared, WIDTH), "dim"))
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
