"""The side-by-side view of a near-duplicate pair, as HTML (every text escaped)."""

from __future__ import annotations

from .explain import DiffRow, PairExplanation, Segment
from .html_svg import cut, esc

MAX_PASSAGE_CHARS = 300
MAX_SAME_RUN = 2  # longer runs of unchanged paragraphs are folded away
_KIND_LABEL = {
    "same": "unchanged",
    "changed": "edited",
    "removed": "only in the canonical",
    "added": "only in the copy",
}


def _segments(segments: tuple[Segment, ...], tag: str) -> str:
    return " ".join(
        f"<{tag}>{esc(text)}</{tag}>" if differs else esc(text) for text, differs in segments
    )


def _row(row: DiffRow) -> str:
    left = _segments(row.left, "del")
    right = _segments(row.right, "ins")
    return (
        f'<tr class="{row.kind}" title="{_KIND_LABEL[row.kind]}">'
        f"<td>{left}</td><td>{right}</td></tr>"
    )


def diff_table(explanation: PairExplanation) -> str:
    """Side-by-side table: canonical left, copy right; runs of unchanged paragraphs folded."""
    out = ['<table class="diff"><thead><tr><th>canonical</th><th>copy</th></tr></thead><tbody>']
    rows = explanation.rows
    i = 0
    while i < len(rows):
        j = i
        while j < len(rows) and rows[j].kind == "same":
            j += 1
        if j - i > MAX_SAME_RUN:
            out.append(_row(rows[i]))
            out.append(
                f'<tr class="fold"><td colspan="2">… {j - i - 2} unchanged paragraphs …</td></tr>'
            )
            out.append(_row(rows[j - 1]))
            i = j
            continue
        out.append(_row(rows[i]))
        i += 1
    out.append("</tbody></table>")
    return "".join(out)


def evidence(explanation: PairExplanation) -> str:
    """What the two articles share: paragraphs, words in shared passages, the longest ones."""
    e = explanation
    words = f"{e.shared_words} of its {e.copy_words} words" if e.copy_words else "no words"
    out = [
        '<p class="evidence">The copy shares '
        f"<b>{e.shared_paragraphs} of its {e.copy_paragraphs} paragraphs</b> unchanged with "
        f"the canonical ({e.canonical_paragraphs} paragraphs), and <b>{words}</b> sit in "
        "passages of five or more words that both hold in the same order.</p>"
    ]
    if e.passages:
        out.append('<ol class="passages">')
        out += [
            f"<li><q>{esc(cut(p, MAX_PASSAGE_CHARS))}</q> "
            f'<span class="meta">({len(p.split())} words)</span></li>'
            for p in e.passages
        ]
        out.append("</ol>")
    return "".join(out)
