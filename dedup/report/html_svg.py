"""Inline SVG pictures for the HTML report: story timelines and corpus bar charts.

Every label comes from untrusted article data and is escaped; no picture loads anything.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from html import escape

# Event colours (colour-blind-safe Okabe-Ito palette, then greys), cycled.
PALETTE = ("#0072b2", "#e69f00", "#009e73", "#cc79a7", "#d55e00", "#56b4e9", "#8c6d00", "#555")
MAX_ROWS = 10
_W, _LEFT, _RIGHT, _ROW, _TOP, _AXIS = 720, 170, 44, 22, 10, 26


def esc(value: object) -> str:
    """Escape any value for HTML text or a quoted attribute."""
    return escape(str(value), quote=True)


def cut(text: str, width: int) -> str:
    """Collapse white space and cut ``text`` to ``width`` characters (ellipsis when cut)."""
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


def swatch(index: int) -> str:
    """A small coloured dot naming event number ``index`` (matches its timeline dots)."""
    colour = PALETTE[index % len(PALETTE)]
    return (
        '<svg class="swatch" width="10" height="10" viewBox="0 0 10 10" aria-hidden="true">'
        f'<circle cx="5" cy="5" r="5" fill="{colour}"/></svg>'
    )


@dataclass(frozen=True, slots=True)
class TimelinePoint:
    """One dated article on a story timeline."""

    when: datetime
    source: str
    event_index: int
    label: str


def _ticks(start: datetime, end: datetime) -> list[tuple[datetime, str]]:
    span = end - start
    fmt = "%d/%m %H:%M" if span <= timedelta(days=3) else "%Y-%m-%d"
    return [(start + span * i / 4, (start + span * i / 4).strftime(fmt)) for i in range(5)]


def timeline_svg(points: Sequence[TimelinePoint], undated: int = 0) -> str:
    """Articles over time, one row per source, dots coloured by event.

    Args:
        points: The story's dated articles.
        undated: How many of its articles have no date (said in the caption).

    Returns:
        An ``<svg>`` element, or an empty string when no article is dated.
    """
    if not points:
        return ""
    first: dict[str, datetime] = {}
    for p in sorted(points, key=lambda p: (p.when, p.source)):
        first.setdefault(p.source, p.when)
    rows = sorted(first, key=lambda s: (first[s], s))
    other = f"{len(rows) - MAX_ROWS + 1} other sources" if len(rows) > MAX_ROWS else ""
    rows = [*rows[: MAX_ROWS - 1], other] if other else rows
    row_of = {s: i for i, s in enumerate(rows)}
    start = min(p.when for p in points)
    end = max(p.when for p in points)
    if end == start:
        start, end = start - timedelta(hours=12), end + timedelta(hours=12)
    plot = _W - _LEFT - _RIGHT
    height = _TOP + _ROW * len(rows) + _AXIS

    def x(when: datetime) -> float:
        return _LEFT + plot * ((when - start) / (end - start))

    title = f"{len(points)} dated articles over time, by source"
    if undated:
        title += f" ({undated} undated not shown)"
    out = [
        f'<svg class="timeline" width="{_W}" height="{height}" viewBox="0 0 {_W} {height}" '
        f'role="img" aria-label="{esc(title)}"><title>{esc(title)}</title>'
    ]
    for i, source in enumerate(rows):
        y = _TOP + _ROW * i + _ROW / 2
        out.append(f'<line class="grid" x1="{_LEFT}" x2="{_W - _RIGHT}" y1="{y}" y2="{y}"/>')
        out.append(
            f'<text class="label" x="{_LEFT - 8}" y="{y + 4}" text-anchor="end">'
            f"{esc(cut(source, 24))}</text>"
        )
    axis_y = _TOP + _ROW * len(rows) + 4
    for when, label in _ticks(start, end):
        tx = x(when)
        out.append(f'<line class="tick" x1="{tx:.1f}" x2="{tx:.1f}" y1="{_TOP}" y2="{axis_y}"/>')
        out.append(
            f'<text class="axis" x="{tx:.1f}" y="{axis_y + 14}" text-anchor="middle">'
            f"{esc(label)}</text>"
        )
    for p in sorted(points, key=lambda p: (p.when, p.source, p.label)):
        row = row_of.get(p.source, len(rows) - 1)
        y = _TOP + _ROW * row + _ROW / 2
        colour = PALETTE[p.event_index % len(PALETTE)]
        out.append(
            f'<circle cx="{x(p.when):.1f}" cy="{y}" r="5" fill="{colour}">'
            f"<title>{esc(p.label)}</title></circle>"
        )
    out.append("</svg>")
    return "".join(out)


def bars_svg(rows: Sequence[tuple[str, int, int]], *, total_name: str, part_name: str) -> str:
    """Horizontal bars: for each label a total, with the part of it highlighted.

    Args:
        rows: ``(label, total, part)``, drawn in the order given; ``0 <= part <= total``.
        total_name: What the total counts (``articles``).
        part_name: What the highlighted part counts (``copies``).

    Returns:
        An ``<svg>`` element, or an empty string when ``rows`` is empty.
    """
    if not rows:
        return ""
    top = max(total for _, total, _ in rows) or 1
    width, left, row = 720, 190, 20
    plot = width - left - 110
    height = row * len(rows) + 8
    out = [
        f'<svg class="bars" width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
        f'role="img" aria-label="{esc(part_name)} among {esc(total_name)}">'
    ]
    for i, (label, total, part) in enumerate(rows):
        y = 4 + row * i
        whole, share = plot * total / top, plot * part / top
        out.append(
            f'<text class="label" x="{left - 8}" y="{y + 13}" text-anchor="end">'
            f"{esc(cut(label, 28))}</text>"
            f'<rect class="total" x="{left}" y="{y + 3}" width="{whole:.1f}" height="13"/>'
            f'<rect class="part" x="{left}" y="{y + 3}" width="{share:.1f}" height="13"/>'
            f'<text class="value" x="{left + whole + 6:.1f}" y="{y + 13}">'
            f"{part} {esc(part_name)} / {total}</text>"
        )
    out.append("</svg>")
    return "".join(out)


def share_svg(parts: Sequence[tuple[str, int]], total: int) -> str:
    """One bar of ``total`` split into the named parts (the rest drawn as kept text)."""
    width, height = 720, 22
    out = [
        f'<svg class="share" width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
        'role="img" aria-label="share of the text removed">'
        f'<rect class="total" x="0" y="2" width="{width}" height="18"/>'
    ]
    x = 0.0
    for i, (name, size) in enumerate(parts):
        w = width * size / total if total else 0.0
        colour = PALETTE[(i + 4) % len(PALETTE)]
        out.append(
            f'<rect x="{x:.1f}" y="2" width="{max(w, 0.5):.1f}" height="18" fill="{colour}">'
            f"<title>{esc(name)}: {size} characters</title></rect>"
        )
        x += w
    out.append("</svg>")
    return "".join(out)
