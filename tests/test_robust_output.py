"""Outputs that fail or are odd, inputs that vanish, and Ctrl-C: never a partial file.

Real subprocesses where the operating system is the point (signals, FIFOs, devices, a full
file system mounted for the test), CliRunner elsewhere.
"""

from __future__ import annotations

import errno
import os
import signal
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from robust_helpers import (
    ROOT,
    invoke,
    jsonl_line,
    leftovers,
    output_ids,
    run_dedup,
    seed_records,
    write_jsonl,
)

GOOD = seed_records()
GOOD_IDS = [r["id"] for r in GOOD]


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    return write_jsonl(tmp_path / "in.jsonl", GOOD)


def _expected(corpus: Path) -> bytes:
    """The JSONL output of a clean run on ``corpus``."""
    result = invoke(["run", str(corpus), "--format", "jsonl"])
    assert result.exit_code == 0
    return result.stdout_bytes


# ---------------------------------------------------------------- full disk


def test_full_disk_on_fsync_keeps_the_old_file(tmp_path, corpus, monkeypatch):
    out = tmp_path / "out.jsonl"
    out.write_bytes(b"previous run\n")

    def no_space(fd: int) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "fsync", no_space)
    result = invoke(["run", str(corpus), "--format", "jsonl", "-o", str(out)])
    assert result.exit_code == 1
    assert result.stderr == f"Error: cannot write {out}: No space left on device\n"
    assert out.read_bytes() == b"previous run\n"
    assert leftovers(tmp_path) == []


def test_dev_full_is_a_clean_error(tmp_path, corpus):
    if not os.path.exists("/dev/full"):
        pytest.skip("no /dev/full on this system")
    proc = run_dedup(["run", str(corpus), "--format", "jsonl", "-o", "/dev/full"], cwd=tmp_path)
    assert proc.returncode == 1
    assert proc.stderr == b"Error: cannot write /dev/full: No space left on device\n"


@pytest.fixture
def tiny_filesystem(tmp_path: Path):
    """A 64 KB tmpfs mounted for the test (needs root and mount rights; skipped otherwise)."""
    mount = tmp_path / "small"
    mount.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(mount)],
        capture_output=True,
        check=False,
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode().strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", str(mount)], check=False)


def test_really_full_file_system_keeps_the_old_file(tmp_path, tiny_filesystem):
    # Enough text that the JSONL output (with --with-text) needs more than 64 KB.
    records = [{**r, "id": f"{r['id']}-{n}"} for n in range(6) for r in GOOD]
    corpus = write_jsonl(tmp_path / "big.jsonl", records)
    out = tiny_filesystem / "out.jsonl"
    out.write_bytes(b"previous run\n")
    args = ["run", str(corpus), "--format", "jsonl", "--with-text", "-o", str(out)]
    proc = run_dedup(args, cwd=tmp_path)
    assert proc.returncode == 1
    assert proc.stderr == f"Error: cannot write {out}: No space left on device\n".encode()
    assert out.read_bytes() == b"previous run\n"
    assert sorted(p.name for p in tiny_filesystem.iterdir()) == ["out.jsonl"]


# ---------------------------------------------------------------- devices, FIFOs, stdout


def test_dev_null_is_written_through_never_replaced(tmp_path, corpus):
    before = os.stat("/dev/null")
    proc = run_dedup(["run", str(corpus), "--format", "jsonl", "-o", "/dev/null"], cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == proc.stderr == b""
    after = os.stat("/dev/null")
    assert stat.S_ISCHR(after.st_mode)
    assert (after.st_rdev, after.st_ino) == (before.st_rdev, before.st_ino)
    assert not [p for p in Path("/dev").glob(".null.*.tmp")]


def test_fifo_output_gets_the_whole_output(tmp_path, corpus):
    fifo = tmp_path / "out.fifo"
    os.mkfifo(fifo)
    received: list[bytes] = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_bytes()))
    reader.start()
    proc = run_dedup(["run", str(corpus), "--format", "jsonl", "-o", str(fifo)], cwd=tmp_path)
    reader.join(timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert received == [_expected(corpus)]
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)


def test_dash_is_standard_output(tmp_path, corpus):
    out = tmp_path / "out.jsonl"
    to_file = run_dedup(["run", str(corpus), "--format", "jsonl", "-o", str(out)], cwd=tmp_path)
    to_stdout = run_dedup(["run", str(corpus), "--format", "jsonl", "-o", "-"], cwd=tmp_path)
    assert to_file.returncode == to_stdout.returncode == 0
    assert to_stdout.stdout == out.read_bytes() == _expected(corpus)
    assert output_ids(to_stdout.stdout) == GOOD_IDS
    assert not (tmp_path / "-").exists()


def test_output_into_a_missing_folder(tmp_path, corpus):
    out = tmp_path / "nowhere" / "out.jsonl"
    result = invoke(["run", str(corpus), "--format", "jsonl", "-o", str(out)])
    assert result.exit_code == 1
    assert result.stderr == (f"Error: cannot write {out}: directory {out.parent} does not exist\n")


def test_failed_run_leaves_an_existing_output_untouched(tmp_path):
    path = tmp_path / "in.jsonl"
    path.write_bytes(jsonl_line(GOOD[0]) + b"{broken\n")
    out = tmp_path / "out.jsonl"
    out.write_bytes(b"previous run\n")
    result = invoke(["run", str(path), "--format", "jsonl", "-o", str(out)])
    assert result.exit_code == 1
    assert out.read_bytes() == b"previous run\n"
    assert leftovers(tmp_path) == []


# ---------------------------------------------------------------- vanishing input


def _feed_fifo(fifo: Path, data: bytes, then: object = None) -> threading.Thread:
    """Write ``data`` into ``fifo`` from a thread, call ``then()``, and close it."""

    def feed() -> None:
        with fifo.open("wb") as stream:
            stream.write(data)
            stream.flush()
            if callable(then):
                then()

    thread = threading.Thread(target=feed)
    thread.start()
    return thread


def test_input_that_disappears_mid_run(tmp_path):
    # The first input is a FIFO, so the run is provably under way when the second is deleted.
    first, second = tmp_path / "first.jsonl", tmp_path / "second.jsonl"
    os.mkfifo(first)
    write_jsonl(second, GOOD[3:])
    feeder = _feed_fifo(first, b"".join(map(jsonl_line, GOOD[:3])), then=second.unlink)
    args = ["run", "first.jsonl", "second.jsonl", "--format", "jsonl", "-o", "out.jsonl"]
    proc = run_dedup(args, cwd=tmp_path)
    feeder.join(timeout=60)
    assert proc.returncode == 1
    assert proc.stderr == b"Error: second.jsonl: no such file or directory\n"
    assert not (tmp_path / "out.jsonl").exists()
    assert leftovers(tmp_path) == []


def test_folder_file_deleted_after_listing(tmp_path, seeds_dir, monkeypatch):
    import dedup.io.readers as readers

    real_walk = os.walk

    def walk_then_delete(top, *args, **kwargs):
        listing = list(real_walk(top, *args, **kwargs))
        victim = sorted(seeds_dir.glob("*.txt"))[2]
        victim.unlink()
        yield from listing

    monkeypatch.setattr(readers.os, "walk", walk_then_delete)
    victim = sorted(seeds_dir.glob("*.txt"))[2]
    result = invoke(["run", str(seeds_dir), "--format", "jsonl"])
    assert result.exit_code == 1
    assert result.stderr == f"Error: {victim}: cannot read: No such file or directory\n"


def test_truncated_gzip_input(tmp_path):
    import gzip

    data = gzip.compress(b"".join(map(jsonl_line, GOOD)))
    path = tmp_path / "in.jsonl.gz"
    path.write_bytes(data[: len(data) // 2])
    result = invoke(["run", str(path), "--format", "jsonl"])
    assert result.exit_code == 1
    assert result.stderr.startswith(f"Error: {path}:")
    assert "cannot read: Compressed file ended before the end-of-stream marker" in result.stderr
    assert result.stderr.count("\n") == 1


# ---------------------------------------------------------------- Ctrl-C


def _default_sigint() -> None:
    """Give the child the default Ctrl-C action, as a terminal's foreground job has.

    A non-interactive shell starts background jobs (``pytest &``) with SIGINT ignored, the child
    inherits that, and a dedup that rightly keeps ignoring it would fail these tests.
    """
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _start(args: list[str], cwd: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(
        [sys.executable, "-m", "dedup", *args],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        preexec_fn=_default_sigint,
    )


def test_ctrl_c_mid_run_exits_130_without_output(tmp_path):
    fifo = tmp_path / "in.jsonl"
    os.mkfifo(fifo)
    out = tmp_path / "out.jsonl"
    out.write_bytes(b"previous run\n")
    proc = _start(["run", "in.jsonl", "--format", "jsonl", "-o", "out.jsonl"], tmp_path)
    with fifo.open("wb") as stream:  # opens once dedup is reading: the run is under way
        stream.write(b"".join(map(jsonl_line, GOOD)))
        stream.flush()
        time.sleep(0.5)
        proc.send_signal(signal.SIGINT)
        stdout, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130
    assert stderr == b"Interrupted; no output was written.\n"
    assert stdout == b""
    assert out.read_bytes() == b"previous run\n"
    assert leftovers(tmp_path) == []


def test_ctrl_c_while_writing_standard_output_has_no_traceback(tmp_path):
    # Interrupted while blocked writing to a full pipe nobody reads yet.
    records = [{**r, "id": f"{r['id']}-{n}"} for n in range(40) for r in GOOD]
    corpus = write_jsonl(tmp_path / "in.jsonl", records)
    proc = _start(["run", str(corpus), "--format", "jsonl", "--with-text"], tmp_path)
    deadline = time.monotonic() + 60
    while proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.2)
        status = Path(f"/proc/{proc.pid}/wchan")
        if status.exists() and "pipe" in status.read_text():
            break
    proc.send_signal(signal.SIGINT)
    _stdout, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130
    assert b"Traceback" not in stderr
    assert stderr.endswith(b"Interrupted; no output was written.\n")


_SLOW_IMPORT = """
import sys, time
from pathlib import Path

MARKER = Path(sys.argv[1])

class SlowCommandLine:  # the command line's import takes long, as on a busy machine
    def find_spec(self, name, path, target=None):
        if name == "dedup.cli":
            MARKER.touch()
            time.sleep(30)

sys.meta_path.insert(0, SlowCommandLine())
from dedup.__main__ import main
sys.argv = ["dedup", "run"]
main()
"""


def test_ctrl_c_while_the_command_line_is_imported_has_no_traceback(tmp_path):
    marker = tmp_path / "importing"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(
        [sys.executable, "-c", _SLOW_IMPORT, str(marker)],
        cwd=tmp_path,
        env=env,
        stderr=subprocess.PIPE,
        preexec_fn=_default_sigint,
    )
    deadline = time.monotonic() + 60
    while not marker.exists() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert marker.exists()
    proc.send_signal(signal.SIGINT)
    _stdout, stderr = proc.communicate(timeout=60)
    assert stderr == b"Interrupted; no output was written.\n"
    assert proc.returncode == 130
