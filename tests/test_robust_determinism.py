"""Same input and options, same bytes; any input order, same groups.

The corpus: the five seed articles plus planted copies (a syndicated copy with another footer,
a truncated copy, an NFD copy, a copy with new-style tone marks, a lightly edited rewrite).
"""

from __future__ import annotations

import json
import unicodedata

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from robust_helpers import invoke, run_dedup, seed_records, write_jsonl

import dedup
from dedup.config import PipelineConfig

GOOD = seed_records()


def _planted() -> list[dict[str, str]]:
    s0, s1, s2, s3, s4 = GOOD
    lines = s2["text"].splitlines()
    edited = s1["text"].replace("Obama", "Tổng thống Obama", 1)
    return [
        {**s0, "id": "x-syndicated", "text": s0["text"] + "\nNguồn: Báo Thanh Niên"},
        {**s2, "id": "x-truncated", "text": "\n".join(lines[: len(lines) * 2 // 3])},
        {**s3, "id": "x-nfd", "text": unicodedata.normalize("NFD", s3["text"])},
        {**s4, "id": "x-tone", "text": s4["text"].replace("òa", "oà").replace("úy", "uý")},
        {**s1, "id": "x-edited", "text": edited},
    ]


CORPUS = [*GOOD, *_planted()]
FORMATS = ("jsonl", "json", "markdown", "text")


def _partitions(records: list[dict[str, object]]) -> dict[str, object]:
    """Order-free view of a run: duplicate groups with their canonical, events, stories."""

    def blocks(key: str) -> frozenset[frozenset[str]]:
        groups: dict[object, set[str]] = {}
        for r in records:
            groups.setdefault(r[key], set()).add(str(r["id"]))
        return frozenset(frozenset(g) for g in groups.values())

    canonical = {str(r["id"]): r["duplicate_of"] or r["id"] for r in records}
    return {"canonical": canonical, "events": blocks("event"), "stories": blocks("story")}


def _records(docs: list[dict[str, str]]) -> list[dict[str, object]]:
    result = dedup.run(docs, PipelineConfig())
    return [
        {"id": a.id, "duplicate_of": a.duplicate_of, "event": a.event, "story": a.story}
        for a in result.articles
    ]


def test_planted_copies_are_found():
    canonical = _partitions(_records(CORPUS))["canonical"]
    assert {k: v for k, v in canonical.items() if k != v} == {
        # Undated: the longest is canonical (the copy with a footer, the edited rewrite),
        # then the smallest id (NFD and tone copies are as long as their original).
        "s0": "x-syndicated",
        "x-truncated": "s2",
        "x-nfd": "s3",
        "x-tone": "s4",
        "s1": "x-edited",
    }


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.permutations(CORPUS))
def test_same_groups_under_any_input_order(order):
    assert _partitions(_records(list(order))) == REFERENCE


REFERENCE = _partitions(_records(CORPUS))


@pytest.mark.parametrize("fmt", FORMATS)
def test_byte_identical_across_runs(tmp_path, fmt):
    path = write_jsonl(tmp_path / "in.jsonl", CORPUS)
    outputs = {invoke(["run", str(path), "--format", fmt]).stdout_bytes for _ in range(3)}
    assert len(outputs) == 1


@pytest.mark.slow
def test_byte_identical_across_processes_and_jobs(tmp_path):
    write_jsonl(tmp_path / "in.jsonl", CORPUS)
    outputs = []
    for jobs in ("1", "2", "2"):
        for fmt in ("jsonl", "json"):
            args = ["run", "in.jsonl", "--format", fmt, "--jobs", jobs, "-o", f"out-{jobs}.{fmt}"]
            proc = run_dedup(args, cwd=tmp_path)
            assert proc.returncode == 0, proc.stderr
        outputs.append(
            (
                (tmp_path / f"out-{jobs}.jsonl").read_bytes(),
                (tmp_path / f"out-{jobs}.json").read_bytes(),
            )
        )
    assert outputs[0] == outputs[1] == outputs[2]
    records = [json.loads(line) for line in outputs[0][0].splitlines()]
    assert [r["id"] for r in records] == [r["id"] for r in CORPUS]


def test_jobs_option_is_validated():
    result = invoke(["run", "--jobs", "0"])
    assert result.exit_code == 2
    assert "Invalid value for '-j' / '--jobs': 0 is not in the range x>=1." in result.stderr
