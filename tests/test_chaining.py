"""Duplicate groups do not chain through a short text contained in longer, unrelated ones.

The containment rule (a truncated copy) holds only when the shorter shingle set is at least
``min_size_ratio`` of the longer: the same decision in the batch stage, the index and the CLI.
"""

import json
import sqlite3

import pytest
from conftest import body
from test_index import invoke, write_jsonl

from dedup.config import NearDupConfig
from dedup.errors import ConfigError
from dedup.neardup import NearDuplicateFinder, is_near_duplicate
from dedup.normalize import normalize_text
from dedup.shingle import Hasher, jaccard_containment, tokenize

HUB = body(60, 2)  # a short piece (a statement, a wire paragraph) quoted in two articles


def edited(paragraphs, every=30):
    """The paragraphs with every ``every``-th word replaced (a light rewrite)."""
    out = []
    for paragraph in paragraphs:
        words = paragraph.split(" ")
        for k in range(every // 2, len(words), every):
            words[k] = "đã"
        out.append(" ".join(words))
    return out


def corpus():
    """Two unrelated articles quoting HUB, the hub, a brief that is mostly HUB, and copies.

    ``cut`` is a truncated, edited copy of ``original`` (over half its size), ``excerpt`` a
    shorter one (under half).
    """
    original = body(0, 10)
    return [
        {"id": "quote-1", "text": "\n".join(body(62, 6) + HUB), "date": "2015-11-15"},
        {"id": "hub", "text": "\n".join(HUB), "date": "2015-11-14"},
        {"id": "original", "text": "\n".join(original), "date": "2015-11-15"},
        {"id": "quote-2", "text": "\n".join(HUB + body(70, 6)), "date": "2015-11-16"},
        {"id": "cut", "text": "\n".join(edited(original[:6])), "date": "2015-11-16"},
        {"id": "excerpt", "text": "\n".join(edited(original[:5], 40)), "date": "2015-11-17"},
        {"id": "brief", "text": "\n".join([*HUB, body(80, 1)[0]]), "date": "2015-11-17"},
    ]


def shingle_sets(records):
    hasher = Hasher()
    return [hasher.shingles(tokenize(normalize_text(r["text"])), 5) for r in records]


def find(records, config=None):
    return NearDuplicateFinder(config).fit(
        shingle_sets(records),
        ids=[r["id"] for r in records],
        published=[None] * len(records),
        lengths=[len(r["text"]) for r in records],
    )


def named_groups(records, finder):
    return sorted(sorted(records[k]["id"] for k in g) for g in finder.groups_)


def test_the_corpus_holds_what_it_claims():
    sets = dict(zip([r["id"] for r in corpus()], shingle_sets(corpus()), strict=True))
    for quote in ("quote-1", "quote-2"):
        jaccard, contained = jaccard_containment(sets["hub"], sets[quote])
        assert jaccard < 0.5 and contained == 1.0
        assert len(sets["hub"]) < 0.5 * len(sets[quote])
    assert jaccard_containment(sets["quote-1"], sets["quote-2"])[1] < 0.5
    jaccard, contained = jaccard_containment(sets["cut"], sets["original"])
    assert jaccard < 0.5 and contained >= 0.8  # only the containment rule can find it
    assert len(sets["cut"]) >= 0.5 * len(sets["original"])
    jaccard, contained = jaccard_containment(sets["excerpt"], sets["original"])
    assert jaccard < 0.5 and contained >= 0.8 and len(sets["excerpt"]) < 0.5 * len(sets["original"])
    assert len(sets["hub"]) >= 0.5 * len(sets["brief"])


def test_a_short_text_does_not_chain_the_articles_quoting_it():
    records = corpus()
    # The hub joins the one article it is over half of, not the two it is a third of.
    assert named_groups(records, find(records)) == [["brief", "hub"], ["cut", "original"]]
    # Without the floor the hub joins both quoting articles into one group (the old chaining).
    unbounded = find(records, NearDupConfig(min_size_ratio=0.0))
    assert ["brief", "hub", "quote-1", "quote-2"] in named_groups(records, unbounded)


def test_the_rule_is_symmetric_and_order_free():
    records = corpus()
    sets = shingle_sets(records)
    config = NearDupConfig()
    for a in sets:
        for b in sets:
            assert is_near_duplicate(a, b, config) == is_near_duplicate(b, a, config)
    backward = records[::-1]
    assert named_groups(backward, find(backward)) == named_groups(records, find(records))


def test_the_size_floor_is_a_checked_setting():
    with pytest.raises(ConfigError, match="'min_size_ratio' parameter of NearDupConfig"):
        NearDupConfig(min_size_ratio=1.5)


def duplicate_of(records):
    return {r["id"]: r["duplicate_of"] for r in records}


def test_the_command_line_floor(tmp_path):
    path = write_jsonl(tmp_path / "in.jsonl", corpus())
    default = duplicate_of(invoke("near", path))
    assert default == {
        "quote-1": None,
        "hub": None,
        "original": None,
        "quote-2": None,
        "cut": "original",
        "excerpt": None,
        "brief": "hub",
    }
    unbounded = duplicate_of(invoke("near", path, "--min-size-ratio", "0"))
    assert unbounded["quote-1"] == unbounded["quote-2"] == "hub"  # the earliest
    assert unbounded["excerpt"] == "original"


@pytest.mark.parametrize("split", [2, 4, 6])
def test_the_index_in_two_calls_matches_one_run(tmp_path, split):
    records = corpus()
    run = invoke("run", write_jsonl(tmp_path / "all.jsonl", records), "--format", "jsonl")
    index = tmp_path / "news.idx"
    invoke("index", "add", index, write_jsonl(tmp_path / "first.jsonl", records[:split]))
    invoke("index", "add", index, write_jsonl(tmp_path / "second.jsonl", records[split:]))
    exported = invoke("index", "export", index)
    assert duplicate_of(exported) == duplicate_of(run)
    assert duplicate_of(run)["quote-2"] is None and duplicate_of(run)["cut"] == "original"


def test_an_index_written_before_the_floor_keeps_its_rule(tmp_path):
    index = tmp_path / "old.idx"
    invoke("index", "add", index, write_jsonl(tmp_path / "first.jsonl", corpus()[:2]))
    with sqlite3.connect(index) as conn:  # drop the setting, as an older dedup wrote it
        (stored,) = conn.execute("SELECT value FROM meta WHERE key = 'config'").fetchone()
        settings = json.loads(stored)
        assert settings["neardup"].pop("min_size_ratio") == 0.5
        conn.execute("UPDATE meta SET value = ? WHERE key = 'config'", (json.dumps(settings),))
    conn.close()
    (quote,) = invoke("index", "add", index, write_jsonl(tmp_path / "q.jsonl", corpus()[3:4]))
    assert quote["duplicate_of"] == "hub"  # built without the floor: the rule it was built with
