"""Pathological inputs against ordinary ones of the same size: time and peak memory.

Each case is one pathological input (a 20 MB article, a 5 MB single paragraph, an article of
100,000 short paragraphs, 100,000 tiny articles) and its floor: the same words cut into
ordinary articles (about 40 paragraphs of about 40 words). Both run as ``python -m dedup run``
in a fresh subprocess, in the same invocation; the ratio pathological / ordinary shows what
the shape alone costs (1.0: nothing). One JSON line per case, medians of ``--repeat`` runs.

Example:
    python benchmarks/robust_scale.py --cases paragraph,short-paragraphs --repeat 1
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WORDS = sorted(
    {w for p in (ROOT / "seeds").glob("*.txt") for w in re.findall(r"\w+", p.read_text("utf-8"))}
)
_MEASURED = """
import resource, sys, time
from dedup.cli import cli
start = time.perf_counter()
try:
    cli.main(sys.argv[1:], prog_name="dedup")
finally:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(f"MEASURED {time.perf_counter() - start:.3f} {peak}", file=sys.stderr)
"""


def sentences(rng: random.Random, count: int, low: int, high: int) -> list[str]:
    """``count`` random sentences of ``low`` to ``high`` seed-article words."""
    return [
        " ".join(rng.choice(WORDS) for _ in range(rng.randint(low, high))) + "."
        for _ in range(count)
    ]


def pathological(case: str, rng: random.Random) -> list[dict[str, str]]:
    """The records of one pathological case."""
    if case == "article":
        return [{"id": "big", "text": "\n".join(sentences(rng, 80_000, 30, 50))}]
    if case == "paragraph":
        return [{"id": "one", "text": " ".join(sentences(rng, 30_000, 30, 50))}]
    if case == "short-paragraphs":
        return [{"id": "many", "text": "\n".join(sentences(rng, 100_000, 3, 8))}]
    if case == "tiny-articles":
        texts = sentences(rng, 100_000, 3, 12)
        numbers = [rng.randint(0, 10**6) for _ in texts]  # a vocabulary that keeps growing
        pairs = enumerate(zip(texts, numbers, strict=True))
        return [{"id": f"t{n}", "text": f"{t} {x}"} for n, (t, x) in pairs]
    raise ValueError(f"unknown case {case!r}")


def ordinary(records: list[dict[str, str]]) -> list[dict[str, str]]:
    """The same words as ``records``, cut into articles of 40 paragraphs of 40 words."""
    words = [w for r in records for w in r["text"].split()]
    paragraphs = [" ".join(words[i : i + 40]) for i in range(0, len(words), 40)]
    return [
        {"id": f"o{n}", "text": "\n".join(paragraphs[i : i + 40])}
        for n, i in enumerate(range(0, len(paragraphs), 40))
    ]


def measured_run(
    args: list[str], cwd: Path | None = None, timeout: float | None = None
) -> tuple[float, float, bytes]:
    """Run ``dedup ARGS`` in a fresh subprocess.

    Returns:
        (wall seconds, peak RSS in MB, stderr without the figures line).

    Raises:
        RuntimeError: the run failed (with the end of its stderr).
    """
    proc = subprocess.run(
        [sys.executable, "-c", _MEASURED, *args],
        cwd=cwd,
        capture_output=True,
        timeout=timeout,
        check=False,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    *rest, last = proc.stderr.decode().rstrip("\n").split("\n")
    if proc.returncode != 0 or not last.startswith("MEASURED"):
        raise RuntimeError(proc.stderr.decode()[-2000:])
    _, seconds, peak_kb = last.split()
    return float(seconds), int(peak_kb) / 1024, "\n".join(rest).encode()


def measure(records: list[dict[str, str]], folder: Path) -> tuple[float, float]:
    """Run ``dedup run`` on ``records``; return (seconds, peak RSS in MB)."""
    path = folder / "in.jsonl"
    with path.open("w", encoding="utf-8") as stream:
        for record in records:
            stream.write(json.dumps(record, ensure_ascii=False) + "\n")
    args = ["run", str(path), "--format", "jsonl", "-o", str(folder / "out.jsonl")]
    seconds, peak_mb, _ = measured_run(args)
    return seconds, peak_mb


def main() -> None:
    """Run the chosen cases and print one JSON line each."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--cases",
        default="article,paragraph,short-paragraphs,tiny-articles",
        help="comma-separated: article, paragraph, short-paragraphs, tiny-articles",
    )
    parser.add_argument("--repeat", type=int, default=3, help="runs per input (median)")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    for case in args.cases.split(","):
        records = pathological(case, random.Random(args.seed))
        floor = ordinary(records)
        with tempfile.TemporaryDirectory() as tmp:
            runs = [measure(records, Path(tmp)) for _ in range(args.repeat)]
            floor_runs = [measure(floor, Path(tmp)) for _ in range(args.repeat)]
        seconds = statistics.median(r[0] for r in runs)
        floor_seconds = statistics.median(r[0] for r in floor_runs)
        line = {
            "case": case,
            "megabytes": round(sum(len(r["text"].encode()) for r in records) / 1e6, 1),
            "records": len(records),
            "seconds": round(seconds, 2),
            "peak_rss_mb": round(max(r[1] for r in runs), 1),
            "floor_records": len(floor),
            "floor_seconds": round(floor_seconds, 2),
            "floor_peak_rss_mb": round(max(r[1] for r in floor_runs), 1),
            "time_over_floor": round(seconds / floor_seconds, 2),
        }
        print(json.dumps(line), flush=True)


if __name__ == "__main__":
    main()
