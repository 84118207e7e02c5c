import unicodedata
from datetime import datetime, timedelta, timezone

import pytest

from dedup.io.dates import find_date_line, parse_date

GMT7 = timezone(timedelta(hours=7))
MINUS_0130 = timezone(-timedelta(hours=1, minutes=30))


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        # ISO 8601
        ("2015-11-16", datetime(2015, 11, 16)),
        ("2013-10-23T11:39:00", datetime(2013, 10, 23, 11, 39)),
        ("2015-11-16T21:58:00+07:00", datetime(2015, 11, 16, 21, 58, tzinfo=GMT7)),
        ("2015-11-16T21:58:00Z", datetime(2015, 11, 16, 21, 58, tzinfo=timezone.utc)),
        ("2015-11-16 21:58", datetime(2015, 11, 16, 21, 58)),
        ("2015-11-16T21:58:00.5-0130", datetime(2015, 11, 16, 21, 58, 0, 500000, MINUS_0130)),
        ("2015-11-16T21:58:00.123+0700", datetime(2015, 11, 16, 21, 58, 0, 123000, GMT7)),
        # Vietnamese news styles, day first
        ("16/11/2015 21:58 GMT+7", datetime(2015, 11, 16, 21, 58, tzinfo=GMT7)),
        ("Thứ hai, 16/11/2015, 09:42 (GMT+7)", datetime(2015, 11, 16, 9, 42, tzinfo=GMT7)),
        ("14:21, 15/10/2014", datetime(2014, 10, 15, 14, 21)),
        ("16/11/2015", datetime(2015, 11, 16)),
        ("16-11-2015", datetime(2015, 11, 16)),
        ("16.11.2015 10:00", datetime(2015, 11, 16, 10, 0)),
        ("03/04/2015", datetime(2015, 4, 3)),
        ("16/11/2015 21:58 UTC+07:00", datetime(2015, 11, 16, 21, 58, tzinfo=GMT7)),
        ("Chủ nhật, 15/11/2015 | 08:00 GMT+7", datetime(2015, 11, 15, 8, 0, tzinfo=GMT7)),
        ("T2, 16/11/2015 - 21h58", datetime(2015, 11, 16, 21, 58)),
        ("Cập nhật lúc 21:58 ngày 16/11/2015", datetime(2015, 11, 16, 21, 58)),
        ("06:47 ngày 02 tháng 06 năm 2016", datetime(2016, 6, 2, 6, 47)),
        ("2015-11-16 21:58 GMT+7", datetime(2015, 11, 16, 21, 58, tzinfo=GMT7)),
        # English
        ("Monday, November 16, 2015 9:42 PM", datetime(2015, 11, 16, 21, 42)),
        ("16 Nov 2015", datetime(2015, 11, 16)),
        ("Nov. 16th, 2015 10:00 GMT", datetime(2015, 11, 16, 10, 0, tzinfo=timezone.utc)),
        # not dates
        ("31/02/2015", None),
        ("2015-02-30", None),
        ("16/13/2015", None),
        ("16/11/2015 25:00", None),
        ("16/11/2015 21:58 GMT+15", None),
        ("hôm 26/11", None),
        ("Ngày 16/11/2015, ông Putin nói", None),
        ("16/11/2015 - 17/11/2015", None),
        ("16/11-2015", None),
        ("", None),
        ("   ", None),
        ("|", None),
        ("no digits here", None),
        ("1234567890", None),
        ("x" * 200 + " 16/11/2015", None),
    ],
)
def test_parse_date(value, expected):
    assert parse_date(value) == expected


@pytest.mark.parametrize("value", ["16/11/2015 21:58 GMT+7", "2015-11-16T21:58:00Z"])
def test_parse_date_aware_when_zone_given(value):
    assert parse_date(value).tzinfo is not None


@pytest.mark.parametrize("value", ["16/11/2015 21:58", "14:21, 15/10/2014", "2015-11-16"])
def test_parse_date_naive_without_zone(value):
    assert parse_date(value).tzinfo is None


@pytest.mark.parametrize(
    "value", ["\x00", "\ud800", "16/11/2015\x00", "٣/١١/٢٠١٥", "１６/１１/２０１５"]
)
def test_parse_date_never_raises(value):
    parse_date(value)


def test_parse_date_accepts_nfd_weekday():
    value = unicodedata.normalize("NFD", "Thứ hai, 16/11/2015, 09:42 (GMT+7)")
    assert parse_date(value) == datetime(2015, 11, 16, 9, 42, tzinfo=GMT7)


@pytest.mark.parametrize(
    ("lines", "expected"),
    [
        (["", "16/11/2015 21:58 GMT+7", "", "Body."], 1),
        (["", "Thứ hai, 16/11/2015, 09:42 (GMT+7)", "", "Body."], 1),
        (["", "14:21, 15/10/2014", "|", "", "(VnMedia) - Hôm qua (14/10), ..."], 1),
        (["Tác giả: Minh Anh", "|", "16/11/2015"], 2),
        # a body sentence that mentions a date is not a date line
        (["", "Theo Reuters, ông Putin hôm 26/11 đã nói.", "Ngày 16/11/2015, ông nói."], None),
        ([], None),
        (["", "", ""], None),
        # only the first 6 non-blank lines are looked at
        (["a", "b", "c", "d", "e", "f", "16/11/2015"], None),
        (["a", "b", "c", "d", "e", "16/11/2015"], 5),
        # the search ends at the first body paragraph
        ([" ".join(["từ"] * 20), "Ngày 9.11.2010,"], None),
    ],
)
def test_find_date_line(lines, expected):
    assert find_date_line(lines) == expected
