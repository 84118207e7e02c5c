"""The persistent index as a user runs it: real files, real subprocesses, real data."""

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import SHARED_DATA, body

import dedup
from dedup.cli import cli
from dedup.index import ArticleIndex
from dedup.report.records import article_record
from dedup.types import Document

ROOT = Path(__file__).resolve().parent.parent
VIMS = SHARED_DATA / "vims.jsonl"


def write_jsonl(path, records):
    path.write_text(
        "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8"
    )
    return path


def invoke(*args):
    result = CliRunner().invoke(cli, [str(a) for a in args])
    assert result.exit_code == 0, result.output
    return [json.loads(line) for line in result.output.splitlines() if line.startswith("{")]


def groups(records):
    """Duplicate groups (sorted member lists) and the canonical of each article."""
    members = {}
    for r in records:
        members.setdefault(r["duplicate_of"] or r["id"], []).append(r["id"])
    canonical = {r["id"]: r["duplicate_of"] for r in records}
    return sorted(sorted(m) for m in members.values() if len(m) > 1), canonical


def vims_slice(count):
    if not VIMS.exists():
        pytest.skip("the shared ViMs corpus is not beside the project")
    lines = VIMS.read_text(encoding="utf-8").split("\n")[:count]
    return [json.loads(line) for line in lines]


def test_two_halves_give_the_groups_of_one_run_on_vims(tmp_path):
    records = vims_slice(200)
    whole = write_jsonl(tmp_path / "whole.jsonl", records)
    first = write_jsonl(tmp_path / "first.jsonl", records[:59])
    second = write_jsonl(tmp_path / "second.jsonl", records[59:])
    index = tmp_path / "news.idx"
    batch = invoke("run", whole, "--format", "jsonl")
    added = invoke("index", "add", index, first) + invoke("index", "add", index, second)
    exported = invoke("index", "export", index)
    batch_groups, batch_canonical = groups(batch)
    assert len(batch_groups) >= 10  # the slice holds real duplicates
    assert groups(exported) == (batch_groups, batch_canonical)
    assert [r["id"] for r in added] == [r["id"] for r in exported]
    assert [r["removed"] for r in exported] == [r["removed"] for r in batch]
    assert set(exported[0]) == {"id", "duplicate_of", "similarity", "event", "story", "removed"}
    # An article whose canonical arrived later points to it only in the export.
    assert any(a["duplicate_of"] != e["duplicate_of"] for a, e in zip(added, exported, strict=True))
    similarity = {r["id"]: r["similarity"] for r in batch}
    assert all(r["similarity"] == similarity[r["id"]] for r in exported)
    # Event and story ids given by the first call do not change (bar groups merged later).
    grouped = {i for g in batch_groups for i in g}
    stable = [(a["event"], a["story"]) for a in added if a["id"] not in grouped]
    assert stable == [(e["event"], e["story"]) for e in exported if e["id"] not in grouped]
    assert len({e["story"] for e in exported}) < len(exported) / 2  # stories gather articles


def test_seeds_in_two_calls_match_one_run(tmp_path, seeds_dir):
    index = tmp_path / "seeds.idx"
    files = sorted(seeds_dir.glob("*.txt"))
    for path in files[:2], files[2:]:
        invoke("index", "add", index, *path)
    exported = invoke("index", "export", index)
    assert groups(exported) == groups(invoke("run", *files, "--format", "jsonl"))
    assert len(exported) == 5


def bridge_corpus():
    """Two articles sharing half their paragraphs (not copies), then a third: a copy of each.

    ``a`` holds paragraphs 0-5, ``b`` 3-8 (Jaccard 0.30), ``c`` 1-7: Jaccard 0.64 with ``a``
    and 0.57 with ``b``.
    """
    return [
        {"id": "a", "text": "\n".join(body(0, 6)), "date": "2015-11-15"},
        {"id": "b", "text": "\n".join(body(3, 6)), "date": "2015-11-16"},
        {"id": "c", "text": "\n".join(body(1, 7)), "date": "2015-11-17"},
    ]


def test_an_article_joining_two_groups_merges_them(tmp_path):
    corpus = bridge_corpus()
    index = tmp_path / "bridge.idx"
    first = invoke("index", "add", index, write_jsonl(tmp_path / "ab.jsonl", corpus[:2]))
    assert [r["duplicate_of"] for r in first] == [None, None]
    (third,) = invoke("index", "add", index, write_jsonl(tmp_path / "c.jsonl", corpus[2:]))
    assert third["duplicate_of"] == "a" and third["similarity"] == 0.8798  # containment
    exported = invoke("index", "export", index)
    assert [r["duplicate_of"] for r in exported] == [None, "a", "a"]
    assert len({(r["event"], r["story"]) for r in exported}) == 1
    assert exported[:1] == first[:1]  # the canonical's ids did not change
    run = invoke("run", write_jsonl(tmp_path / "abc.jsonl", corpus), "--format", "jsonl")
    assert groups(exported) == groups(run)


def test_query_matches_without_adding(tmp_path):
    corpus = bridge_corpus()
    index = tmp_path / "q.idx"
    invoke("index", "add", index, write_jsonl(tmp_path / "ab.jsonl", corpus[:2]))
    before = invoke("index", "export", index)
    (matched,) = invoke("index", "query", index, write_jsonl(tmp_path / "c.jsonl", corpus[2:]))
    assert matched["duplicate_of"] == "a"
    assert invoke("index", "export", index) == before
    (added,) = invoke("index", "add", index, tmp_path / "c.jsonl")
    assert added == matched


def test_related_article_joins_the_event_and_unrelated_founds_one(tmp_path):
    text = body(0, 8)
    corpus = [
        {"id": "x", "title": "Nga và Mỹ hợp tác chống IS", "text": "\n".join(text)},
        {
            "id": "y",
            "title": "Nga và Mỹ hợp tác chống IS",
            "text": "\n".join(text[:4] + body(40, 2)),
        },
        {"id": "z", "title": "Giá vàng hôm nay", "text": "Giá vàng trong nước tăng mạnh sáng nay."},
    ]
    index = tmp_path / "topics.idx"
    x, y, z = (
        invoke("index", "add", index, write_jsonl(tmp_path / f"{r['id']}.jsonl", [r]))[0]
        for r in corpus
    )
    assert y["duplicate_of"] is None
    assert (y["event"], y["story"]) == (x["event"], x["story"]) == ("e1", "s1")
    assert (z["event"], z["story"]) == ("e2", "s2")


def test_boilerplate_is_counted_per_source_across_calls(tmp_path):
    footer = "Ý kiến bạn đọc gửi về tòa soạn qua thư điện tử của báo"
    index = tmp_path / "bp.idx"
    records = []
    for n in range(4):
        article = {
            "id": f"a{n}",
            "source": "vnexpress.net",
            "text": "\n".join([*body(7 * n), footer]),
        }
        path = write_jsonl(tmp_path / f"a{n}.jsonl", [article])
        records += invoke("index", "add", index, path)
    removed = [[r["reason"] for r in record["removed"]] for record in records]
    assert removed == [[], [], ["boilerplate"], ["boilerplate"]]
    assert records[2]["removed"][0]["text"] == footer


def test_existing_id_fails_with_file_and_line(tmp_path):
    index = tmp_path / "ids.idx"
    path = write_jsonl(tmp_path / "in.jsonl", bridge_corpus()[:1])
    invoke("index", "add", index, path)
    result = CliRunner().invoke(cli, ["index", "add", str(index), str(path)])
    assert result.exit_code == 1
    assert result.output == f"Error: {path}:1: id 'a' is already in the index {index}\n"
    rejects = tmp_path / "rejects.jsonl"
    skipped = CliRunner().invoke(
        cli,
        ["index", "add", str(index), str(path), "--on-error", "skip", "--rejects", str(rejects)],
    )
    assert skipped.exit_code == 0
    assert json.loads(rejects.read_text(encoding="utf-8").splitlines()[0])["id"] == "a"


def test_bad_index_paths_and_settings_are_one_line_errors(tmp_path):
    runner = CliRunner()
    missing = runner.invoke(cli, ["index", "export", str(tmp_path / "none.idx")])
    assert missing.exit_code == 1
    assert missing.output.startswith(f"Error: {tmp_path / 'none.idx'}: no index here")
    not_index = tmp_path / "notes.txt"
    not_index.write_text("hello " * 500, encoding="utf-8")
    wrong = runner.invoke(cli, ["index", "stats", str(not_index)])
    assert wrong.exit_code == 1 and "not a dedup index" in wrong.output
    assert wrong.output.count("\n") == 1
    index = tmp_path / "cfg.idx"
    path = write_jsonl(tmp_path / "in.jsonl", bridge_corpus()[:1])
    invoke("index", "add", index, path, "--near-threshold", "0.7")
    other = write_jsonl(tmp_path / "other.jsonl", bridge_corpus()[1:2])
    changed = runner.invoke(
        cli, ["index", "add", str(index), str(other), "--near-threshold", "0.6"]
    )
    assert changed.exit_code == 1 and "built with other settings" in changed.output
    invoke("index", "add", index, other)  # no tuning option: the stored settings apply


def test_stats_reports_counts_and_consistency(tmp_path):
    index = tmp_path / "s.idx"
    invoke("index", "add", index, write_jsonl(tmp_path / "abc.jsonl", bridge_corpus()))
    result = CliRunner().invoke(cli, ["index", "stats", str(index), "--format", "json"])
    stats = json.loads(result.output)
    assert stats["articles"] == 3 and stats["duplicates"] == 2
    assert stats["duplicate_groups"] == 1 and stats["problems"] == []
    assert stats["config"]["neardup"]["threshold"] == 0.5


def count_rows(index):
    try:
        with sqlite3.connect(f"file:{index}?mode=ro", uri=True, timeout=1) as conn:
            return conn.execute("SELECT COUNT(*) FROM docs").fetchone()[0]
    except sqlite3.Error:
        return 0


def children(pid):
    """Processes whose parent is ``pid`` (from /proc), not counting zombies."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rpartition(")")[2].split()
        except OSError:  # ended meanwhile
            continue
        if fields[1] == str(pid) and fields[0] != "Z":
            found.append(int(stat.parent.name))
    return found


def alive(pid):
    try:
        return Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0] != "Z"
    except OSError:
        return False


@pytest.mark.parametrize("jobs", [1, 2])
def test_kill_9_during_add_leaves_a_consistent_index(tmp_path, jobs):
    records = vims_slice(300)
    path = write_jsonl(tmp_path / "vims.jsonl", records)
    index = tmp_path / "crash.idx"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    command = [sys.executable, "-m", "dedup", "index", "add", str(index), str(path)]
    process = subprocess.Popen(
        [*command, "--batch-size", "20", "--jobs", str(jobs), "-o", str(tmp_path / "out.jsonl")],
        env=env,
    )
    deadline = time.monotonic() + 120
    while count_rows(index) < 40 and time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.05)
    assert process.poll() is None, "add finished before it could be killed"
    workers = children(process.pid)
    assert len(workers) == (jobs if jobs > 1 else 0)
    process.send_signal(signal.SIGKILL)
    process.wait()
    deadline = time.monotonic() + 10
    while any(map(alive, workers)) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not any(map(alive, workers)), "workers outlived their killed parent"
    kept = count_rows(index)
    assert 40 <= kept < 300 and kept % 20 == 0  # whole batches only
    with ArticleIndex.open(index) as store:
        assert store.stats()["problems"] == []
        assert len(list(store.export())) == kept
    # Resume: the articles already in are skipped, the rest added; the groups are whole.
    rejects = tmp_path / "rejects.jsonl"
    subprocess.run(
        [*command, "--on-error", "skip", "--rejects", str(rejects), "-o", os.devnull],
        env=env,
        check=True,
    )
    assert len(rejects.read_text(encoding="utf-8").splitlines()) == kept
    exported = invoke("index", "export", index)
    assert groups(exported) == groups(invoke("run", path, "--format", "jsonl"))


def table_rows(index):
    """Every row of every table of an index, in a fixed order."""
    with sqlite3.connect(index) as conn:
        tables = [t for (t,) in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        return {t: conn.execute(f"SELECT * FROM {t} ORDER BY 1, 2").fetchall() for t in tables}  # noqa: S608


def with_footers(records):
    """Three sources, half the articles with their source's footer (boilerplate to find)."""
    for n, record in enumerate(records):
        record["source"] = f"site{n % 3}.vn"
        if n % 2:
            record["text"] += f"\nBản quyền thuộc về trang tin site{n % 3} xin ghi rõ nguồn"
    return records


def test_batch_size_changes_nothing_but_the_transactions(tmp_path):
    """One article per transaction, uneven batches and one batch build the same index.

    A batch keeps paragraph counts, document frequencies and counters in memory and writes them
    at its end, so later articles of a batch must see what earlier ones changed.
    """
    records = with_footers(vims_slice(120))
    docs = list(dedup.read([write_jsonl(tmp_path / "in.jsonl", records)]))
    built = {}
    for size in (1, 7, 1000):
        index = tmp_path / f"b{size}.idx"
        with ArticleIndex(index) as store:
            added = list(store.add(docs, batch_size=size))
            built[size] = (added, list(store.export()), table_rows(index))
    assert built[1] == built[7] == built[1000]
    added, _, tables = built[1]
    assert any(a.duplicate_of for a in added) and len({a.story for a in added}) > 1
    assert any(r.reason == "boilerplate" for a in added for r in a.removed)
    assert len(tables["doc_freq"]) > 1000 and tables["docs"][-1][1] == docs[-1].id


def test_query_of_a_batch_gives_the_records_add_gives(tmp_path):
    docs = list(dedup.read([write_jsonl(tmp_path / "in.jsonl", vims_slice(150))]))
    with ArticleIndex(tmp_path / "q.idx") as store:
        list(store.add(docs[:90], batch_size=40))
        before = table_rows(tmp_path / "q.idx")
        matched = store.query(docs[90:])
        assert table_rows(tmp_path / "q.idx") == before
        assert list(store.add(docs[90:], batch_size=25)) == matched
    assert any(m.duplicate_of for m in matched)


def test_worker_processes_build_the_same_index(tmp_path):
    """``--jobs 2`` drafts articles in two worker processes, chunks ahead: nothing changes."""
    path = write_jsonl(tmp_path / "in.jsonl", with_footers(vims_slice(400)))
    with ArticleIndex(tmp_path / "one.idx") as store:
        alone = list(store.add(dedup.read([path]), batch_size=150))
    added = invoke("index", "add", tmp_path / "two.idx", path, "--jobs", "2", "--batch-size", 150)
    assert added == [article_record(Document(a.id, ""), a) for a in alone]
    assert table_rows(tmp_path / "two.idx") == table_rows(tmp_path / "one.idx")
    assert any(r["reason"] == "boilerplate" for a in added for r in a["removed"])
