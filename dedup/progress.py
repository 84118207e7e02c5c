"""A tiny progress printer for long runs: one self-overwriting line on standard error.

The library never prints by itself: :func:`~dedup.pipeline.run` takes an optional ``progress``
callback, and the CLI passes a :class:`ProgressPrinter` only when standard error is a terminal
and ``--quiet`` is not given.
"""

from __future__ import annotations

import sys
import time
from typing import TextIO

_MIN_INTERVAL = 0.2  # seconds between redraws


class ProgressPrinter:
    """Draws ``stage: done/total (rate/s)`` on one line, redrawn at most five times a second.

    Args:
        stream: Where to draw (standard error when None).
    """

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stderr
        self._stage = ""
        self._started = 0.0
        self._drawn = 0.0
        self._ended = False

    def __call__(self, stage: str, done: int, total: int) -> None:
        """Report that ``done`` of ``total`` items of ``stage`` are finished."""
        now = time.perf_counter()
        if stage != self._stage:
            self._stage, self._started, self._drawn, self._ended = stage, now, 0.0, False
        if self._ended or (done < total and now - self._drawn < _MIN_INTERVAL):
            return
        self._ended = done >= total
        self._drawn = now
        rate = done / max(now - self._started, 1e-9)
        line = f"{stage}: {done:,}/{total:,} ({rate:,.0f}/s)"
        end = "\n" if done >= total else ""
        self.stream.write(f"\r\x1b[K{line}{end}")
        self.stream.flush()


def wanted(quiet: bool, stream: TextIO | None = None) -> bool:
    """Whether to draw progress: not ``quiet`` and the stream is a terminal."""
    stream = stream or sys.stderr
    return not quiet and stream.isatty()
