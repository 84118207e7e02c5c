"""Shared fixtures: real seed articles and small planted corpora."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

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


def body(start: int, count: int = 6) -> list[str]:
    """``count`` distinct real paragraphs starting at ``start`` (wrapping around)."""
    return [SENTENCES[(start + i) % len(SENTENCES)] for i in range(count)]


@pytest.fixture
def seeds_dir(tmp_path: Path) -> Path:
    """A copy of the seed folder."""
    target = tmp_path / "seeds"
    shutil.copytree(SEEDS, target)
    return target
