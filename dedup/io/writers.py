"""Write outputs so that a failed run never leaves a partial or corrupt file behind.

:func:`atomic_output` writes a regular file through a temporary file in the same folder that
replaces the target only once everything is written and synced; standard output, devices
(``/dev/null``) and named pipes are written directly. :func:`write_rejects` writes the records
that ``on_error="skip"`` set aside, byte for byte as they were read.
"""

from __future__ import annotations

import io
import os
import secrets
import stat
import sys
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, suppress
from pathlib import Path
from typing import IO, Any, Literal, overload

from dedup.errors import OutputError
from dedup.types import Rejected

__all__ = ["atomic_output", "write_rejects"]

STDOUT = "-"


def _reason(path: str, exc: OSError) -> str:
    """Return the one-line message for a failed write of ``path``."""
    parent = os.path.dirname(path) or "."
    if isinstance(exc, FileNotFoundError) and not os.path.isdir(parent):
        return f"cannot write {path}: directory {parent} does not exist"
    return f"cannot write {path}: {exc.strerror or exc}"


@contextmanager
def _stdout(binary: bool) -> Iterator[IO[Any]]:
    """Yield standard output (UTF-8 with LF line ends when text), flushed and left open."""
    sys.stdout.flush()
    buffer = getattr(sys.stdout, "buffer", None)
    if buffer is None:  # replaced by a text-only stream (tests, notebooks)
        if binary:
            raise OutputError("cannot write binary output to this standard output")
        yield sys.stdout
        sys.stdout.flush()
        return
    if binary:
        yield buffer
        buffer.flush()
        return
    wrapper = io.TextIOWrapper(buffer, encoding="utf-8", newline="\n")
    try:
        yield wrapper
        wrapper.flush()
    finally:
        with suppress(OSError, ValueError):
            wrapper.detach()  # leave sys.stdout's own buffer open


@contextmanager
def _direct(path: Path, binary: bool) -> Iterator[IO[Any]]:
    """Yield ``path`` (a device or a named pipe) opened for writing, closed on exit."""
    if binary:
        with path.open("wb") as stream:
            yield stream
    else:
        with path.open("w", encoding="utf-8", newline="\n") as stream:
            yield stream


@contextmanager
def _replacing(path: Path, binary: bool, mode: int | None) -> Iterator[IO[Any]]:
    """Yield a temporary file beside ``path`` that replaces it on success (see atomic_output)."""
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)  # the umask applies
    try:
        if binary:
            stream: IO[Any] = os.fdopen(fd, "wb")
        else:
            stream = os.fdopen(fd, "w", encoding="utf-8", newline="\n")
    except BaseException:
        os.close(fd)
        tmp.unlink(missing_ok=True)
        raise
    try:
        yield stream
        stream.flush()
        os.fsync(stream.fileno())
        stream.close()
        if mode is not None:
            os.chmod(tmp, mode)  # keep the permissions of the file it replaces
        os.replace(tmp, path)
    except BaseException:
        with suppress(OSError):
            stream.close()
        tmp.unlink(missing_ok=True)
        raise
    with suppress(OSError):  # make the rename itself durable, where the system allows it
        dir_fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)


@overload
def atomic_output(
    path: str | Path | None, *, binary: Literal[False] = False
) -> AbstractContextManager[IO[str]]: ...


@overload
def atomic_output(
    path: str | Path | None, *, binary: Literal[True]
) -> AbstractContextManager[IO[bytes]]: ...


@contextmanager
def atomic_output(path: str | Path | None, *, binary: bool = False) -> Iterator[IO[Any]]:
    """Open an output for writing, so that it is complete or untouched, never half written.

    A regular file (or a path that does not exist yet) is written to a temporary file in the
    same folder, synced, and renamed over the target when the ``with`` block ends without an
    exception; on any exception the temporary file is deleted and an existing target keeps its
    old content (and its permissions are carried over on success). A symbolic link is followed,
    so the file it points to is replaced. A path that exists and is not a regular file (a
    device such as ``/dev/null``, a named pipe) is opened and written directly, never replaced.

    Args:
        path: Output path; ``None`` or ``"-"`` is standard output (flushed, not closed).
        binary: Yield a binary stream instead of a text one (UTF-8, LF line ends).

    Yields:
        The stream to write to.

    Raises:
        OutputError: The output cannot be written (``cannot write out.jsonl: No space left on
            device``, missing folder, ...). Any OSError escaping the block is reported this way.

    Example:
        >>> with atomic_output("report.json") as out:  # doctest: +SKIP
        ...     out.write("{}")
    """
    if path is None or str(path) == STDOUT:
        name = "standard output"
        opener = _stdout(binary)
    else:
        name = str(path)
        target = Path(os.path.realpath(path))
        try:
            info: os.stat_result | None = target.stat()
        except FileNotFoundError:
            info = None
        except OSError as exc:
            raise OutputError(_reason(name, exc)) from exc
        if info is not None and not stat.S_ISREG(info.st_mode):
            opener = _direct(target, binary)
        else:
            mode = None if info is None else stat.S_IMODE(info.st_mode)
            opener = _replacing(target, binary, mode)
    try:
        with opener as stream:
            yield stream
    except BrokenPipeError:
        raise  # the reader went away (``dedup ... | head``): the caller decides
    except OSError as exc:
        raise OutputError(_reason(name, exc)) from exc


def write_rejects(path: str | Path | None, rejected: Sequence[Rejected]) -> None:
    """Write skipped records, one per line, exactly as they were read, atomically.

    Each record's ``raw`` text is turned back into its original bytes (``surrogateescape``), so
    invalid UTF-8 comes out as it went in; a CSV record that spanned lines keeps its line breaks.

    Args:
        path: Rejects file; ``None`` or ``"-"`` is standard output.
        rejected: The records, in the order they were skipped.

    Raises:
        OutputError: The file cannot be written.
    """
    with atomic_output(path, binary=True) as out:
        for record in rejected:
            out.write(record.raw.encode("utf-8", "surrogateescape") + b"\n")
