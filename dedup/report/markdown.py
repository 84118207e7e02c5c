"""The Markdown report, for GitHub and other CommonMark renderers."""

from __future__ import annotations

from ..types import Result
from .outline import outline, titles
from .text import summary_line

_SPECIAL = str.maketrans({c: "\\" + c for c in "\\`*_{}[]<>()#+-.!|~"})


def escape(text: str) -> str:
    """Escape Markdown punctuation and collapse white space, so untrusted text stays text."""
    return " ".join(text.split()).translate(_SPECIAL)


def _cut(text: str, width: int = 120) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


def to_markdown(result: Result) -> str:
    """Render ``result`` as Markdown: summary, stories and events, duplicates, removals."""
    names = titles(result)
    out = ["# dedup report", "", escape(summary_line(result)) + ".", "", "## Stories", ""]
    for story in outline(result):
        n = len(story.cluster.members)
        span = f", {story.span}" if story.span else ""
        out.append(f"### {story.cluster.id}: {n} article{'s' * (n != 1)}{escape(span)}")
        out.append("")
        if story.cluster.terms:
            out += ["Terms: " + ", ".join(escape(t) for t in story.cluster.terms), ""]
        for event in story.events:
            span = f", {event.span}" if event.span else ""
            terms = ", ".join(escape(t) for t in event.cluster.terms[:5])
            out.append(f"- **{event.cluster.id}** ({len(event.articles)}{escape(span)}): {terms}")
            for a in event.articles:
                bits = [escape(a.date) if a.date else "no date"]
                if a.source:
                    bits.append(escape(a.source))
                copy = f" (copy of `{a.duplicate_of}`)" if a.duplicate_of else ""
                out.append(f"  - {escape(a.title)} · {' · '.join(bits)} · `{a.id}`{copy}")
        out.append("")
    out += ["## Duplicates", ""]
    if not result.dup_groups:
        out += ["None found.", ""]
    else:
        out += ["| canonical | copy | similarity |", "|---|---|---|"]
        for group in result.dup_groups:
            for member in group.members:
                if member != group.canonical:
                    out.append(
                        f"| `{group.canonical}` {escape(_cut(names[group.canonical], 60))} "
                        f"| `{member}` {escape(_cut(names[member], 60))} "
                        f"| {group.similarity.get(member, 0.0):.2f} |"
                    )
        out.append("")
    out += ["## Removed paragraphs", ""]
    removed = [(a.id, r) for a in result.articles for r in a.removed]
    if not removed:
        out += ["None.", ""]
    else:
        out += ["| article | # | reason | text |", "|---|---|---|---|"]
        for doc_id, r in removed:
            why = f"{r.reason} of {r.repeats}" if r.repeats else r.reason
            out.append(f"| `{doc_id}` | {r.paragraph} | {escape(why)} | {escape(_cut(r.text))} |")
        out.append("")
    if result.rejected:
        out += ["## Skipped records", ""]
        out += [f"- `{r.origin}`: {escape(r.reason)}" for r in result.rejected]
        out.append("")
    return "\n".join(out)
