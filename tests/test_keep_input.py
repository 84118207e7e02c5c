"""Dropping the texts once the paragraph stage is done (``keep_input=False``) saves memory and
changes no output that shows no text; the API keeps every text by default."""

from __future__ import annotations

import json
import pickle
import random
import subprocess
import sys
import tracemalloc
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from conftest import ROOT, body, dev_records

from dedup import api, pipeline
from dedup.config import PipelineConfig
from dedup.parallel import CHUNK
from dedup.report import iter_records, to_json, to_jsonl
from dedup.types import Document
from dedup.workers import _Task


def _dedup(*args: str) -> str:
    """Standard output of ``python -m dedup ARGS`` (this worktree's code)."""
    env_path = {"PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-m", "dedup", *args, "--quiet"],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
        env={**__import__("os").environ, **env_path},
    )
    return done.stdout


def _stable(result_stats: dict) -> dict:
    return {k: v for k, v in result_stats.items() if not k.startswith("seconds_")}


@pytest.fixture(scope="module")
def ktlab(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The first 200 KTLAB articles (outlets, dates, removed paragraphs) as a JSONL file."""
    path = tmp_path_factory.mktemp("ktlab") / "ktlab.jsonl"
    lines = (json.dumps(r, ensure_ascii=False) for r in dev_records("ktlab.jsonl", 200))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_result_without_input_differs_only_in_text_and_fields(ktlab: Path):
    full = api.run_files([ktlab])
    slim = api.run_files([ktlab], keep_input=False)
    assert any(a.removed for a in full.articles)  # the corpus exercises the paragraph stage
    assert all(d.text for d in full.documents) and all(d.fields for d in full.documents)
    assert all(d.text == "" and dict(d.fields) == {} for d in slim.documents)
    assert all(a.cleaned_text == "" for a in slim.articles)
    assert slim.documents == tuple(replace(d, text="", fields={}) for d in full.documents)
    assert slim.articles == tuple(replace(a, cleaned_text="") for a in full.articles)
    assert (slim.dup_groups, slim.events, slim.stories) == (
        full.dup_groups,
        full.events,
        full.stories,
    )
    assert _stable(slim.stats) == _stable(full.stats)
    assert to_json(slim) == to_json(full)
    assert to_jsonl(slim) == to_jsonl(full)


def test_cli_outputs_without_text_equal_the_full_result(ktlab: Path):
    full = api.run_files([ktlab])
    assert _dedup("run", str(ktlab), "--format", "json") == to_json(full)
    assert _dedup("run", str(ktlab), "--format", "jsonl") == to_jsonl(full)
    with_text = _dedup("run", str(ktlab), "--format", "jsonl", "--with-text")
    assert with_text == to_jsonl(full, with_text=True)
    records = [json.loads(line) for line in with_text.splitlines()]
    assert all(r["clean_text"] for r in records)
    assert [{k: v for k, v in r.items() if k != "clean_text"} for r in records] == list(
        iter_records(full)
    )
    with_input = _dedup("run", str(ktlab), "--format", "jsonl", "--with-input")
    assert with_input == to_jsonl(full, with_input=True)
    assert all(json.loads(line)["text"] for line in with_input.splitlines())
    cluster = _dedup("cluster", str(ktlab), "--format", "jsonl")
    expected = "".join(
        json.dumps({"id": a.id, "event": a.event, "story": a.story}, ensure_ascii=False) + "\n"
        for a in full.articles
    )
    assert cluster == expected


def test_api_keeps_texts_and_shares_unchanged_cleaned_text():
    paragraphs = body(3, 6)
    records = [
        {"id": "clean", "text": "\n".join(paragraphs)},
        {"id": "blank lines", "text": "\n\n".join(body(20, 6))},
        {"id": "repeat", "text": "\n".join([*body(40, 6), body(40, 1)[0]])},
    ]
    result = api.run(records)
    clean, spaced, repeat = zip(result.documents, result.articles, strict=True)
    assert [d.text for d, _ in (clean, spaced, repeat)] == [r["text"] for r in records]
    assert clean[1].cleaned_text is clean[0].text  # unchanged: no second copy
    assert spaced[1].cleaned_text == "\n".join(body(20, 6)) != spaced[0].text
    assert repeat[1].removed and repeat[1].cleaned_text == "\n".join(body(40, 6))


def _traced_drop(keep_input: bool, jobs: int) -> tuple[dict[int, int], list[int]]:
    """Traced bytes at each progress mark of the paragraph stage (articles done -> bytes,
    the stage's start at 0, from the end of the reading) and the characters of each text
    (made as they are read, so the pipeline holds the only copy)."""
    marks: dict[int, int] = {}
    sizes: list[int] = []

    def progress(stage: str, done: int, total: int) -> None:
        if stage == "paragraphs":
            marks.setdefault(done, tracemalloc.get_traced_memory()[0])

    def documents() -> Iterator[Document]:
        rng = random.Random(7)  # noqa: S311 - test data
        words = " ".join(body(0, 40)).split()
        for n in range(2 * CHUNK + 40):  # three tasks; about 6 KB each, ASCII only
            lines = (
                " ".join(f"{rng.choice(words)}{rng.randrange(10**6)}" for _ in range(40))
                for _ in range(15)
            )
            text = "\n".join(lines).encode("ascii", "ignore").decode()
            sizes.append(len(text))
            yield Document(f"d{n}", text)

    tracemalloc.start()
    try:
        steps = {"cluster": False, "progress": progress, "keep_input": keep_input}
        pipeline.run(documents(), PipelineConfig(jobs=jobs), **steps)
    finally:
        tracemalloc.stop()
    return marks, sizes


@pytest.mark.slow
@pytest.mark.parametrize("jobs", [1, 2])
def test_dropping_input_frees_each_text_once_its_task_is_done(jobs: int):
    dropped, sizes = _traced_drop(False, jobs)
    kept, _ = _traced_drop(True, jobs)
    assert sorted(dropped) == sorted(kept) == [0, CHUNK, 2 * CHUNK, len(sizes)]
    assert abs(dropped[0] - kept[0]) < 0.02 * sum(sizes)  # every text held at the start
    # One process runs the tasks in input order, so each mark follows one more task; with two,
    # results of later tasks may already wait in the parent at a mark (as many as the workers
    # finished), so only the stage's end compares like with like.
    marks = (CHUNK, 2 * CHUNK, len(sizes)) if jobs == 1 else (len(sizes),)
    for done in marks:
        assert kept[done] - dropped[done] >= 0.9 * sum(sizes[:done]) > 0


def test_tasks_reach_workers_unchanged_and_leave_no_utf8_copy():
    docs = [
        Document("tin-1", "\n".join(body(0, 5)), title="Tiêu đề một", source="a.vn"),
        Document("bài-2", "Lỗi \udcff giữ nguyên\n" + body(9, 1)[0], title=None, source=None),
    ]
    articles = [(n, d.id, d.text, d.title, d.source) for n, d in enumerate(docs)]
    assert pickle.loads(pickle.dumps(_Task(articles))) == articles  # noqa: S301 - our own bytes
    sizes = [sys.getsizeof(s) for d in docs for s in (d.id, d.text, d.title) if s]
    pickle.dumps(_Task(articles))
    assert [sys.getsizeof(s) for d in docs for s in (d.id, d.text, d.title) if s] == sizes
    pickle.dumps(articles)  # what a plain list does: the strings grow by their UTF-8 copy
    assert sum(sys.getsizeof(s) for d in docs for s in (d.id, d.text, d.title) if s) > sum(sizes)


def test_pipeline_with_workers_leaves_texts_as_read(ktlab: Path):
    docs = list(api.read([ktlab]))
    sizes = [sys.getsizeof(d.text) + sys.getsizeof(d.title) for d in docs]
    result = pipeline.run(docs, PipelineConfig(jobs=2))
    assert result.documents == tuple(docs)
    assert [sys.getsizeof(d.text) + sys.getsizeof(d.title) for d in docs] == sizes
