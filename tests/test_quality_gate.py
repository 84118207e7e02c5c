"""The quality gate: dedup's shipped defaults must not score below the pinned floors.

Floors, corpus hashes and epsilon live in ``benchmarks/baseline.json`` (refresh with
``python benchmarks/quality.py --update-floors``; lowering one needs ``--allow-regression``).
Skipped only when the dev corpora (``../shared/data``) are absent.
"""

import importlib.util
import json
from pathlib import Path

import pytest
from conftest import ROOT, SHARED_DATA

BENCHMARKS = ROOT / "benchmarks"


def _quality_module():
    spec = importlib.util.spec_from_file_location("quality", BENCHMARKS / "quality.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


needs_data = pytest.mark.skipif(
    not all(
        (SHARED_DATA / name).exists() for name in ("vims.jsonl", "ktlab.jsonl", "ecbplus-dev.jsonl")
    ),
    reason=f"dev corpora not found in {SHARED_DATA}",
)


@pytest.mark.slow
@needs_data
def test_quality_at_least_the_pinned_floors():
    quality = _quality_module()
    floors = json.loads((BENCHMARKS / "baseline.json").read_text(encoding="utf-8"))
    rows = quality.evaluate_all(SHARED_DATA, with_baseline=False)
    assert {quality.key(r) for r in rows} == set(floors["floors"])
    assert quality.check_floors(rows, floors) == []


def test_check_floors_reports_a_drop_and_a_changed_corpus():
    quality = _quality_module()
    floors = {"epsilon": 0.0005, "floors": {"c/story": 0.9}, "sha256": {"c": "abc"}}
    ok = {"corpus": "c", "level": "story", "dedup_f1": 0.8996, "sha256": "abc"}
    assert quality.check_floors([ok], floors) == []
    low = {**ok, "dedup_f1": 0.899}
    assert quality.check_floors([low], floors) == ["c/story: F1 0.899 is below the floor 0.9"]
    changed = {**ok, "sha256": "def"}
    assert quality.check_floors([changed], floors) == ["c: corpus changed (sha256 def...)"]


def test_baseline_file_pins_every_case():
    floors = json.loads((BENCHMARKS / "baseline.json").read_text(encoding="utf-8"))
    assert set(floors["floors"]) == {
        "vims/story",
        "ktlab/story",
        "ecbplus-dev/event",
        "ecbplus-dev/story",
        "syndication/duplicates",
    }
    assert 0 < floors["epsilon"] < 0.01
    assert Path(BENCHMARKS / "quality.py").exists()


@needs_data
def test_syndication_corpus_is_deterministic_and_labelled():
    quality = _quality_module()
    syndication = __import__("syndication")
    first = syndication.build_corpus(SHARED_DATA, stories=6, seed=3)
    assert first == syndication.build_corpus(SHARED_DATA, stories=6, seed=3)
    ids = {r["id"] for r in first}
    copies = [r for r in first if r["edits"]]
    assert copies and all(r["dup_group"] in ids and r["id"] != r["dup_group"] for r in copies)
    assert all(2 <= len(r["edits"]) <= 4 for r in copies)
    originals = {r["dup_group"] for r in copies}
    negatives = [r for r in first if not r["edits"] and r["id"] not in originals]
    assert negatives and all(r["dup_group"] == r["id"] for r in negatives)
    assert quality.DEFAULT_DATA == SHARED_DATA
