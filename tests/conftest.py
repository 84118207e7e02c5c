"""Shared fixtures: real seed articles and small planted corpora."""

from __future__ import annotations

import itertools
import json
import os
import shutil
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.preprocessing import normalize

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"
SHARED_DATA = ROOT.parent / "shared" / "data"

# Real Vietnamese sentences (from the seeds) used to build distinct article bodies.
SENTENCES = list(
    dict.fromkeys(
        line.strip()
        for path in sorted(SEEDS.glob("*.txt"))
        for line in path.read_text(encoding="utf-8").splitlines()
        if len(line.split()) >= 12 and "Ảnh: Reuters" not in line
    )
)


def _wants_slow(config: pytest.Config) -> bool:
    """Whether the tests marked ``slow`` run: in CI (``CI`` set), with -m or ``DEDUP_SLOW=1``."""
    ci = os.environ.get("CI", "").lower() not in ("", "0", "false", "no")
    return ci or bool(config.getoption("markexpr")) or os.environ.get("DEDUP_SLOW") == "1"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Skip the tests marked ``slow`` in a plain local run, so it stays a quick loop.

    CI runs the same command with ``CI=true``, which runs them all (about 8 minutes on a
    slow day of a 2-core machine, against 4 without them).
    """
    if _wants_slow(config):
        return
    skip = pytest.mark.skip(reason="slow: runs with CI=true, DEDUP_SLOW=1 or -m slow")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)


def dev_records(name: str, count: int) -> list[dict]:
    """The first ``count`` records of the dev corpus ``name`` (``vims.jsonl``); skip without it."""
    path = SHARED_DATA / name
    if not path.exists():
        pytest.skip("dev corpus not available")
    with path.open(encoding="utf-8") as stream:
        return [json.loads(line) for line in itertools.islice(stream, count)]


def body(start: int, count: int = 6) -> list[str]:
    """``count`` distinct real paragraphs starting at ``start`` (wrapping around)."""
    return [SENTENCES[(start + i) % len(SENTENCES)] for i in range(count)]


@pytest.fixture
def seeds_dir(tmp_path: Path) -> Path:
    """A copy of the seed folder."""
    target = tmp_path / "seeds"
    shutil.copytree(SEEDS, target)
    return target


# Strings that would run script if a report pasted them into HTML unescaped.
PAYLOADS = (
    "<script>window.__pwned = 'script'; document.title = 'pwned'</script>",
    "<img src=x onerror=\"window.__pwned = 'img'; alert(1)\">",
    "<svg onload=\"window.__pwned = 'svg'\"></svg>",
    "<a href=\"javascript:window.__pwned = 'link'\">bấm vào đây</a>",
    '"><iframe src="javascript:window.__pwned = \'iframe\'"></iframe>',
    "'; window.__pwned = 'quote'; //",
)


def hostile_records() -> list[dict[str, str]]:
    """Articles whose every field holds the payloads: a planted copy, a repeated paragraph."""
    records = []
    for n, payload in enumerate(PAYLOADS):
        paragraphs = [payload, *body(n * 7, 6), payload]
        records.append(
            {
                "id": f"{payload} #{n}",
                "title": f"Tin {n} {payload}",
                "text": "\n".join(paragraphs),
                "source": payload if n % 2 else "<b>nguồn</b>",
                "url": "javascript:window.__pwned = 'url'" if n % 2 else f"https://x.vn/{n}",
                "date": f"2015-11-{10 + n:02d}",
            }
        )
    copy = dict(records[0], id="copy <script>window.__pwned = 'id'</script>")
    copy["text"] = records[0]["text"].replace("Putin", "<svg onload=alert(2)>Putin", 1)
    copy["date"] = "2015-11-20"
    return [*records, copy]


def topical(seed, n=400, topics=40, own=8, common=30):
    """Pair search input: rows of a topic's own rare columns (about 10 rows each) and of
    common ones (about 240), L2-normalized float32."""
    rng = np.random.default_rng(seed)
    width = topics * own + common
    dense = np.zeros((n, width), dtype=np.float32)
    for row, topic in enumerate(rng.integers(0, topics, n)):
        columns = topic * own + np.flatnonzero(rng.random(own) < 0.7)
        dense[row, columns] = rng.random(len(columns)) + 0.2
        dense[row, rng.integers(0, topics * own, 3)] += rng.random(3) * 0.5
        columns = topics * own + np.flatnonzero(rng.random(common) < 0.6)
        dense[row, columns] = rng.random(len(columns)) * 0.6
    return normalize(sp.csr_matrix(dense))
