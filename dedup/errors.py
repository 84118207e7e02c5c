"""The exceptions dedup raises; the command line turns each into one ``Error:`` line."""

from __future__ import annotations

from pathlib import Path

INTERRUPTED = "Interrupted; no output was written."  # what a Ctrl-C prints (exit 130)


class DedupError(Exception):
    """Base class of every error dedup raises on purpose."""


class ConfigError(DedupError):
    """An option or parameter is out of range or conflicts with another."""


class InputError(DedupError):
    """A record of an input file cannot be read.

    Args:
        path: The file, or ``"<stdin>"``.
        line_no: 1-based line number where the record starts (0 when unknown).
        reason: What is wrong, as a short sentence fragment.
    """

    def __init__(self, path: str | Path, line_no: int, reason: str) -> None:
        self.path = str(path)
        self.line_no = line_no
        self.reason = reason
        super().__init__(f"{self.path}:{line_no}: {reason}" if line_no else f"{path}: {reason}")


class OutputError(DedupError):
    """The output cannot be written (full disk, missing directory, ...)."""
