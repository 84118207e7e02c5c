"""The command line as a user runs it: exit codes, exact messages, real files."""

import json
import os
import subprocess
import sys

import pytest
from click.testing import CliRunner

from dedup.cli import cli


@pytest.fixture
def runner():
    return CliRunner()


def jsonl(path, records):
    path.write_text(
        "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8"
    )
    return path


def test_run_without_input_uses_seeds(runner):
    result = runner.invoke(cli, ["run", "--format", "jsonl"])
    assert result.exit_code == 0, result.output
    records = [json.loads(line) for line in result.output.splitlines()]
    assert len(records) == 5
    assert set(records[0]) == {"id", "duplicate_of", "similarity", "event", "story", "removed"}


@pytest.mark.parametrize("fmt", ["text", "markdown", "json", "jsonl"])
def test_every_format_writes_a_file(runner, tmp_path, fmt):
    out = tmp_path / f"report.{fmt}"
    result = runner.invoke(cli, ["run", "--format", fmt, "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert result.output == ""
    assert out.read_text(encoding="utf-8").strip()


def test_text_report_fits_80_columns(runner):
    result = runner.invoke(cli, ["run"])
    assert result.exit_code == 0
    assert max(len(line) for line in result.output.splitlines()) <= 80
    assert "\x1b[" not in result.output  # no colour when not on a terminal


def test_malformed_line_stops_with_one_line_error(runner, tmp_path):
    path = tmp_path / "in.jsonl"
    path.write_text('{"id": "a", "text": "x"}\n{"id": "b", "text": \n', encoding="utf-8")
    result = runner.invoke(cli, ["run", str(path), "--format", "jsonl"])
    assert result.exit_code == 1
    assert result.output.startswith(f"Error: {path}:2: invalid JSON: ")
    assert result.output.count("\n") == 1
    assert "Traceback" not in result.output


def test_skip_counts_and_writes_rejects_untouched(runner, tmp_path):
    path = tmp_path / "in.jsonl"
    bad = b'{"id": "b", "text": 5}'
    path.write_bytes(b'{"id": "a", "text": "x"}\n' + bad + b'\n{"id": "c", "text": "y"}\n')
    rejects = tmp_path / "rejects.jsonl"
    out = tmp_path / "out.jsonl"
    args = ["run", str(path), "--format", "jsonl", "-o", str(out), "--on-error", "skip"]
    result = runner.invoke(cli, [*args, "--rejects", str(rejects)])
    assert result.exit_code == 0, result.output
    assert [json.loads(x)["id"] for x in out.read_text().splitlines()] == ["a", "c"]
    assert rejects.read_bytes() == bad + b"\n"
    assert "Skipped 1 malformed record(s)" in result.output


def test_skip_needs_rejects(runner, tmp_path):
    path = jsonl(tmp_path / "in.jsonl", [{"id": "a", "text": "x"}])
    result = runner.invoke(cli, ["run", str(path), "--on-error", "skip"])
    assert result.exit_code == 2
    assert "--on-error skip needs --rejects PATH, so no record is lost." in result.output


def test_missing_file(runner, tmp_path):
    result = runner.invoke(cli, ["run", str(tmp_path / "nope.jsonl")])
    assert result.exit_code == 1
    assert result.output == f"Error: {tmp_path / 'nope.jsonl'}: no such file or directory\n"


def test_pass_through_mode_with_clash(runner, tmp_path):
    path = jsonl(
        tmp_path / "in.jsonl",
        [
            {"id": 1, "text": "Một bài báo khá dài về hội nghị G20 ở Antalya.", "event": "mine"},
            {"id": 2, "text": "Một bài báo khá dài về hội nghị G20 ở Antalya.", "lang": "vi"},
        ],
    )
    args = ["run", str(path), "--format", "jsonl", "--with-input", "--with-text"]
    result = runner.invoke(cli, args)
    assert result.exit_code == 0, result.output
    first, second = (json.loads(line) for line in result.output.splitlines())
    assert first["id"] == "1" and first["input_event"] == "mine" and first["event"] == "e1"
    assert first["text"].startswith("Một bài") and first["clean_text"].startswith("Một bài")
    assert second["duplicate_of"] == "1" and second["lang"] == "vi"
    result = runner.invoke(cli, [*args, "--drop-duplicates"])
    assert [json.loads(x)["id"] for x in result.output.splitlines()] == ["1"]


def test_stdin(runner):
    data = json.dumps({"id": "a", "text": "xin chào"}) + "\n"
    result = runner.invoke(cli, ["run", "-", "--format", "jsonl"], input=data.encode())
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["id"] == "a"


def test_near_and_cluster_and_paragraphs(runner, seeds_dir):
    near = runner.invoke(cli, ["near", str(seeds_dir)])
    assert near.exit_code == 0
    assert {tuple(json.loads(x)) for x in near.output.splitlines()} == {
        ("id", "duplicate_of", "similarity")
    }
    clusters = runner.invoke(cli, ["cluster", str(seeds_dir)])
    assert {tuple(json.loads(x)) for x in clusters.output.splitlines()} == {
        ("id", "event", "story")
    }
    cleaned = runner.invoke(cli, ["paragraphs", str(seeds_dir)])
    first = json.loads(cleaned.output.splitlines()[0])
    assert first["text"].count("Tổng thống Nga Vladimir Putin hôm thứ hai") == 1


def test_eval_scores_a_run(runner, tmp_path):
    gold = jsonl(
        tmp_path / "gold.jsonl",
        [{"id": d, "story": s, "event": None} for d, s in [("a", 1), ("b", 1), ("c", 2)]],
    )
    pred = jsonl(
        tmp_path / "pred.jsonl",
        [
            {"id": d, "story": s, "event": s, "duplicate_of": None}
            for d, s in [("a", "s1"), ("b", "s1"), ("c", "s2")]
        ],
    )
    result = runner.invoke(cli, ["eval", str(pred), str(gold), "--format", "json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["bcubed_f1"] == 1.0


def test_output_is_deterministic(runner, tmp_path):
    first = runner.invoke(cli, ["run", "--format", "json"]).output
    second = runner.invoke(cli, ["run", "--format", "json"]).output
    strip = [json.loads(x) for x in (first, second)]
    for report in strip:
        report["stats"] = {k: v for k, v in report["stats"].items() if not k.startswith("seconds")}
    assert strip[0] == strip[1]
    a = runner.invoke(cli, ["run", "--format", "jsonl"]).output
    b = runner.invoke(cli, ["run", "--format", "jsonl"]).output
    assert a == b


def test_python_dash_m_and_console_script():
    result = subprocess.run(
        [sys.executable, "-m", "dedup", "run", "--format", "jsonl"], capture_output=True, check=True
    )
    assert len(result.stdout.decode().splitlines()) == 5


def _exiting(call: str) -> subprocess.CompletedProcess:
    """Run ``call`` (of exit_without_teardown, after an exit handler and unflushed output)."""
    code = (
        "import atexit, sys\n"
        "from dedup.__main__ import exit_without_teardown\n"
        "atexit.register(lambda: sys.stderr.write('handler ran\\n'))\n"
        "sys.stdout.write('x' * 100)  # left in the stream's buffer\n"
        f"{call}\n"
        "sys.stderr.write('not reached\\n')\n"
    )
    return _buffered_python(code)


def _buffered_python(code: str) -> subprocess.CompletedProcess:
    """Run ``python -c code`` with standard output buffered."""
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=_BUFFERED
    )


# Standard output buffered, as it is unless PYTHONUNBUFFERED is set.
_BUFFERED = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}


@pytest.mark.parametrize(
    ("code", "status", "message"), [("None", 0, ""), ("3", 3, ""), ("'Error: x'", 1, "Error: x\n")]
)
def test_exit_without_teardown_is_sys_exit(code, status, message):
    done = _exiting(f"exit_without_teardown({code})")
    assert done.returncode == status
    assert done.stdout == "x" * 100  # flushed
    assert done.stderr == message + "handler ran\n"


def test_a_message_is_written_once_when_standard_output_is_closed():
    done = _exiting("import os; os.close(1); exit_without_teardown('Error: x')")  # flush fails
    assert done.returncode == 120  # as Python's own exit, when it cannot flush
    assert done.stderr.count("Error: x") == 1


def test_the_command_line_ends_without_teardown():
    """An object whose finalizer would write shows that the teardown was skipped."""
    code = (
        "import sys\n"
        "class Late:\n"
        "    def __del__(self): sys.stderr.write('torn down\\n')\n"
        "keep = Late()\n"
        "sys.argv = ['dedup', 'run', '--format', 'jsonl', '--quiet']\n"
        "from dedup.__main__ import main\n"
        "main()\n"
    )
    done = _buffered_python(code)
    assert done.returncode == 0 and len(done.stdout.splitlines()) == 5
    assert "torn down" not in done.stderr
    bad = subprocess.run(
        [sys.executable, "-m", "dedup", "run", "missing.jsonl"], capture_output=True, text=True
    )
    assert bad.returncode == 1 and bad.stderr.startswith("Error: missing.jsonl")


def test_a_run_loads_neither_scikit_learn_nor_scipy_stats():
    """Importing them costs half a second of every run's start (0.88 s against 1.48 s on the
    seeds); the run path normalizes its TF-IDF rows itself (dedup.tfidf.normalize_rows)."""
    code = (
        "import sys; from dedup.cli import cli\n"
        "try: cli(['run', '--format', 'jsonl', '-o', '-', '--quiet'])\n"
        "except SystemExit: pass\n"
        "print(sorted(m for m in ('sklearn', 'scipy.stats') if m in sys.modules))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, check=True)
    lines = result.stdout.decode().splitlines()
    assert len(lines) == 6  # the five seed records, then the modules found
    assert lines[-1] == "[]"


def test_stats_file_has_counts_and_stage_seconds(runner, tmp_path):
    stats = tmp_path / "stats.json"
    result = runner.invoke(cli, ["run", "--format", "jsonl", "--stats", str(stats)])
    assert result.exit_code == 0, result.output
    figures = json.loads(stats.read_text(encoding="utf-8"))
    assert figures["articles"] == 5
    stages = {"seconds_paragraphs", "seconds_near_duplicates", "seconds_clustering"}
    assert stages | {"seconds_records"} <= set(figures)
    # The clustering stage's parts, each inside it. The five figures are rounded to 0.1 ms
    # each (at most 0.05 ms off), and the stage's own steps between its parts take about as
    # little on five articles.
    parts = [f"seconds_clustering_{p}" for p in ("features", "pair_search", "stories", "events")]
    assert all(figures[p] >= 0 for p in parts)
    assert sum(figures[p] for p in parts) <= figures["seconds_clustering"] + 5 * 0.00005
