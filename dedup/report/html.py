"""The HTML report: one self-contained page (no network, inline style and script).

``to_html(result)`` is a pure function of a :class:`~dedup.types.Result`. Article text is
untrusted: every string goes through :func:`html.escape` (``quote=True``), element ids are
generated (never taken from the input), links are kept only for ``http``/``https`` addresses,
and no script is built from article text. The page's Content-Security-Policy (see
:mod:`dedup.report.html_page`) is a second line of defence, not the first.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from ..types import Cluster, Document, Result
from .explain import explain_pair
from .figures import NO_SOURCE
from .html_diff import diff_table, evidence
from .html_figures import figures_section
from .html_page import page
from .html_svg import TimelinePoint, cut, esc, swatch, timeline_svg
from .outline import ArticleLine, outline, titles
from .text import summary_line

_WEB_ADDRESS = re.compile(r"https?://[^\s\"'<>`\\]+", re.IGNORECASE)
MAX_TERMS = 8
MAX_TABLE_ROWS = 200
REASONS = {
    "repeated": "a copy of an earlier paragraph of the same article",
    "self-repeat": "text glued to a copy of itself (one copy is kept)",
    "title-echo": "an image placeholder or caption that repeats the title",
    "boilerplate": "recurs across several unrelated articles of the same source",
}


class _Anchors:
    """Generated element ids, and which article columns the corpus fills.

    No id or link target ever comes from the input; a column of "no date" is left out when
    no article has a date.
    """

    def __init__(self, result: Result) -> None:
        self.dated = any(d.published for d in result.documents)
        self.sourced = any(d.source for d in result.documents)
        self.article = {d.id: f"a{i}" for i, d in enumerate(result.documents)}
        self.group = {}
        for n, group in enumerate(result.dup_groups):
            for member in group.members:
                self.group[member] = f"g{n}"


def _terms(terms: Sequence[str]) -> str:
    chips = "".join(f'<span class="term">{esc(t)}</span>' for t in terms[:MAX_TERMS])
    return f'<span class="terms">{chips}</span>' if chips else '<span class="muted">none</span>'


def _link(title: str, url: str | None) -> str:
    if url and _WEB_ADDRESS.fullmatch(url.strip()):
        return (
            f'<a href="{esc(url.strip())}" rel="noopener noreferrer nofollow" '
            f'target="_blank">{esc(title)}</a>'
        )
    return esc(title)


def _article_row(line: ArticleLine, url: str | None, anchors: _Anchors, copies: int) -> str:
    badge = ""
    if line.duplicate_of:
        badge = (
            f'<a class="badge copy" href="#{anchors.group[line.id]}">copy of '
            f"{esc(line.duplicate_of)}, similarity {line.similarity or 0.0:.2f}</a>"
        )
    elif copies:
        badge = (
            f'<a class="badge" href="#{anchors.group[line.id]}">'
            f"copied {copies} time{'s' * (copies != 1)}</a>"
        )
    return (
        f'<tr id="{anchors.article[line.id]}" class="{"copy" if line.duplicate_of else "orig"}">'
        + (f'<td class="date">{esc(line.date or "no date")}</td>' if anchors.dated else "")
        + (f"<td>{esc(line.source or NO_SOURCE)}</td>" if anchors.sourced else "")
        + f"<td>{_link(line.title, url)} {badge}</td>"
        + f'<td class="id">{esc(line.id)}</td></tr>'
    )


def _stories(result: Result, anchors: _Anchors) -> str:
    docs = {d.id: d for d in result.documents}
    copies = {g.canonical: len(g.members) - 1 for g in result.dup_groups}
    out = [
        '<section id="stories"><h2>Stories, events and articles</h2>',
        '<p class="meta">A <b>story</b> is a longer thread; it holds <b>events</b>, each one '
        "happening covered by one or more articles. The terms under each are the words with the "
        "highest TF-IDF weight in its centre: what holds its articles together.</p>",
        '<div class="toolbar"><button type="button" id="expand-all">Expand all</button>'
        '<button type="button" id="collapse-all">Collapse all</button>'
        '<input type="search" id="filter" placeholder="Filter stories by any word" '
        'aria-label="Filter stories"><span id="filter-count" class="meta"></span></div>',
    ]
    for n, story in enumerate(outline(result)):
        lines = [line for event in story.events for line in event.articles]
        headline = lines[0].title if lines else ""
        sources = {line.source for line in lines if line.source}
        meta = [
            f"{len(lines)} article{'s' * (len(lines) != 1)}",
            f"{len(story.events)} event{'s' * (len(story.events) != 1)}",
        ]
        if sources:
            meta.append(f"{len(sources)} source{'s' * (len(sources) != 1)}")
        if story.span:
            meta.append(story.span)
        points: list[TimelinePoint] = []
        undated = 0
        for index, event in enumerate(story.events):
            for line in event.articles:
                when = docs[line.id].published
                if when is not None:
                    # Plot local wall-clock times, as the article lists print them.
                    when = when.replace(tzinfo=None)
                if when is None:
                    undated += 1
                    continue
                label = f"{line.date} · {line.source or NO_SOURCE} · {event.cluster.id} · "
                points.append(
                    TimelinePoint(
                        when, line.source or NO_SOURCE, index, label + cut(line.title, 90)
                    )
                )
        out.append(
            f'<details class="story" id="st{n}"><summary><span class="sid">'
            f"{esc(story.cluster.id)}</span> {esc(cut(headline, 110))} "
            f'<span class="meta">· {esc(" · ".join(meta))}</span></summary><div class="body">'
            f"<p>Held together by {_terms(story.cluster.terms)}</p>"
        )
        out.append(timeline_svg(points, undated))
        for index, event in enumerate(story.events):
            out.append(
                _event(event.cluster, event.articles, event.span, index, docs, anchors, copies)
            )
        out.append("</div></details>")
    out.append("</section>")
    return "".join(out)


def _event(
    cluster: Cluster,
    lines: Sequence[ArticleLine],
    span: str,
    index: int,
    docs: dict[str, Document],
    anchors: _Anchors,
    copies: dict[str, int],
) -> str:
    meta = f"{len(lines)} article{'s' * (len(lines) != 1)}" + (f" · {span}" if span else "")
    headline = lines[0].title if lines else ""
    rows = "".join(
        _article_row(line, docs[line.id].url, anchors, copies.get(line.id, 0)) for line in lines
    )
    return (
        f'<details class="event"><summary>{swatch(index)}<span class="sid">{esc(cluster.id)}'
        f'</span> {esc(cut(headline, 100))} <span class="meta">· {esc(meta)}</span></summary>'
        f'<div class="body"><p>Held together by {_terms(cluster.terms)}</p>'
        "<table><thead><tr>"
        + ("<th>date</th>" if anchors.dated else "")
        + ("<th>source</th>" if anchors.sourced else "")
        + f"<th>title</th><th>id</th></tr></thead><tbody>{rows}</tbody></table></div></details>"
    )


def _duplicates(result: Result, anchors: _Anchors) -> str:
    docs = {d.id: d for d in result.documents}
    articles = {a.id: a for a in result.articles}
    names = titles(result)
    out = [
        f'<section id="duplicates"><h2>Near-duplicates ({len(result.dup_groups)} groups)</h2>',
        '<p class="meta">Each group keeps one <b>canonical</b> article (the earliest, then the '
        "longest); the others are copies. Similarity is the larger of the Jaccard similarity "
        "and the containment of the two cleaned texts' five-word shingle sets (0-1).</p>",
    ]
    if not result.dup_groups:
        out.append("<p>None found.</p>")
    for n, group in enumerate(result.dup_groups):
        canonical = docs[group.canonical]
        others = [m for m in group.members if m != group.canonical]
        top = max((group.similarity.get(m, 0.0) for m in others), default=0.0)
        out.append(
            f'<details class="group" id="g{n}"><summary>{esc(cut(names[group.canonical], 110))} '
            f'<span class="meta">· {len(others)} cop{"ies" if len(others) != 1 else "y"}, '
            f'similarity up to {top:.2f}</span></summary><div class="body">'
            f'<p>Canonical: <a href="#{anchors.article[canonical.id]}"><code>'
            f"{esc(canonical.id)}</code></a> · {esc(canonical.source or NO_SOURCE)} · "
            f"{esc(_date(canonical.published))}</p>"
        )
        for member in others:
            doc = docs[member]
            explanation = explain_pair(
                articles[group.canonical].cleaned_text, articles[member].cleaned_text
            )
            out.append(
                f'<h3>Copy <a href="#{anchors.article[member]}"><code>{esc(member)}</code></a>: '
                f"{esc(cut(names[member], 100))} "
                f'<span class="badge copy">similarity {group.similarity.get(member, 0.0):.2f}'
                f'</span></h3><p class="meta">{esc(doc.source or NO_SOURCE)} · '
                f"{esc(_date(doc.published))}</p>{evidence(explanation)}"
                '<details class="diff"><summary>Side by side: what differs</summary>'
                f'<div class="body">{diff_table(explanation)}</div></details>'
            )
        out.append("</div></details>")
    out.append("</section>")
    return "".join(out)


def _date(when: object) -> str:
    return when.strftime("%Y-%m-%d %H:%M") if hasattr(when, "strftime") else "no date"


def _removed(result: Result, anchors: _Anchors) -> str:
    names = titles(result)
    removed = [(a.id, r) for a in result.articles for r in a.removed]
    out = [f'<section id="removed"><h2>Removed paragraphs ({len(removed)})</h2>']
    if not removed:
        out.append("<p>None.</p></section>")
        return "".join(out)
    out.append(
        '<details class="removed"'
        + (" open" if len(removed) <= MAX_TABLE_ROWS else "")
        + f"><summary>{len(removed)} paragraphs in "
        f'{len({doc_id for doc_id, _ in removed})} articles</summary><div class="body">'
        '<table><thead><tr><th>article</th><th class="num">#</th><th>reason</th>'
        "<th>text removed</th></tr></thead><tbody>"
    )
    for doc_id, r in removed:
        why = esc(r.reason) + (f" of {esc(r.repeats)}" if r.repeats else "")
        out.append(
            f'<tr><td><a href="#{anchors.article[doc_id]}">{esc(cut(names[doc_id], 60))}</a>'
            f'<br><code>{esc(doc_id)}</code></td><td class="num">{r.paragraph}</td>'
            f"<td>{why}</td><td>{esc(cut(r.text, 400))}</td></tr>"
        )
    out.append("</tbody></table></div></details></section>")
    return "".join(out)


def _skipped(result: Result) -> str:
    if not result.rejected:
        return ""
    rows = "".join(
        f"<tr><td><code>{esc(r.origin)}</code></td><td>{esc(r.reason)}</td></tr>"
        for r in result.rejected
    )
    return (
        f'<section id="skipped"><h2>Skipped records ({len(result.rejected)})</h2>'
        f"<table><thead><tr><th>where</th><th>what is wrong</th></tr></thead>"
        f"<tbody>{rows}</tbody></table></section>"
    )


def _glossary() -> str:
    reasons = "".join(f"<dt>{esc(k)}</dt><dd>{esc(v)}</dd>" for k, v in REASONS.items())
    return (
        '<section id="how"><h2>How to read this report</h2><dl class="glossary">'
        "<dt>story, event</dt><dd>Articles are grouped by TF-IDF similarity of their cleaned "
        "text (average-link clustering), cut at two heights: tight groups are events, looser "
        "ones stories. Dates, when known, keep events far apart in time separate.</dd>"
        "<dt>terms</dt><dd>The words and word pairs with the highest weight in the group's "
        "centre: what its articles have in common.</dd>"
        "<dt>timeline</dt><dd>One row per source, one dot per dated article, coloured by "
        "event (the dot beside each event's name).</dd>"
        "<dt>near-duplicate</dt><dd>Two articles whose cleaned texts share most of their "
        "five-word shingles; the shared passages and the side-by-side view show the evidence."
        f"</dd>{reasons}</dl></section>"
    )


def to_html(result: Result) -> str:
    """Render ``result`` as one self-contained HTML page.

    Args:
        result: A pipeline result.

    Returns:
        The page (UTF-8 text): corpus figures, the stories > events > articles tree with a
        timeline per story, every duplicate group with its evidence and side-by-side view,
        the removed paragraphs, skipped records and a glossary. Deterministic.
    """
    anchors = _Anchors(result)
    header = (
        f'<header><h1>dedup report</h1><p class="muted">{esc(summary_line(result))}.</p>'
        '<nav><a href="#figures">Figures</a><a href="#stories">Stories</a>'
        '<a href="#duplicates">Duplicates</a><a href="#removed">Removed paragraphs</a>'
        + ('<a href="#skipped">Skipped</a>' if result.rejected else "")
        + '<a href="#how">How to read</a></nav></header>'
    )
    body = (
        header
        + "<main>"
        + figures_section(result)
        + _stories(result, anchors)
        + _duplicates(result, anchors)
        + _removed(result, anchors)
        + _skipped(result)
        + _glossary()
        + "</main><footer>Made by dedup. This page is self-contained: it loads nothing from the "
        "network.</footer>"
    )
    return page(f"dedup report: {len(result.documents)} articles", body)
