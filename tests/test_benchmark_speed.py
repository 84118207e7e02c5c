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


_TREE = """
import os, time
shared = b"s" * (100 << 20)  # before the fork: one copy, half counted in each process
child = os.fork()
own = (b"c" if child == 0 else b"p") * (150 << 20 if child == 0 else 100 << 20)
time.sleep(3)
if child:
    os.waitpid(child, 0)
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_pss_sampler_sums_the_process_tree():
    import importlib.util

    spec = importlib.util.spec_from_file_location("speed", ROOT / "benchmarks" / "speed.py")
    speed = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(speed)
    process = subprocess.Popen([sys.executable, "-c", _TREE])
    sampler = speed._PssSampler(process.pid, interval=0.2)
    process.wait(timeout=60)
    peak_mb = sampler.stop() / 1024
    # 100 MB shared + 150 MB of the child's + 100 MB of the parent's (and two interpreters):
    # the largest process alone holds at most 250 MB of them.
    assert 340 < peak_mb < 450
    assert speed._pss_kb(process.pid) == 0  # ended: nothing to read
