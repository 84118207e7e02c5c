"""The pipeline end to end on the seed articles, against a golden JSONL file."""

import dataclasses
import json
import os
from datetime import datetime, timezone
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import dedup
from dedup.report import iter_json, to_dict, to_json, to_jsonl
from dedup.report.records import _dumps
from dedup.types import Rejected, RemovedParagraph

GOLDEN = Path(__file__).parent / "data" / "seeds.expected.jsonl"
SEED_IDS = [
    "000_3b025018dbb24883",
    "001_467d0ff83c60400f",
    "002_ef7f234de3247b56",
    "003_96788e7599ca8b8b",
    "004_61fa48a3ff5f5de8",
]


@pytest.fixture(scope="module")
def seeds_result():
    return dedup.run_files([])


def test_golden_seeds_jsonl(seeds_result):
    """Refresh with DEDUP_UPDATE_GOLDEN=1 after a reviewed change of behaviour."""
    text = to_jsonl(seeds_result)
    if os.environ.get("DEDUP_UPDATE_GOLDEN"):
        GOLDEN.write_text(text, encoding="utf-8")
    assert text == GOLDEN.read_text(encoding="utf-8")


def test_seed_expectations(seeds_result):
    records = {r["id"]: r for r in map(json.loads, to_jsonl(seeds_result).splitlines())}
    assert list(records) == SEED_IDS
    first, second, third, fourth, fifth = (records[i] for i in SEED_IDS)
    # 000 and 001 cover the G20 Antalya meetings; 002, 003, 004 are other events.
    assert first["event"] == second["event"]
    assert len({first["event"], third["event"], fourth["event"], fifth["event"]}) == 4
    reasons = {i: [(r["reason"], r["text"][:25]) for r in records[i]["removed"]] for i in SEED_IDS}
    # The repeated lead of 000 and 001, and the caption glued to itself in 000.
    assert ("repeated", "Tổng thống Nga Vladimir P") in reasons[SEED_IDS[0]]
    assert ("self-repeat", "Tổng thống Nga Vladimir P") in reasons[SEED_IDS[0]]
    assert ("repeated", "Tại cuộc gặp bên lề Hội n") in reasons[SEED_IDS[1]]
    # The image placeholders of 003 and 004 that only echo the title.
    assert reasons[SEED_IDS[3]] == [("title-echo", "Putin: Nga vẫn hợp tác vớ")]
    assert reasons[SEED_IDS[4]] == [("title-echo", "Nga sẵn sàng hợp tác chốn")]
    assert reasons[SEED_IDS[2]] == []
    assert all(r["duplicate_of"] is None for r in records.values())


def test_glued_caption_keeps_one_copy(seeds_result):
    article = seeds_result.articles[0]
    caption = "Tổng thống Nga Vladimir Putin ca ngợi sự"
    assert article.cleaned_text.count(caption) == 1


def test_seeds_shipped_in_package_match_repository_copy():
    packaged = sorted(dedup.seeds_path().glob("*.txt"))
    repository = Path(__file__).resolve().parent.parent / "seeds"
    assert [p.name for p in packaged] == [f"{i}.txt" for i in SEED_IDS]
    for path in packaged:
        assert path.read_bytes() == (repository / path.name).read_bytes()


def test_api_accepts_dicts_and_is_deterministic():
    records = [{"id": d.id, "text": d.text, "title": d.title} for d in dedup.read([])]
    copy = {**records[2], "id": "copy"}
    first = dedup.run([*records, copy])
    second = dedup.run([*records, copy])
    assert to_jsonl(first) == to_jsonl(second)
    assert first.articles[-1].duplicate_of == SEED_IDS[2]
    assert first.articles[-1].event == first.articles[2].event


def test_repeated_id_is_an_input_error():
    with pytest.raises(
        dedup.InputError, match=r"<records>:2: duplicate id 'a' \(first at <records>:1\)"
    ):
        dedup.run([{"id": "a", "text": "x"}, {"id": "a", "text": "y"}])


def test_stages_spare_what_earlier_stages_keep_from_collections():
    import gc

    from dedup.pipeline import run

    docs = [dedup.Document(f"d{n}", f"Bài {n} nói về chủ đề {n % 7}. Hà Nội.") for n in range(600)]
    seen = []

    def progress(stage, done, total):
        seen.append((stage, done, total, gc.isenabled(), gc.get_freeze_count()))

    run(docs, dedup.PipelineConfig(jobs=1), progress=progress)
    during = [s for s in seen if s[0] == "paragraphs" and 0 < s[1] < s[2]]
    assert during  # more than one task
    assert all(not enabled and frozen >= len(docs) for *_, enabled, frozen in during)
    clustering = next(s for s in seen if s[0] == "clustering")
    assert clustering[3] and clustering[4] >= len(docs)  # collections on, the documents spared
    assert gc.isenabled() and gc.get_freeze_count() == 0  # as before the run


def test_a_stage_spares_what_it_made_before_collections_resume():
    import gc

    from dedup.pipeline import _Timer

    timer = _Timer({}, spare=gc.freeze)
    try:
        with timer.stage("held"):
            assert not gc.isenabled()
            before = gc.get_freeze_count()  # all alive at the start
            kept = [[n] for n in range(1000)]
        assert gc.isenabled() and gc.get_freeze_count() > before + len(kept) // 2
        with timer.stage("collected", held_off=False):
            assert gc.isenabled()
    finally:
        gc.unfreeze()


def test_a_failed_run_leaves_the_collector_as_it_was():
    import gc

    with pytest.raises(dedup.InputError):
        dedup.run([{"id": "a", "text": "x"}, {"id": "a", "text": "y"}])
    assert gc.isenabled() and gc.get_freeze_count() == 0


def test_empty_input():
    result = dedup.run([])
    assert result.articles == ()
    assert result.stats["articles"] == 0


@pytest.mark.parametrize("rejected", [False, True])
def test_json_is_written_in_pieces_equal_to_one_document(seeds_result, rejected):
    result = seeds_result
    if rejected:  # a non-empty list at the end, and a result with no duplicate group
        bad = Rejected("in.jsonl:3", 'bad "quote"\nline', "raw")
        result = dataclasses.replace(seeds_result, rejected=(bad,), dup_groups=())
    whole = json.dumps(to_dict(result), ensure_ascii=False, indent=2) + "\n"
    pieces = list(iter_json(result))
    assert "".join(pieces) == to_json(result) == whole
    assert json.loads(whole)["rejected"] == (
        [{"origin": "in.jsonl:3", "reason": 'bad "quote"\nline'}] if rejected else []
    )
    assert len(pieces) > len(result.articles) + len(result.stories)  # an article at a time
    assert max(map(len, pieces)) < len(whole) / 3


def test_json_articles_are_json_dumps_bytes_with_awkward_values(seeds_result):
    # The articles' template (records.py) against json.dumps: escapes, non-ASCII, None,
    # floats and dates, and documents in another order than the articles (found by id).
    odd = RemovedParagraph(0, "boilerplate", 'Tin "nóng"\t\u2028 \\ end', "3 articles")
    articles = list(seeds_result.articles)
    articles[0] = dataclasses.replace(
        articles[0], id='a "quoted"\nid', duplicate_of="x\u00e9", similarity=1e-05, removed=(odd,)
    )
    articles[1] = dataclasses.replace(articles[1], similarity=0.1 + 0.2, removed=())
    documents = list(seeds_result.documents)
    documents[0] = dataclasses.replace(
        documents[0], id=articles[0].id, title=None, source="ngu\u1ed3n", url='http://x/?a=1&b="2"'
    )
    documents[1] = dataclasses.replace(
        documents[1], published=datetime(2024, 2, 29, 23, 59, 1, 5, tzinfo=timezone.utc)
    )
    for docs in (documents, documents[::-1]):
        result = dataclasses.replace(seeds_result, articles=tuple(articles), documents=tuple(docs))
        whole = json.dumps(to_dict(result), ensure_ascii=False, indent=2) + "\n"
        assert "".join(iter_json(result)) == whole
        record = json.loads(whole)["articles"][0]
        assert record["title"] is None and record["similarity"] == 1e-05


_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text()
)
_KEYS = st.text() | st.integers(-5, 5) | st.none() | st.booleans() | st.floats(-1, 1)
_VALUES = st.recursive(
    _SCALARS,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.tuples(inner, inner)
        | st.dictionaries(st.text(max_size=5), inner, max_size=4)
        | st.dictionaries(_KEYS, inner, max_size=3)
    ),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None)
@given(value=_VALUES, depth=st.integers(0, 3))
def test_indented_items_are_json_dumps_bytes(value, depth):
    # The JSON document's items are laid out without json's pure-Python encoder: same bytes.
    expected = json.dumps(value, ensure_ascii=False, indent=2).replace("\n", "\n" + "  " * depth)
    assert _dumps(value, depth) == expected


def test_indented_items_fail_as_json_dumps_does():
    with pytest.raises(TypeError, match="not JSON serializable"):
        _dumps({"a": [1, {"b": object()}]}, 1)
