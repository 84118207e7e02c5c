"""Coverage-guided fuzzing of the readers and the normalizer with atheris (optional).

Not part of the test suite (the hypothesis tests in tests/test_robust_fuzz.py are). Needs the
``fuzz`` extra (``pip install -e '.[fuzz]'``). A crash is any exception other than
InputError from a reader, or a normalize_text result that is not NFC or not idempotent.

Example:
    python scripts/fuzz_atheris.py --target readers --runs 20000
    python scripts/fuzz_atheris.py --target normalize --seconds 60
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import unicodedata
from pathlib import Path

import atheris

from dedup.errors import InputError
from dedup.io.readers import read_documents
from dedup.normalize import normalize_text

_SUFFIXES = (".jsonl", ".csv", ".tsv")


def _check(condition: bool, message: str) -> None:
    """Crash the fuzz run (libFuzzer saves the input) when ``condition`` is false."""
    if not condition:
        raise RuntimeError(message)


def _reader_target(folder: Path):
    """Return the function fuzzing the readers through files in ``folder``."""
    paths = [folder / f"input{suffix}" for suffix in _SUFFIXES]

    def test_one_input(data: bytes) -> None:
        if not data:
            return
        path = paths[data[0] % len(paths)]
        path.write_bytes(data[1:])
        for on_error in ("fail", "skip"):
            try:
                for doc in read_documents([path], on_error=on_error, rejected=[]):
                    _check(isinstance(doc.text, str), f"text of {doc.id!r} is not a string")
            except InputError:
                pass

    return test_one_input


def _normalize_target(data: bytes) -> None:
    """Fuzz normalize_text: NFC output, idempotent, blind to NFD input."""
    text = atheris.FuzzedDataProvider(data).ConsumeUnicodeNoSurrogates(len(data))
    once = normalize_text(text)
    _check(unicodedata.is_normalized("NFC", once), f"not NFC for {text!r}")
    _check(normalize_text(once) == once, f"not idempotent for {text!r}")
    _check(normalize_text(unicodedata.normalize("NFD", text)) == once, f"NFD differs: {text!r}")


def main() -> None:
    """Parse options and fuzz until the run or time budget is spent (or a crash)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--target", choices=["readers", "normalize"], default="readers")
    parser.add_argument("--runs", type=int, default=10_000, help="inputs to try")
    parser.add_argument("--seconds", type=int, default=0, help="time budget (0: none)")
    args, rest = parser.parse_known_args()
    libfuzzer = [sys.argv[0], f"-runs={args.runs}", *rest]
    if args.seconds:
        libfuzzer.append(f"-max_total_time={args.seconds}")
    atheris.instrument_all()  # coverage feedback from dedup (and everything loaded)
    with tempfile.TemporaryDirectory() as folder:
        target = _reader_target(Path(folder)) if args.target == "readers" else _normalize_target
        atheris.Setup(libfuzzer, target)
        atheris.Fuzz()


if __name__ == "__main__":
    main()
