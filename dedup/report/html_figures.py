"""The HTML report's corpus figures: counts, share of text removed, duplicates by source."""

from __future__ import annotations

from ..types import Result
from .figures import corpus_figures
from .html_svg import bars_svg, esc, share_svg, swatch

MAX_BAR_SOURCES = 15
MAX_TABLE_ROWS = 200


def _cards(result: Result) -> str:
    figures = corpus_figures(result)
    stats = result.stats
    cards = [
        (len(result.documents), "articles"),
        (len(result.stories), "stories"),
        (len(result.events), "events"),
        (int(stats.get("duplicates", 0)), f"copies in {len(result.dup_groups)} duplicate groups"),
        (int(stats.get("paragraphs_removed", 0)), "paragraphs removed"),
        (f"{figures.boilerplate_share:.1%}", "of the text removed"),
    ]
    if result.rejected:
        cards.append((len(result.rejected), "records skipped"))
    return (
        '<div class="cards">'
        + "".join(
            f'<div class="card"><b>{esc(value)}</b><span>{esc(label)}</span></div>'
            for value, label in cards
        )
        + "</div>"
    )


def figures_section(result: Result) -> str:
    """The figures section: cards, removed text by reason, duplicates by source."""
    figures = corpus_figures(result)
    out = ['<section id="figures"><h2>Corpus figures</h2>', _cards(result)]
    removed = {r: 0 for r, _ in figures.removed_by_reason}
    for article in result.articles:
        for r in article.removed:
            removed[r.reason] += len(r.text)
    out.append(
        f"<h3>Text removed by the paragraph stage: {figures.boilerplate_share:.1%}</h3>"
        f'<p class="meta">{figures.removed_characters:,} of {figures.characters:,} characters; '
        "by reason: "
        + (
            ", ".join(
                f"{swatch(i + 4)}{esc(reason)} ({count} paragraph{'s' * (count != 1)})"
                for i, (reason, count) in enumerate(figures.removed_by_reason)
            )
            or "nothing removed"
        )
        + "</p>"
    )
    out.append(share_svg(list(removed.items()), figures.characters))
    rows = [(s.source, s.articles, s.copies) for s in figures.sources[:MAX_BAR_SOURCES]]
    out.append("<h3>Duplicates by source</h3>")
    out.append(bars_svg(rows, total_name="articles", part_name="copies"))
    out.append(
        '<table><thead><tr><th>source</th><th class="num">articles</th>'
        '<th class="num">copies of another article</th><th class="num">copied by others</th>'
        '<th class="num">paragraphs removed</th></tr></thead><tbody>'
    )
    for s in figures.sources[:MAX_TABLE_ROWS]:
        out.append(
            f'<tr><td>{esc(s.source)}</td><td class="num">{s.articles}</td>'
            f'<td class="num">{s.copies}</td><td class="num">{s.copied}</td>'
            f'<td class="num">{s.removed}</td></tr>'
        )
    out.append("</tbody></table>")
    if len(figures.sources) > MAX_TABLE_ROWS:
        out.append(f'<p class="meta">… and {len(figures.sources) - MAX_TABLE_ROWS} more.</p>')
    if figures.copy_flows:
        out.append(
            "<h3>Who copied whom</h3><table><thead><tr><th>copy published by</th>"
            '<th>canonical published by</th><th class="num">copies</th></tr></thead><tbody>'
        )
        out += [
            f'<tr><td>{esc(c)}</td><td>{esc(o)}</td><td class="num">{n}</td></tr>'
            for c, o, n in figures.copy_flows[:MAX_TABLE_ROWS]
        ]
        out.append("</tbody></table>")
    out.append("</section>")
    return "".join(out)
