"""The terminal and Markdown reports: 80 columns, colour only on a terminal, clean GitHub tables."""

from __future__ import annotations

import os
import pty
import re
import subprocess
import sys
import unicodedata
from html import unescape
from html.parser import HTMLParser
from pathlib import Path

import pytest
from conftest import PAYLOADS, ROOT, body, hostile_records

import dedup
from dedup.report.markdown import code, to_markdown
from dedup.report.text import WIDTH, display_width, to_text

ANSI = re.compile(r"\x1b\[[0-9;]*m")


def wide_records() -> list[dict[str, str]]:
    """Titles that are long, CJK (two columns a character), decomposed (NFD) or hostile."""
    long_title = "Tổng thống Nga Vladimir Putin hứa sẽ tập trung đánh IS " * 4
    return [
        *hostile_records(),
        {
            "id": "cjk",
            "title": "俄罗斯总统普京承诺集中打击伊斯兰国" * 3,
            "text": "\n".join(body(3)),
        },
        {
            "id": "nfd",
            "title": unicodedata.normalize("NFD", long_title),
            "text": "\n".join(body(9)),
        },
        {"id": "esc", "title": "\x1b[31mred\x1b[0m \u202etxt.exe", "text": "\n".join(body(15))},
        {
            "id": "a|b`c`|d",
            "title": "| cột | `x` |",
            "source": "a|b",
            "text": "\n".join([*body(21), body(21)[0]]),  # a repeated paragraph: removed table
        },
    ]


@pytest.fixture(scope="module")
def wide_result() -> dedup.Result:
    return dedup.run(wide_records())


def test_display_width_counts_columns() -> None:
    assert display_width("hòa") == 3
    assert display_width(unicodedata.normalize("NFD", "hòa")) == 3
    assert display_width("普京") == 4


@pytest.mark.parametrize("color", [False, True])
def test_text_fits_80_columns(wide_result: dedup.Result, color: bool) -> None:
    text = to_text(wide_result, color=color)
    for line in text.splitlines():
        assert display_width(ANSI.sub("", line)) <= WIDTH, line
    assert bool(ANSI.search(text)) is color
    plain = ANSI.sub("", text)
    assert "\x1b[31m" not in plain and "\u202e" not in plain  # article text cannot drive the tty
    assert "[31mred[0m txt.exe" in plain  # shown, with the escape character dropped
    assert "similarity 0.98" in plain and "words and 6/7 paragraphs shared" in plain


def test_seeds_text_names_every_article() -> None:
    result = dedup.run_files([])
    text = to_text(result)
    for doc in result.documents:
        assert doc.id in text
    assert "of the text removed" in text


def _run_cli(env: dict[str, str], *, tty: bool) -> str:
    """``dedup run`` on the seeds in a subprocess, its stdout a pseudo-terminal or a pipe."""
    cmd = [sys.executable, "-m", "dedup", "run"]
    base = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "LC_ALL")}
    env = {**base, "PYTHONPATH": str(ROOT), **env}
    if not tty:
        return subprocess.run(cmd, env=env, capture_output=True, text=True, check=True).stdout
    leader, follower = pty.openpty()
    proc = subprocess.Popen(cmd, env=env, stdout=follower, stderr=subprocess.DEVNULL)
    os.close(follower)
    chunks = []
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # the terminal closes when the child exits
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(leader)
    assert proc.wait(timeout=60) == 0
    return b"".join(chunks).decode("utf-8")


def test_colour_only_on_a_terminal() -> None:
    on_tty = _run_cli({"TERM": "xterm"}, tty=True)
    assert ANSI.search(on_tty)
    assert ANSI.sub("", on_tty).replace("\r\n", "\n") == _run_cli({"TERM": "xterm"}, tty=False)
    assert not ANSI.search(_run_cli({"TERM": "xterm", "NO_COLOR": "1"}, tty=True))
    assert not ANSI.search(_run_cli({"TERM": "dumb"}, tty=True))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a1", "`a1`"),
        ("a`b", "``a`b``"),
        ("`x", "`` `x ``"),
        ("a|b", "`a|b`"),
    ],
)
def test_code_spans(text: str, expected: str) -> None:
    assert code(text) == expected


class _Tables(HTMLParser):
    """Cells per row of every table, every tag name, and the text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.rows: list[list[int]] = []
        self.cells: list[str] = []
        self.tags: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        if tag == "table":
            self.rows.append([])
        elif tag == "tr":
            self.rows[-1].append(0)
        elif tag in ("td", "th"):
            self.rows[-1][-1] += 1
            self.cells.append("")

    def handle_data(self, data: str) -> None:
        self.text.append(data)
        if self.cells:
            self.cells[-1] += data


def test_markdown_renders_cleanly_on_github(wide_result: dedup.Result) -> None:
    cmarkgfm = pytest.importorskip("cmarkgfm", reason="cmarkgfm (GitHub's renderer) is missing")
    from cmarkgfm.cmark import Options

    markdown = to_markdown(wide_result)
    # Raw HTML allowed (stricter than GitHub, which filters it): escaping alone must hold.
    page = cmarkgfm.github_flavored_markdown_to_html(markdown, options=Options.CMARK_OPT_UNSAFE)
    tables = _Tables()
    tables.feed(page)
    assert len(tables.rows) == 3  # sources, duplicates, removed paragraphs
    for rows in tables.rows:
        assert len(set(rows)) == 1, rows  # no row split or merged by a "|" in the text
    assert not {"script", "img", "svg", "iframe", "a", "b"} & set(tables.tags)
    text = unescape("".join(tables.text))
    for n, payload in enumerate(PAYLOADS):
        assert f"Tin {n} {' '.join(payload.split())}" in text
    assert "copy <script>window.__pwned = 'id'</script>" in text  # an id, in a code span
    # Pipes and backticks in ids, titles and sources stay inside their cells.
    cells = {" ".join(cell.split()) for cell in tables.cells}
    assert "a|b`c`|d" in cells  # the removed-paragraphs table
    assert "a|b`c`|d | cột | `x` |" in cells  # the duplicates table
    assert "a|b" in cells  # the sources table
    assert "俄罗斯总统普京" in text


def test_markdown_of_the_seeds_matches_the_cli(tmp_path: Path) -> None:
    out = tmp_path / "report.md"
    subprocess.run(
        [sys.executable, "-m", "dedup", "run", "--format", "markdown", "-o", str(out)],
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        check=True,
    )
    assert out.read_text(encoding="utf-8") == to_markdown(dedup.run_files([]))
