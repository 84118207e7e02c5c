"""The HTML report as text: self-contained, escaped, complete, deterministic."""

from __future__ import annotations

import re
from html import escape
from html.parser import HTMLParser
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import PAYLOADS, body, hostile_records

import dedup
from dedup.cli import cli
from dedup.report.explain import explain_pair
from dedup.report.figures import corpus_figures
from dedup.report.html import to_html
from dedup.report.html_page import SCRIPT, STYLE


class _Tags(HTMLParser):
    """Every start tag with its attributes, and the text inside script elements."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.scripts: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        self._in_script = tag == "script"

    def handle_endtag(self, tag: str) -> None:
        self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script:
            self.scripts.append(data)


def parse(page: str) -> _Tags:
    parser = _Tags()
    parser.feed(page)
    parser.close()
    return parser


@pytest.fixture(scope="module")
def hostile_page() -> str:
    return to_html(dedup.run(hostile_records()))


@pytest.fixture(scope="module")
def seeds_page() -> str:
    return to_html(dedup.run_files([]))


def test_payloads_are_text_never_markup(hostile_page: str) -> None:
    tags = parse(hostile_page)
    names = [tag for tag, _ in tags.tags]
    assert names.count("script") == 1
    assert tags.scripts == [SCRIPT]
    for banned in ("img", "iframe", "object", "embed", "form", "input type", "base"):
        assert banned not in names
    assert names.count("svg") == hostile_page.count("<svg ")  # only the report's own pictures
    for tag, attrs in tags.tags:
        assert not [a for a in attrs if a.startswith("on")], (tag, attrs)
        for name in ("href", "src", "action", "xlink:href"):
            value = (attrs.get(name) or "").strip().lower()
            assert not value.startswith(("javascript:", "data:", "vbscript:")), (tag, attrs)
    for payload in PAYLOADS:
        # Each payload is shown, as text, where the articles' titles are shown.
        assert f"Tin {PAYLOADS.index(payload)} {escape(payload)}" in hostile_page


def test_links_only_for_web_addresses(hostile_page: str) -> None:
    hrefs = [a.get("href") for tag, a in parse(hostile_page).tags if tag == "a"]
    external = sorted({h for h in hrefs if h and not h.startswith("#")})
    assert external == [f"https://x.vn/{n}" for n in (0, 2, 4)]


def test_page_is_self_contained(seeds_page: str) -> None:
    tags = parse(seeds_page)
    for tag, attrs in tags.tags:
        assert "src" not in attrs, tag
        assert tag not in ("link", "img", "iframe"), tag
        assert "style" not in attrs, (tag, attrs)  # the policy allows no inline style attribute
    assert not re.search(r"url\(|@import|https?://", STYLE + SCRIPT)
    policy = re.search(r'http-equiv="Content-Security-Policy" content="([^"]+)"', seeds_page)
    assert policy is not None
    assert "default-src 'none'" in policy.group(1)
    assert "unsafe-inline" not in policy.group(1)


def test_seeds_page_has_every_section(seeds_page: str) -> None:
    result = dedup.run_files([])
    for section in ("figures", "stories", "duplicates", "removed", "how"):
        assert f'<section id="{section}">' in seeds_page
    assert seeds_page.count('<details class="story"') == len(result.stories)
    assert seeds_page.count('<details class="event"') == len(result.events)
    assert seeds_page.count('<svg class="timeline"') == sum(
        1 for s in result.stories if any(d.published for d in result.documents if d.id in s.members)
    )
    for story in result.stories:
        for term in story.terms[:8]:
            assert f'<span class="term">{term}</span>' in seeds_page
    assert to_html(result) == seeds_page  # deterministic


def test_duplicate_group_shows_evidence_and_diff(hostile_page: str) -> None:
    assert '<details class="group" id="g0">' in hostile_page
    assert "similarity 0.98" in hostile_page
    assert '<table class="diff">' in hostile_page
    assert "<ins>&lt;svg onload=alert(2)&gt;Putin</ins>" in hostile_page
    assert "6 of its 7 paragraphs</b> unchanged" in hostile_page


def test_explain_pair_aligns_paragraphs_and_words() -> None:
    original = body(0, 5)
    edited = [original[0], original[1].replace(" ", " thêm ", 1), *original[3:], "Đoạn mới."]
    e = explain_pair("\n".join(original), "\n".join(edited))
    assert [r.kind for r in e.rows] == ["same", "changed", "removed", "same", "same", "added"]
    changed = e.rows[1]
    assert [text for text, differs in changed.right if differs] == ["thêm"]
    assert all(not differs for _, differs in changed.left)
    assert (e.shared_paragraphs, e.canonical_paragraphs, e.copy_paragraphs) == (3, 5, 5)
    assert e.passages and e.passages[0] in " ".join(" ".join(edited).split())
    assert e.shared_words <= e.copy_words


def test_explain_pair_compares_normalized_words() -> None:
    e = explain_pair("Hoà bình ở Thuý Kiều hôm nay", "hòa BÌNH ở thúy kiều hôm nay")
    assert [r.kind for r in e.rows] == ["same"]
    assert e.shared_words == 7


def test_corpus_figures_count_removed_text_and_copies() -> None:
    result = dedup.run(hostile_records())
    figures = corpus_figures(result)
    removed = [r for a in result.articles for r in a.removed]
    assert figures.removed_characters == sum(len(r.text) for r in removed)
    assert 0 < figures.boilerplate_share < 1
    assert sum(s.articles for s in figures.sources) == len(result.documents)
    assert sum(s.copies for s in figures.sources) == 1
    assert figures.copy_flows == (("<b>nguồn</b>", "<b>nguồn</b>", 1),)


def test_cli_writes_html(tmp_path: Path) -> None:
    out = tmp_path / "report.html"
    result = CliRunner().invoke(cli, ["run", "--format", "html", "-o", str(out)])
    assert result.exit_code == 0, result.output
    page = out.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>")
    assert page == to_html(dedup.run_files([]))


def test_timeline_has_one_dot_per_dated_article() -> None:
    records = hostile_records()
    records[1]["date"] = ""  # one undated article
    result = dedup.run(records)
    page = to_html(result)
    timelines = re.findall(r'<svg class="timeline".*?</svg>', page, re.S)
    assert len(timelines) == sum(
        1 for s in result.stories if any(d.published for d in result.documents if d.id in s.members)
    )
    dots = sum(t.count("<circle") for t in timelines)
    assert dots == sum(1 for d in result.documents if d.published) == len(records) - 1
    for timeline in timelines:
        for tag, attrs in parse(timeline).tags:
            assert tag in ("svg", "title", "line", "text", "circle"), tag
            assert not [a for a in attrs if a.startswith("on")]


def test_skipped_records_are_listed() -> None:
    from dataclasses import replace

    from dedup.types import Rejected

    result = dedup.run_files([])
    bad = Rejected("feed.jsonl:7", "not JSON: <script>x</script>", "{oops")
    page = to_html(replace(result, rejected=(bad,)))
    assert '<section id="skipped">' in page
    assert "<code>feed.jsonl:7</code>" in page
    assert "not JSON: &lt;script&gt;x&lt;/script&gt;" in page
