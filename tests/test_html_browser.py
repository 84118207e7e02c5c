"""The HTML report in a real headless Chromium (Debian's ``chromium``, driven by Playwright).

Skipped, with the reason, when Playwright (the ``browser`` extra) or ``/usr/bin/chromium`` is
missing; ``.ci/run`` installs both, so CI runs them.
"""

from __future__ import annotations

import re
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from conftest import SHARED_DATA, hostile_records

import dedup
from dedup.report.html import to_html

playwright_api = pytest.importorskip(
    "playwright.sync_api", reason="Playwright is not installed: pip install -e '.[browser]'"
)
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "scripts"))
from screenshot import CHROMIUM, launch  # noqa: E402  (the script the README screenshots come from)

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(), reason=f"{CHROMIUM} is missing: apt-get install -y chromium"
)


@dataclass
class Visit:
    """A loaded report page and everything it did while loading."""

    page: object
    url: str
    console_errors: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)
    seconds: float = 0.0


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    profile = tmp_path_factory.mktemp("chromium-profile")  # a fresh user-data-dir
    with playwright_api.sync_playwright() as pw:
        context = launch(pw, profile, 1200, 900)
        yield context
        context.close()


def visit(browser: object, path: Path) -> Visit:
    """Open ``path``; record console errors, dialogs and requests (all but the page aborted)."""
    page = browser.new_page()  # type: ignore[attr-defined]
    seen = Visit(page, path.resolve().as_uri())

    def on_console(message: object) -> None:
        if message.type == "error":  # type: ignore[attr-defined]
            seen.console_errors.append(message.text)  # type: ignore[attr-defined]

    def on_dialog(dialog: object) -> None:
        seen.dialogs.append(dialog.message)  # type: ignore[attr-defined]
        dialog.dismiss()  # type: ignore[attr-defined]

    def on_route(route: object) -> None:
        url = route.request.url  # type: ignore[attr-defined]
        seen.requests.append(url)
        if url == seen.url:
            route.continue_()  # type: ignore[attr-defined]
        else:
            route.abort()  # type: ignore[attr-defined]

    page.on("console", on_console)
    page.on("pageerror", lambda error: seen.console_errors.append(str(error)))
    page.on("dialog", on_dialog)
    page.on("request", lambda request: seen.requests.append(request.url))
    page.route("**/*", on_route)
    started = time.perf_counter()
    page.goto(seen.url, wait_until="load")
    seen.seconds = time.perf_counter() - started
    return seen


def only_the_file(seen: Visit) -> bool:
    return set(seen.requests) == {seen.url}


def test_seeds_report_loads_expands_and_filters(browser: object, tmp_path: Path) -> None:
    result = dedup.run_files([])
    report = tmp_path / "seeds.html"
    report.write_text(to_html(result), encoding="utf-8")
    seen = visit(browser, report)
    page = seen.page
    assert seen.console_errors == []
    assert only_the_file(seen), seen.requests
    assert page.title() == f"dedup report: {len(result.documents)} articles"

    story = page.locator("#st0")
    event = story.locator("details.event").first
    assert story.evaluate("d => d.open") is False
    assert not event.is_visible()
    story.locator("summary").first.click()
    assert story.evaluate("d => d.open") is True
    assert event.is_visible()
    event.locator("summary").first.click()
    assert event.locator("tbody tr").first.is_visible()
    story.locator("summary").first.click()
    assert story.evaluate("d => d.open") is False

    page.click("#expand-all")
    assert page.evaluate("[...document.querySelectorAll('#stories details')].every(d => d.open)")
    page.click("#collapse-all")
    assert (
        page.evaluate("[...document.querySelectorAll('#stories details')].some(d => d.open)")
        is False
    )

    stories = page.locator("#stories > details.story")
    page.fill("#filter", "afghanistan")
    visible = [stories.nth(i).is_visible() for i in range(stories.count())]
    assert sum(visible) == 1
    assert "1 matching stories" in page.inner_text("#filter-count")
    page.fill("#filter", "")
    assert all(stories.nth(i).is_visible() for i in range(stories.count()))

    screenshot = tmp_path / "seeds.png"
    page.screenshot(path=str(screenshot), full_page=True)
    assert screenshot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert screenshot.stat().st_size > 10_000
    assert seen.console_errors == []
    assert only_the_file(seen), seen.requests
    page.close()


@pytest.mark.parametrize("policy", ["with-policy", "without-policy"])
def test_payloads_stay_inert(browser: object, tmp_path: Path, policy: str) -> None:
    """Escaping alone keeps the payloads inert: the run without the page's policy proves it."""
    page_html = to_html(dedup.run(hostile_records()))
    if policy == "without-policy":
        page_html, removed = re.subn(
            r'<meta http-equiv="Content-Security-Policy"[^>]*>', "", page_html
        )
        assert removed == 1
    report = tmp_path / "hostile.html"
    report.write_text(page_html, encoding="utf-8")
    seen = visit(browser, report)
    page = seen.page
    page.click("#expand-all")
    for summary in page.locator("#duplicates details > summary, #removed summary").all():
        summary.click()
    page.wait_for_timeout(300)  # let any event handler that slipped through fire
    assert page.evaluate("typeof window.__pwned") == "undefined"
    assert page.title() == "dedup report: 7 articles"
    assert seen.dialogs == []
    assert seen.console_errors == []
    assert only_the_file(seen), seen.requests
    counts = page.evaluate(
        """() => ({
        scripts: document.scripts.length,
        images: document.images.length,
        frames: document.querySelectorAll('iframe, object, embed').length,
        handlers: [...document.querySelectorAll('*')].filter(
            e => [...e.attributes].some(a => a.name.startsWith('on'))).length,
        scriptLinks: [...document.querySelectorAll('a[href]')].filter(
            a => !/^(https?:|file:)/.test(a.href)).length,
    })"""
    )
    assert counts == {"scripts": 1, "images": 0, "frames": 0, "handlers": 0, "scriptLinks": 0}
    # The payload text is there, as text, for the reader to see.
    assert "<script>window.__pwned = 'script'" in page.text_content("#stories")
    assert "<svg onload=alert(2)>Putin" in page.text_content("#duplicates")
    page.close()


@pytest.mark.slow
def test_vims_report_size_and_load_time(browser: object, tmp_path: Path) -> None:
    corpus = SHARED_DATA / "vims.jsonl"
    if not corpus.exists():
        pytest.skip(f"{corpus} is missing")
    result = dedup.run_files([corpus])
    report = tmp_path / "vims.html"
    report.write_text(to_html(result), encoding="utf-8")
    size = report.stat().st_size
    assert size < 4_000_000, f"{size:,} bytes"
    seen = visit(browser, report)
    page = seen.page
    assert seen.seconds < 10, f"{seen.seconds:.1f} s to load"
    assert seen.console_errors == []
    assert only_the_file(seen)
    assert page.locator("#stories > details.story").count() == len(result.stories)
    started = time.perf_counter()
    page.click("#expand-all")
    assert page.evaluate("[...document.querySelectorAll('#stories details')].every(d => d.open)")
    assert time.perf_counter() - started < 10
    page.close()
