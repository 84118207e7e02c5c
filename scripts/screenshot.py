r"""Render a corpus's HTML report in headless Chromium and save a screenshot of it.

Needs the ``browser`` extra (``pip install -e '.[browser]'``) and Debian's Chromium
(``apt-get install -y chromium``); Playwright's own browser downloads are never used.

Example:
    python scripts/screenshot.py -o docs/seeds-report.png            # the seed articles
    python scripts/screenshot.py ../shared/data/ktlab.jsonl -o docs/duplicate-diff.png \
        --open "#g0, #g0 details.diff" --anchor g0 --height 1100
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

from playwright.sync_api import sync_playwright

from dedup.api import run_files
from dedup.report.html import to_html

CHROMIUM = Path(os.environ.get("DEDUP_CHROMIUM", "/usr/bin/chromium"))
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def launch(pw: object, profile: Path, width: int, height: int) -> object:
    """A headless Chromium context on a fresh ``profile`` folder; viewport in CSS pixels."""
    return pw.chromium.launch_persistent_context(  # type: ignore[attr-defined]
        str(profile),
        executable_path=str(CHROMIUM),
        args=FLAGS,
        headless=True,
        viewport={"width": width, "height": height},
    )


def main() -> None:
    """Render the report, expand the first stories, save the screenshot, print one JSON line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("inputs", nargs="*", help="corpus files or folders (default: the seeds)")
    parser.add_argument("-o", "--output", type=Path, default=Path("docs/seeds-report.png"))
    parser.add_argument(
        "--open",
        default="#st0, #st0 details.event",
        help="CSS selector of the <details> to open by clicking (default: the first story)",
    )
    parser.add_argument("--width", type=int, default=1200, help="viewport width in CSS pixels")
    parser.add_argument("--height", type=int, default=1500, help="screenshot height in pixels")
    parser.add_argument("--anchor", default="", help="element id scrolled to the top")
    args = parser.parse_args()

    page_html = to_html(run_files(args.inputs))
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "report.html"
        report.write_text(page_html, encoding="utf-8")
        with sync_playwright() as pw:
            browser = launch(pw, Path(tmp) / "profile", args.width, args.height)
            page = browser.new_page()
            started = time.perf_counter()
            page.goto(report.as_uri(), wait_until="load")
            load_seconds = time.perf_counter() - started
            for details in page.locator(args.open).all():
                if not details.evaluate("d => d.open"):
                    details.locator("summary").first.click()
            if args.anchor:
                page.evaluate(
                    f"document.getElementById({json.dumps(args.anchor)}).scrollIntoView()"
                )
            args.output.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(args.output))
            browser.close()
    print(
        json.dumps(
            {
                "output": str(args.output),
                "html_bytes": len(page_html.encode("utf-8")),
                "load_seconds": round(load_seconds, 3),
            }
        )
    )


if __name__ == "__main__":
    main()
