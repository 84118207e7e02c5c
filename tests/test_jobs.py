"""Worker processes change nothing in the output; progress is drawn only when asked."""

import io
import subprocess
import sys

import pytest
from conftest import ROOT, SHARED_DATA

from dedup.progress import ProgressPrinter, wanted


def run_cli(args, cwd):
    return subprocess.run(
        [sys.executable, "-m", "dedup", *args],
        cwd=cwd,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=True,
    )


def test_jobs_give_byte_identical_output(tmp_path):
    corpus = SHARED_DATA / "ktlab.jsonl"
    if not corpus.exists():
        pytest.skip("dev corpus not available")
    outputs = []
    for jobs in (1, 2, 3):
        out = tmp_path / f"out{jobs}.jsonl"
        run_cli(
            [
                "run",
                str(corpus),
                "--format",
                "jsonl",
                "--with-text",
                "-j",
                str(jobs),
                "-o",
                str(out),
            ],
            tmp_path,
        )
        outputs.append(out.read_bytes())
    assert outputs[0] == outputs[1] == outputs[2]
    assert outputs[0].count(b"\n") == 628


def test_no_progress_when_stderr_is_not_a_terminal(tmp_path):
    result = run_cli(["run", "--format", "jsonl", "-j", "2"], tmp_path)
    assert result.stderr == ""


class Terminal(io.StringIO):
    def isatty(self):
        return True


def test_progress_wanted_only_on_a_terminal_and_not_quiet():
    assert wanted(False, Terminal())
    assert not wanted(True, Terminal())
    assert not wanted(False, io.StringIO())


def test_progress_printer_draws_one_line_and_ends_it():
    stream = Terminal()
    printer = ProgressPrinter(stream)
    printer("paragraphs", 10, 100)
    printer("paragraphs", 100, 100)
    text = stream.getvalue()
    assert "paragraphs: 10/100" in text
    assert text.endswith("paragraphs: 100/100 (" + text.rsplit("(", 1)[1])
    assert text.endswith("/s)\n")


def test_progress_reports_each_stage_once():
    from dedup.api import run_files

    stream = Terminal()
    run_files([], progress=ProgressPrinter(stream))
    finished = [line.rsplit("\r\x1b[K", 1)[-1] for line in stream.getvalue().split("\n")[:-1]]
    assert [line.split(":")[0] for line in finished] == [
        "paragraphs",
        "near_duplicates",
        "clustering",
        "records",
    ]
    assert all(line.startswith(f"{line.split(':')[0]}: 5/5 (") for line in finished)
