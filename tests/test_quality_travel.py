"""The travel benchmark: derived corpora keep whole stories, and it runs on real ECB+ topics."""

import json

import pytest
from conftest import SHARED_DATA
from test_quality_tools import _module, run_script

ECB = SHARED_DATA / "ecbplus-dev.jsonl"


def _records(stories):
    return [
        {"id": f"{story}{n}", "story": story, "event": f"{story}-e", "text": "x"}
        for story in stories
        for n in range(3)
    ]


def test_subsamples_keep_whole_stories_and_repeat_with_their_seed():
    travel = _module("quality_travel")
    data = {"vims": _records("abcdefgh")}
    first = list(travel.variants(data, ["subsample"], [0.5, 0.25], [0, 1, 2]))
    again = list(travel.variants(data, ["subsample"], [0.5, 0.25], [0, 1, 2]))
    assert [m for m, _ in first] == [m for m, _ in again]
    assert [r for _, r in first] == [r for _, r in again]
    for meta, records in first:
        stories = {r["story"] for r in records}
        assert len(stories) == round(meta["fraction"] * 8)
        assert len(records) == 3 * len(stories)  # no story cut
    halves = [{r["story"] for r in records} for meta, records in first if meta["fraction"] == 0.5]
    assert len({frozenset(half) for half in halves}) > 1  # other seeds, other draws


def test_mixed_corpus_ids_and_labels_are_unique_per_source():
    travel = _module("quality_travel")
    data = {"vims": _records("ab"), "ecb": _records("ab")}
    [(meta, records)] = travel.variants(data, ["mixed"], [], [])
    assert meta["corpus"] == "vims+ecb"
    assert len({r["id"] for r in records}) == len(records) == 12
    assert len({r["story"] for r in records}) == 4
    assert len({r["event"] for r in records}) == 4


@pytest.mark.slow
@pytest.mark.skipif(not ECB.exists(), reason=f"{ECB} not found")
def test_each_ecb_topic_alone_is_scored_beside_shipped():
    completed = run_script(
        "quality_travel",
        "--data",
        str(SHARED_DATA),
        "--families",
        "topic",
        "--candidates",
        "centred_pieces_z_10",
    )
    rows = [json.loads(line) for line in completed.stdout.splitlines()]
    assert len({row["topic"] for row in rows}) == len(rows) == 21
    for row in rows:
        assert row["derived_cut"] == (row["rows"] >= 30)
        assert row["family"] == ("topic_30_plus" if row["derived_cut"] else "topic_under_30")
        assert set(row["shipped"]) == {"story", "event"}
        assert 0.0 < row["shipped"]["event"] <= 1.0
        difference = row["centred_pieces_z_10/difference"]["event"]
        assert difference == pytest.approx(
            row["centred_pieces_z_10"]["event"] - row["shipped"]["event"], abs=1e-3
        )
    assert "| topic_under_30 | ecb | event | centred_pieces_z_10 | 19 |" in completed.stderr
