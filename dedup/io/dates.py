"""Publication dates as news sites print them, and the date line of a plain-text article.

Two public functions:

- :func:`parse_date` turns one date string (ISO 8601, or the day-first styles of Vietnamese news:
  ``16/11/2015 21:58 GMT+7``, ``Thứ hai, 16/11/2015, 09:42 (GMT+7)``, ``14:21, 15/10/2014``, ...,
  or English ``November 16, 2015 9:42 PM``) into a :class:`~datetime.datetime`.
- :func:`find_date_line` finds the line of an article that is only a date (the dateline under the
  headline), never a body sentence that merely mentions one.

Both share one grammar: a string is a date when, after the date, the time, the time zone, weekday
names and a few filler words (``ngày``, ``lúc``, ``cập nhật``, ``updated``, ...) are taken out,
nothing but punctuation is left. So ``hôm 26/11`` (no year) and ``Ngày 16/11/2015, ông Putin nói``
(other words left) are not dates.
"""

from __future__ import annotations

import calendar
import functools
import re
import unicodedata
from collections.abc import Sequence
from datetime import datetime, timedelta, timezone

__all__ = ["find_date_line", "parse_date"]

#: How many non-blank lines after the title :func:`find_date_line` looks at.
DATE_LINE_WINDOW = 6

#: A line of more words than this is body text: :func:`find_date_line` stops there.
BODY_LINE_WORDS = 15

#: Longest string (in characters) taken for a date; longer ones are body text.
_MAX_LEN = 80

_ISO = re.compile(
    r"(?<!\d)(?P<y>\d{4})-(?P<m>\d{2})-(?P<d>\d{2})"
    r"(?:[t ](?P<H>\d{2}):(?P<M>\d{2})(?::(?P<S>\d{2})(?:[.,](?P<f>\d{1,6})\d*)?)?)?"
    r"\s*(?P<tz>z|[+-]\d{2}(?::?\d{2})?)?(?!\d)"
)
# Day first: 16/11/2015, 16-11-2015, 16.11.2015 (the separator must repeat).
_DMY = re.compile(r"(?<![\d.])(?P<d>\d{1,2})(?P<sep>[/.-])(?P<m>\d{1,2})(?P=sep)(?P<y>\d{4})(?!\d)")
# Year first: 2015/11/16, 2015.11.16, and ISO dates followed by a zone name (2015-11-16 GMT+7).
_YMD = re.compile(r"(?<!\d)(?P<y>\d{4})(?P<sep>[/.-])(?P<m>\d{1,2})(?P=sep)(?P<d>\d{1,2})(?!\d)")
# Vietnamese long form: ngày 16 tháng 11 năm 2015.
_VI_LONG = re.compile(
    r"(?<!\d)(?P<d>\d{1,2})\s+tháng\s+(?P<m>\d{1,2})\s*(?:,|năm)?\s*(?P<y>\d{4})(?!\d)"
)
_MONTHS = {
    name: number
    for number, names in enumerate(
        [
            ("january", "jan"),
            ("february", "feb"),
            ("march", "mar"),
            ("april", "apr"),
            ("may",),
            ("june", "jun"),
            ("july", "jul"),
            ("august", "aug"),
            ("september", "sept", "sep"),
            ("october", "oct"),
            ("november", "nov"),
            ("december", "dec"),
        ],
        start=1,
    )
    for name in names
}
_MONTH = "(?P<mon>" + "|".join(sorted(_MONTHS, key=len, reverse=True)) + r")\.?"
# English: 16 November 2015, November 16, 2015, Nov. 16th 2015.
_EN_DMY = re.compile(
    r"(?<!\d)(?P<d>\d{1,2})(?:st|nd|rd|th)?\s+" + _MONTH + r",?\s+(?P<y>\d{4})(?!\d)"
)
_EN_MDY = re.compile(r"\b" + _MONTH + r"\s+(?P<d>\d{1,2})(?:st|nd|rd|th)?,?\s+(?P<y>\d{4})(?!\d)")
_TIME = re.compile(
    r"(?<![\d:])(?P<H>\d{1,2})(?::|h(?=\d))(?P<M>\d{2})(?::(?P<S>\d{2}))?(?![\d:])"
    r"(?:\s*(?P<ampm>a\.?m\.?|p\.?m\.?|sa|ch)(?![^\W\d_]))?"
)
_TZ = re.compile(
    r"\b(?P<name>gmt|utc)\s*(?:(?P<sign>[+-])\s*(?P<h>\d{1,2})(?::?(?P<mm>\d{2}))?)?(?!\d)"
    r"|\b(?P<abbr>ict)\b"
)
# Words allowed around a date: weekdays, "date", "time", "updated", "posted", ...
_FILLER = re.compile(
    r"\b(?:thứ\s+(?:hai|ba|tư|năm|sáu|bảy|bẩy|[2-7])|chủ\s+nhật|cn|t[2-7]"
    r"|monday|tuesday|wednesday|thursday|friday|saturday|sunday"
    r"|mon|tue|tues|wed|thu|thur|thurs|fri|sat|sun"
    r"|ngày|lúc|giờ|hôm\s+nay|cập\s+nhật|đăng\s+lúc|đăng\s+ngày|đăng|xuất\s+bản"
    r"|updated|update|posted|published|last\s+modified|on|at|date)\b"
)
_PUNCT_ONLY = re.compile(r"[\s|,;:()\[\]\-–—/.·•*_]*")


def _offset(sign: str | None, hours: str | None, minutes: str | None) -> timezone | None:
    """Return the fixed offset ``sign hours:minutes``, or None when out of range."""
    delta = timedelta(hours=int(hours or 0), minutes=int(minutes or 0))
    if delta >= timedelta(hours=15) or int(minutes or 0) >= 60:
        return None
    return timezone(-delta if sign == "-" else delta)


def _build(
    year: int, month: int, day: int, hms: tuple[int, int, int, int], tz: timezone | None
) -> datetime | None:
    """Return the datetime, or None when the calendar date or the time does not exist."""
    hour, minute, second, micro = hms
    if not (1 <= month <= 12 and 1 <= year <= 9999):
        return None
    if not 1 <= day <= calendar.monthrange(year, month)[1]:
        return None
    if hour > 23 or minute > 59 or second > 59:
        return None
    return datetime(year, month, day, hour, minute, second, micro, tzinfo=tz)


def _parse_iso(text: str) -> datetime | None:
    """Parse an ISO 8601 date or date-time that fills ``text`` (bar punctuation)."""
    match = _ISO.search(text)
    if match is None or _PUNCT_ONLY.fullmatch(text[: match.start()] + text[match.end() :]) is None:
        return None
    tz: timezone | None = None
    raw_tz = match["tz"]
    if raw_tz == "z":
        tz = timezone.utc
    elif raw_tz:
        digits = raw_tz[1:].replace(":", "")
        tz = _offset(raw_tz[0], digits[:2], digits[2:] or None)
        if tz is None:
            return None
    micro = int((match["f"] or "0").ljust(6, "0"))
    hms = (int(match["H"] or 0), int(match["M"] or 0), int(match["S"] or 0), micro)
    return _build(int(match["y"]), int(match["m"]), int(match["d"]), hms, tz)


def _take(pattern: re.Pattern[str], text: str) -> tuple[re.Match[str] | None, str]:
    """Return the first match of ``pattern`` and ``text`` with that match blanked out."""
    match = pattern.search(text)
    if match is None:
        return None, text
    return match, text[: match.start()] + " " + text[match.end() :]


def _parse_news(text: str) -> datetime | None:
    """Parse the day-first and English styles of news sites (see :func:`parse_date`)."""
    tz: timezone | None = None
    tz_match, rest = _take(_TZ, text)
    if tz_match is not None:
        if tz_match["abbr"]:
            tz = timezone(timedelta(hours=7))
        else:
            tz = _offset(tz_match["sign"], tz_match["h"], tz_match["mm"])
            if tz is None:
                return None
    date = None
    for pattern in (_VI_LONG, _EN_DMY, _EN_MDY, _DMY, _YMD):
        date, rest = _take(pattern, rest)
        if date is not None:
            break
    if date is None:
        return None
    time, rest = _take(_TIME, rest)
    rest = _FILLER.sub(" ", rest)
    if _PUNCT_ONLY.fullmatch(rest) is None:
        return None
    month = _MONTHS[date["mon"]] if "mon" in date.groupdict() else int(date["m"])
    hms = (0, 0, 0, 0)
    if time is not None:
        hour = int(time["H"])
        ampm = (time["ampm"] or "").replace(".", "")
        if ampm:
            if not 1 <= hour <= 12:
                return None
            hour = hour % 12 + (12 if ampm in ("pm", "ch") else 0)
        hms = (hour, int(time["M"]), int(time["S"] or 0), 0)
    return _build(int(date["y"]), month, int(date["d"]), hms, tz)


def parse_date(value: str) -> datetime | None:
    """Parse a publication date as news sites and feeds print it.

    Understood: ISO 8601 (``2015-11-16``, ``2015-11-16T21:58:00+07:00``, ``...Z``); day-first
    dates with ``/``, ``-`` or ``.`` (``16/11/2015``, ``16-11-2015``, ``16.11.2015 10:00``),
    with an optional time before or after (``14:21, 15/10/2014``, ``21h58``), weekday
    (``Thứ hai``, ``Monday``), time zone (``GMT+7``, ``(GMT+7)``, ``UTC+07:00``, ``ICT``) and a
    few filler words (``ngày``, ``lúc``, ``cập nhật``, ``updated``); ``ngày 16 tháng 11 năm
    2015``; English month names (``16 November 2015``, ``Nov 16, 2015 9:42 PM``). Slash, dash
    and dot dates are always read day first (``03/04/2015`` is 3 April).

    Args:
        value: The string; it must hold one date and nothing else but the parts above.

    Returns:
        The time, aware when a zone is given and naive otherwise (midnight when no time is
        given), or None when ``value`` is not a date, names a day that does not exist
        (``31/02/2015``), or is longer than 80 characters. Never raises on odd strings.
    """
    if not isinstance(value, str) or not value.strip() or len(value) > _MAX_LEN:
        return None
    return _parse_text(value)


@functools.lru_cache(maxsize=1 << 14)
def _parse_text(value: str) -> datetime | None:
    """:func:`parse_date` of a string (kept for its next sight: a corpus repeats its dates).

    A news corpus prints a few thousand distinct dates for a million articles (about 20 µs
    to parse one, 0.1 µs to find it here); a datetime cannot change, so one serves them all.
    """
    text = unicodedata.normalize("NFC", value).casefold().strip()
    if not any(ch.isdigit() for ch in text):
        return None
    return _parse_iso(text) or _parse_news(text)


def find_date_line(lines: Sequence[str], *, window: int = DATE_LINE_WINDOW) -> int | None:
    """Find the dateline among the first lines of an article body.

    A date line holds a date and nothing else but time, time zone, weekday and punctuation (see
    :func:`parse_date`): ``16/11/2015 21:58 GMT+7`` is one, ``Hôm 26/11, ông Putin nói`` is not.
    The dateline sits between the headline and the body, so the search ends at the first line of
    more than 15 words (a body paragraph): a date-only fragment further down is not taken.

    Args:
        lines: The lines that follow the title, in order.
        window: How many non-blank lines to look at (default 6).

    Returns:
        The index in ``lines`` of the first date line, or None when none of the first
        ``window`` non-blank lines (up to the first body paragraph) is one.
    """
    seen = 0
    for index, line in enumerate(lines):
        if not line.strip():
            continue
        if parse_date(line) is not None:
            return index
        seen += 1
        if seen >= window or len(line.split()) > BODY_LINE_WORDS:
            break
    return None
