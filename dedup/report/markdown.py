"""The Markdown report, for GitHub and other CommonMark renderers.

Untrusted text is made inert: every ASCII punctuation character that Markdown or HTML could
read as syntax is backslash-escaped (CommonMark allows it before any ASCII punctuation), so
``<script>`` stays text, ``|`` cannot split a table cell and ``[x](javascript:...)`` is no
link. Ids are shown as code spans whose fence is longer than any backtick run inside them.
"""

from __future__ import annotations

import re

from ..types import Result
from .explain import explain_pair
from .figures import corpus_figures
from .outline import outline, titles
from .text import summary_line

# ``:`` and ``@`` stop GitHub's bare autolinks and emoji codes, ``$`` its maths, ``&`` entities.
_SPECIAL = str.maketrans({c: "\\" + c for c in "\\`*_{}[]<>()#+-.!|~&:@$"})
_BACKTICKS = re.compile(r"`+")
MAX_SOURCES = 20


def escape(text: str) -> str:
    """Escape Markdown punctuation and collapse white space, so untrusted text stays text."""
    return " ".join(text.split()).translate(_SPECIAL)


def code(text: str, *, in_table: bool = False) -> str:
    """``text`` as an inline code span that no backtick or pipe inside it can break.

    Args:
        text: Any text (white space is collapsed).
        in_table: Escape ``|`` too: GitHub splits table cells on it even inside code spans.
    """
    text = " ".join(text.split())
    longest = max((len(run) for run in _BACKTICKS.findall(text)), default=0)
    fence = "`" * (longest + 1)
    if text.startswith("`") or text.endswith("`"):
        text = f" {text} "
    if in_table:
        text = text.replace("|", "\\|")
    return f"{fence}{text}{fence}" if text else "` `"


def _cut(text: str, width: int = 120) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


def _figures(result: Result) -> list[str]:
    figures = corpus_figures(result)
    out = [
        "## Figures",
        "",
        f"{figures.boilerplate_share:.1%} of the text was removed by the paragraph stage "
        f"({figures.removed_characters:,} of {figures.characters:,} characters"
        + ("; paragraphs by reason: " if figures.removed_by_reason else "")
        + ", ".join(f"{escape(r)} {n}" for r, n in figures.removed_by_reason)
        + ").",
        "",
        "| source | articles | copies of another article | copied by others | paragraphs removed |",
        "|---|--:|--:|--:|--:|",
    ]
    out += [
        f"| {escape(s.source)} | {s.articles} | {s.copies} | {s.copied} | {s.removed} |"
        for s in figures.sources[:MAX_SOURCES]
    ]
    if len(figures.sources) > MAX_SOURCES:
        out.append(f"| … {len(figures.sources) - MAX_SOURCES} more | | | | |")
    return [*out, ""]


def to_markdown(result: Result) -> str:
    """Render ``result`` as Markdown: figures, stories and events, duplicates, removals."""
    # Only our own numbers, dates and ids of the form e1/s1 go unescaped.
    names = titles(result)
    out = ["# dedup report", "", summary_line(result) + ".", ""]
    out += _figures(result)
    out += ["## Stories", ""]
    for story in outline(result):
        n = len(story.cluster.members)
        span = f", {story.span}" if story.span else ""
        out.append(f"### {escape(story.cluster.id)}: {n} article{'s' * (n != 1)}{span}")
        out.append("")
        if story.cluster.terms:
            out += ["Terms: " + ", ".join(escape(t) for t in story.cluster.terms), ""]
        for event in story.events:
            span = f", {event.span}" if event.span else ""
            terms = ", ".join(escape(t) for t in event.cluster.terms[:5])
            out.append(f"- **{escape(event.cluster.id)}** ({len(event.articles)}{span}): {terms}")
            for a in event.articles:
                bits = [a.date or "no date"]  # made by strftime: digits, "-", ":" and " "
                if a.source:
                    bits.append(escape(a.source))
                copy = f" (copy of {code(a.duplicate_of)})" if a.duplicate_of else ""
                out.append(f"  - {escape(a.title)} · {' · '.join(bits)} · {code(a.id)}{copy}")
        out.append("")
    out += ["## Duplicates", ""]
    if not result.dup_groups:
        out += ["None found.", ""]
    else:
        texts = {a.id: a.cleaned_text for a in result.articles}
        out += [
            "| canonical | copy | similarity | shared words | shared paragraphs |",
            "|---|---|--:|--:|--:|",
        ]
        for group in result.dup_groups:
            for member in group.members:
                if member != group.canonical:
                    evidence = explain_pair(texts[group.canonical], texts[member])
                    out.append(
                        f"| {code(group.canonical, in_table=True)} "
                        f"{escape(_cut(names[group.canonical], 60))} "
                        f"| {code(member, in_table=True)} {escape(_cut(names[member], 60))} "
                        f"| {group.similarity.get(member, 0.0):.2f} "
                        f"| {evidence.shared_words}/{evidence.copy_words} "
                        f"| {evidence.shared_paragraphs}/{evidence.copy_paragraphs} |"
                    )
        out.append("")
    out += ["## Removed paragraphs", ""]
    removed = [(a.id, r) for a in result.articles for r in a.removed]
    if not removed:
        out += ["None.", ""]
    else:
        out += ["| article | # | reason | text |", "|---|--:|---|---|"]
        for doc_id, r in removed:
            why = f"{r.reason} of {r.repeats}" if r.repeats else r.reason
            out.append(
                f"| {code(doc_id, in_table=True)} | {r.paragraph} | {escape(why)} "
                f"| {escape(_cut(r.text))} |"
            )
        out.append("")
    if result.rejected:
        out += ["## Skipped records", ""]
        out += [f"- {code(r.origin)}: {escape(r.reason)}" for r in result.rejected]
        out.append("")
    return "\n".join(out)
