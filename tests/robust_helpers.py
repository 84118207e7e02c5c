"""Helpers of the robustness tests: seed records, and dedup run as a user runs it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner, Result

from dedup.cli import cli

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"


def seed_records() -> list[dict[str, str]]:
    """The five seed articles as JSONL records (id ``s0``..``s4``, title and text)."""
    records = []
    for n, path in enumerate(sorted(SEEDS.glob("*.txt"))):
        title, _, text = path.read_text(encoding="utf-8").partition("\n")
        records.append({"id": f"s{n}", "title": title.strip(), "text": text.strip()})
    return records


def jsonl_line(record: dict[str, object]) -> bytes:
    """One JSONL line (UTF-8, newline included)."""
    return (json.dumps(record, ensure_ascii=False) + "\n").encode("utf-8")


def write_jsonl(path: Path, records: list[dict[str, object]]) -> Path:
    """Write ``records`` as JSONL to ``path``."""
    path.write_bytes(b"".join(jsonl_line(r) for r in records))
    return path


def invoke(args: list[str], stdin: bytes | None = None) -> Result:
    """Run the CLI in-process (click's CliRunner); stdout and stderr kept apart."""
    result = CliRunner().invoke(cli, args, input=stdin)
    # A traceback would surface as an exception other than the SystemExit click raises.
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exc_info
    return result


def run_dedup(
    args: list[str], *, cwd: Path, stdin: bytes | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[bytes]:
    """Run ``python -m dedup ARGS`` in a real subprocess, in ``cwd``."""
    paths = [str(ROOT), *filter(None, os.environ.get("PYTHONPATH", "").split(os.pathsep))]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(paths)}
    return subprocess.run(
        [sys.executable, "-m", "dedup", *args],
        cwd=cwd,
        input=stdin,
        capture_output=True,
        env=env,
        timeout=timeout,
        check=False,
    )


def output_ids(data: bytes | str) -> list[str]:
    """Ids of a JSONL output, in order."""
    text = data.decode("utf-8") if isinstance(data, bytes) else data
    return [json.loads(line)["id"] for line in text.splitlines()]


def leftovers(folder: Path) -> list[str]:
    """Temporary files an atomic write may have left in ``folder`` (there must be none)."""
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp"))
