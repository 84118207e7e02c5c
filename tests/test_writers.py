import errno
import io
import os
import stat
import sys
import threading

import pytest

from dedup.errors import OutputError
from dedup.io import atomic_output, write_rejects
from dedup.types import Rejected


def leftovers(folder):
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp"))


@pytest.mark.parametrize(("binary", "data"), [(False, "hòa bình\nline\n"), (True, b"\xff\x00\n")])
def test_writes_new_file(tmp_path, binary, data):
    out = tmp_path / "out.txt"
    with atomic_output(out, binary=binary) as stream:
        stream.write(data)
        assert not out.exists()  # nothing visible until the block ends
    expected = data if binary else data.encode("utf-8")
    assert out.read_bytes() == expected
    assert leftovers(tmp_path) == []


def test_text_mode_writes_lf_and_utf8(tmp_path):
    out = tmp_path / "out.txt"
    with atomic_output(str(out)) as stream:
        stream.write("a\nb\n")
    assert out.read_bytes() == b"a\nb\n"


def test_exception_leaves_old_file_untouched(tmp_path):
    out = tmp_path / "out.jsonl"
    out.write_text("old\n")
    with pytest.raises(RuntimeError, match="boom"), atomic_output(out) as stream:
        stream.write("new, half written")
        raise RuntimeError("boom")
    assert out.read_text() == "old\n"
    assert leftovers(tmp_path) == []


def test_exception_creates_no_file(tmp_path):
    out = tmp_path / "out.jsonl"
    with pytest.raises(KeyboardInterrupt), atomic_output(out) as stream:
        stream.write("x")
        raise KeyboardInterrupt
    assert list(tmp_path.iterdir()) == []


def test_full_disk_is_an_output_error(tmp_path, monkeypatch):
    out = tmp_path / "out.jsonl"
    out.write_text("old\n")

    def no_space(fd):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "fsync", no_space)
    with pytest.raises(OutputError) as info, atomic_output(out) as stream:
        stream.write("new\n")
    assert str(info.value) == f"cannot write {out}: No space left on device"
    assert out.read_text() == "old\n"
    assert leftovers(tmp_path) == []


def test_missing_directory(tmp_path):
    out = tmp_path / "nope" / "out.jsonl"
    with pytest.raises(OutputError) as info, atomic_output(out) as stream:
        stream.write("x")
    assert str(info.value) == f"cannot write {out}: directory {out.parent} does not exist"


def test_directory_as_output(tmp_path):
    with pytest.raises(OutputError, match="Is a directory"), atomic_output(tmp_path) as stream:
        stream.write("x")


def test_keeps_permissions_of_replaced_file(tmp_path):
    out = tmp_path / "out.txt"
    out.write_text("old")
    out.chmod(0o640)
    with atomic_output(out) as stream:
        stream.write("new")
    assert stat.S_IMODE(out.stat().st_mode) == 0o640
    assert out.read_text() == "new"


def test_follows_symlink(tmp_path):
    real = tmp_path / "real.txt"
    real.write_text("old")
    link = tmp_path / "link.txt"
    link.symlink_to(real)
    with atomic_output(link) as stream:
        stream.write("new")
    assert link.is_symlink()
    assert real.read_text() == "new"


def test_dev_null_is_written_not_replaced():
    with atomic_output("/dev/null") as stream:
        stream.write("discarded")
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no named pipes")
def test_fifo_is_written_through(tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    received = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_bytes()))
    reader.start()
    with atomic_output(fifo) as stream:
        stream.write("through the pipe\n")
    reader.join(timeout=10)
    assert received == [b"through the pipe\n"]
    assert stat.S_ISFIFO(fifo.stat().st_mode)


class FakeStdout(io.TextIOWrapper):
    def __init__(self):
        super().__init__(io.BytesIO(), encoding="ascii")


@pytest.mark.parametrize("target", [None, "-"])
def test_standard_output_text(monkeypatch, target):
    fake = FakeStdout()
    monkeypatch.setattr(sys, "stdout", fake)
    fake.write("before ")
    with atomic_output(target) as stream:
        stream.write("hòa\n")
    fake.write("after")
    fake.flush()
    assert fake.buffer.getvalue() == "before hòa\nafter".encode()
    assert not fake.closed


def test_standard_output_binary(monkeypatch):
    fake = FakeStdout()
    monkeypatch.setattr(sys, "stdout", fake)
    with atomic_output("-", binary=True) as stream:
        stream.write(b"\xff\n")
    assert fake.buffer.getvalue() == b"\xff\n"
    assert not fake.closed


def test_standard_output_without_buffer(monkeypatch):
    fake = io.StringIO()
    monkeypatch.setattr(sys, "stdout", fake)
    with atomic_output(None) as stream:
        stream.write("text")
    assert fake.getvalue() == "text"


def test_write_rejects_restores_bytes(tmp_path):
    lines = [b'{"text": "caf\xe9"}', b"not json \xff\xfe", b'2,"multi\nline",x']
    rejected = [Rejected("in:1", "r", line.decode("utf-8", "surrogateescape")) for line in lines]
    out = tmp_path / "rejects.jsonl"
    write_rejects(out, rejected)
    assert out.read_bytes() == b"\n".join(lines) + b"\n"


def test_write_rejects_empty(tmp_path):
    out = tmp_path / "rejects.jsonl"
    write_rejects(out, [])
    assert out.read_bytes() == b""
