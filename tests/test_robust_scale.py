"""Pathological sizes: time and memory stay bounded (real subprocesses, peak RSS measured).

The texts are random sentences over the seed articles' vocabulary (seeded, so reproducible):
real Vietnamese words, no accidental repeats. The bounds are loose on purpose (a loaded CI
machine): they catch quadratic time or unbounded memory, not small regressions. The figures
of a quiet machine are in benchmarks/robust_scale.py.
"""

from __future__ import annotations

import importlib.util
import json
import random
import re
import time

import numpy as np
import pytest
from robust_helpers import ROOT, SEEDS, jsonl_line

from dedup.config import ShingleConfig
from dedup.normalize import normalize_text
from dedup.paragraphs import ParagraphCleaner
from dedup.shingle import Hasher, tokenize

_spec = importlib.util.spec_from_file_location(
    "robust_scale", ROOT / "benchmarks" / "robust_scale.py"
)
robust_scale = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(robust_scale)

WORDS = sorted({w for p in SEEDS.glob("*.txt") for w in re.findall(r"\w+", p.read_text("utf-8"))})


def sentences(seed: int, count: int, words: tuple[int, int] = (30, 50)) -> list[str]:
    """``count`` random sentences of seed-article words (seeded)."""
    rng = random.Random(seed)  # noqa: S311 (test data, not secrets)
    return [
        " ".join(rng.choice(WORDS) for _ in range(rng.randint(*words))) + "." for _ in range(count)
    ]


@pytest.mark.slow
def test_five_mb_single_paragraph(tmp_path):
    text = " ".join(sentences(1, 30_000))  # one line, about 5 MB
    assert len(text.encode()) > 5_000_000
    (tmp_path / "in.jsonl").write_bytes(jsonl_line({"id": "one", "text": text}))
    seconds, peak_mb, stderr = robust_scale.measured_run(
        ["run", "in.jsonl", "--format", "jsonl", "-o", "out.jsonl"], tmp_path, timeout=1800
    )
    assert stderr == b""
    [record] = [json.loads(line) for line in (tmp_path / "out.jsonl").read_text().splitlines()]
    assert record["id"] == "one" and record["removed"] == []
    assert seconds < 120, seconds  # about 10 s on a quiet machine
    assert peak_mb < 2000, peak_mb  # about 420 MB


@pytest.mark.slow
def test_article_of_100k_short_paragraphs(tmp_path):
    paragraphs = sentences(2, 100_000, words=(3, 8))
    text = "\n".join([*paragraphs, paragraphs[10], paragraphs[99_000]])  # two planted repeats
    (tmp_path / "in.jsonl").write_bytes(jsonl_line({"id": "many", "text": text}))
    seconds, peak_mb, _ = robust_scale.measured_run(
        ["run", "in.jsonl", "--format", "jsonl", "-o", "out.jsonl"], tmp_path, timeout=1800
    )
    [record] = [json.loads(line) for line in (tmp_path / "out.jsonl").read_text().splitlines()]
    repeats = {r["paragraph"] for r in record["removed"] if r["reason"] == "repeated"}
    assert {100_000, 100_001} <= repeats
    # Comparing every pair took hours; prefix filtering takes seconds.
    assert seconds < 120, seconds  # about 13 s on a quiet machine
    assert peak_mb < 2000, peak_mb  # about 340 MB


def test_repeat_check_is_not_quadratic():
    # 20,000 distinct paragraphs: every pair would be 2 * 10^8 set comparisons (hours).
    paragraphs = sentences(6, 20_000, words=(3, 8))
    text = "\n".join([*paragraphs, paragraphs[5]])
    start = time.perf_counter()
    doc = ParagraphCleaner().prepare("d", text, title=None, source=None)
    seconds = time.perf_counter() - start
    assert doc.removed[20_000].repeats == "paragraph 5"
    assert seconds < 30, seconds  # about 1 s


def test_huge_article_shingles_are_capped():
    tokens = tokenize(normalize_text("\n".join(sentences(3, 20_000))))
    cap = ShingleConfig().max_shingles
    hasher = Hasher()
    full = hasher.shingles(tokens, 5)
    capped = hasher.shingles(tokens, 5, cap=cap)
    assert len(full) > 10 * cap
    assert len(capped) == cap
    np.testing.assert_array_equal(capped, full[:cap])  # the smallest hashes: a consistent sample


@pytest.mark.slow
def test_twenty_mb_article_and_its_edited_copy(tmp_path):
    parts = sentences(4, 90_000)
    text = "\n".join(parts)
    assert len(text.encode()) > 20_000_000
    edited = "\n".join([*parts[:1000], "Một đoạn mới được thêm vào.", *parts[1000:-50]])
    records = [{"id": "big", "text": text}, {"id": "big-copy", "text": edited}]
    (tmp_path / "in.jsonl").write_bytes(b"".join(map(jsonl_line, records)))
    seconds, peak_mb, _ = robust_scale.measured_run(
        ["run", "in.jsonl", "--format", "jsonl", "-o", "out.jsonl"], tmp_path, timeout=1800
    )
    out = [json.loads(line) for line in (tmp_path / "out.jsonl").read_text().splitlines()]
    assert [r["id"] for r in out] == ["big", "big-copy"]
    assert out[0]["duplicate_of"] is None and out[1]["duplicate_of"] == "big"
    assert seconds < 900, seconds  # about 80 s on a quiet machine
    assert peak_mb < 6000, peak_mb  # about 2 GB


@pytest.mark.slow
def test_100k_tiny_articles(tmp_path):
    rng = random.Random(5)  # noqa: S311 (test data, not secrets)
    texts = sentences(5, 100_000, words=(3, 12))
    with (tmp_path / "in.jsonl").open("wb") as stream:
        for n, text in enumerate(texts):
            number = rng.randint(0, 10**6)  # news text carries numbers: a vocabulary that grows
            stream.write(jsonl_line({"id": f"t{n}", "text": f"{text} {number}"}))
    args = ["run", "in.jsonl", "--format", "jsonl", "-o", "out.jsonl"]
    seconds, peak_mb, _ = robust_scale.measured_run(args, tmp_path, timeout=1800)
    ids = [json.loads(line)["id"] for line in (tmp_path / "out.jsonl").open()]
    assert ids == [f"t{n}" for n in range(100_000)]
    assert seconds < 1500, seconds
    assert peak_mb < 8000, peak_mb
