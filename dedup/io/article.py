"""Split a plain-text article (a ``.txt`` file of a folder) into title, date line and body."""

from __future__ import annotations

from dedup.io.dates import find_date_line, parse_date

__all__ = ["split_article"]

# The title has 3 words or more; shorter first lines (``Tin mới``) are section labels, but only
# when a headline (at most 30 words, no final full stop) follows within 4 lines.
_TITLE_MIN_WORDS, _HEADLINE_MAX_WORDS, _TITLE_LOOKAHEAD = 3, 30, 4


def split_article(text: str) -> tuple[str | None, str | None, str]:
    """Split a plain-text article into ``(title, date line, body)``.

    The title is the first non-blank line of at least 3 words (shorter lines before it, such as
    a section label, stay in the body, unless no headline follows them); a date line just after
    it (``16/11/2015 21:58 GMT+7``) is the date line. Both are taken out of the body; every other
    line is kept, bar blank lines at either end. Lines may end in LF, CRLF or CR.
    """
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    nonblank = [i for i, line in enumerate(lines) if line.strip()]
    if not nonblank:
        return None, None, text
    head = nonblank[: _TITLE_LOOKAHEAD + 2]
    candidates = [i for i in head if parse_date(lines[i]) is None]
    title_at = candidates[0] if candidates else head[0]
    for rank, i in enumerate(candidates[:_TITLE_LOOKAHEAD]):
        words = lines[i].split()
        if len(words) < _TITLE_MIN_WORDS:
            continue
        stripped = lines[i].rstrip()
        headline = len(words) <= _HEADLINE_MAX_WORDS and (
            not stripped.endswith(".") or stripped.endswith(("...", "…"))
        )
        if rank == 0 or headline:
            title_at = i
        break
    found = find_date_line(lines[title_at + 1 :])
    date_at = None if found is None else title_at + 1 + found
    if date_at is None:
        before = [i for i in head if i < title_at and i not in candidates]
        date_at = before[0] if before else None
    kept = [line for i, line in enumerate(lines) if i not in (title_at, date_at)]
    start = next((n for n, line in enumerate(kept) if line.strip()), len(kept))
    date_line = None if date_at is None else lines[date_at].strip()
    return lines[title_at].strip(), date_line, "\n".join(kept[start:]).rstrip()
