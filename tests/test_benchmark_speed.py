"""The speed benchmark runs end to end on a small corpus and its generator is seeded."""

import json
import subprocess
import sys

import pytest
from conftest import ROOT, SHARED_DATA


@pytest.mark.slow
def test_speed_benchmark_prints_one_json_line_per_size(tmp_path):
    if not (SHARED_DATA / "vims.jsonl").exists():
        pytest.skip("dev corpus not available")
    command = [sys.executable, str(ROOT / "benchmarks" / "speed.py"), "--sizes", "150,300"]
    command += ["--repeat", "1", "--sample", "100", "--cache", str(tmp_path)]
    result = subprocess.run(
        [*command, "--e2e-repeat", "3"], capture_output=True, text=True, check=True, cwd=tmp_path
    )
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [line["articles"] for line in lines] == [150, 300]
    for line in lines:
        # Three rounds of the floor then dedup; the ratio is the median round's.
        ratios = sorted(r["dedup_over_floor"] for r in line["rounds"])
        assert len(ratios) == 3 and line["dedup_over_floor"] == pytest.approx(ratios[1], abs=0.01)
        assert line["dedup_seconds"] == sorted(r["dedup_seconds"] for r in line["rounds"])[1]
        # dedup's CPU includes its worker processes: at least its single-threaded share.
        assert line["dedup_cpu_seconds"] > 0 and line["floor_cpu_seconds"] > 0
        assert line["dedup_cpu_over_floor_cpu"] > 0
        assert line["signatures_articles_per_s"]["dedup"] > 0
        assert "datasketch_update_batch" in line["signatures_over_peers"]
        assert line["counts"]["articles"] == line["articles"]
    first = (tmp_path / "speed-v2-300-1.jsonl").read_bytes()
    (tmp_path / "speed-v2-300-1.jsonl").unlink()
    subprocess.run(command, capture_output=True, check=True, cwd=tmp_path)
    assert (tmp_path / "speed-v2-300-1.jsonl").read_bytes() == first


def test_cluster_only_reports_seconds_peak_rss_and_ratio(tmp_path):
    if not (SHARED_DATA / "vims.jsonl").exists():
        pytest.skip("dev corpus not available")
    command = [sys.executable, str(ROOT / "benchmarks" / "speed.py"), "--sizes", "150,300"]
    command += ["--repeat", "1", "--cache", str(tmp_path), "--cluster-only"]
    result = subprocess.run(command, capture_output=True, text=True, check=True, cwd=tmp_path)
    line = json.loads(result.stdout.strip())
    assert sorted(line["seconds"]) == ["150", "300"]
    assert all(line["peak_rss_mb"][size] > 0 for size in ("150", "300"))
    assert line["time_ratios"]["300/150"] > 0
