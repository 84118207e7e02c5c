"""The exceptions dedup raises; the command line turns each into one ``Error:`` line."""

from __future__ import annotations

from pathlib import Path

INTERRUPTED = "Interrupted; no output was written."  # what a Ctrl-C prints (exit 130)
LINE_BREAKS = "\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029"  # where str.splitlines cuts
# The line breaks written as escapes: a reason quotes input (field names, values), and the
# error must stay one line.
_ESCAPED_BREAKS = {ord(c): repr(c)[1:-1] for c in LINE_BREAKS}


class DedupError(Exception):
    """Base class of every error dedup raises on purpose."""


class ConfigError(DedupError):
    """An option or parameter is out of range or conflicts with another."""


class InputError(DedupError):
    """A record of an input file cannot be read.

    Args:
        path: The file, or ``"<stdin>"``.
        line_no: 1-based line number where the record starts (0 when unknown).
        reason: What is wrong, as a short sentence fragment (line breaks in it, such as in a
            quoted field name, are shown as escapes).
    """

    def __init__(self, path: str | Path, line_no: int, reason: str) -> None:
        self.path = str(path)
        self.line_no = line_no
        self.reason = reason.translate(_ESCAPED_BREAKS)
        where = f"{self.path}:{line_no}" if line_no else self.path
        super().__init__(f"{where}: {self.reason}")


class OutputError(DedupError):
    """The output cannot be written (full disk, missing directory, ...)."""
