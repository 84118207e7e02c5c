"""The packed, source-grouped paragraph stage equals the plain whole-corpus one."""

import itertools
import multiprocessing
import pickle
import random

import numpy as np
import pytest
from conftest import body

import dedup.compiled
import dedup.parallel
import dedup.shingle
import dedup.workers
from dedup import compiled
from dedup.config import PipelineConfig
from dedup.features import name_sequences
from dedup.neardup import NearDuplicateFinder
from dedup.normalize import nfc, normalize_text
from dedup.paragraphs import ParagraphCleaner
from dedup.parallel import CHUNK, first_seen_ids, make_tasks
from dedup.pipeline import clean_paragraphs, paragraph_workers, run
from dedup.shingle import (
    Hasher,
    Permutations,
    _bucket_pairs,
    lsh_candidates,
    lsh_index,
    shingle_hashes,
    tokenize,
)
from dedup.tfidf import Vocabulary
from dedup.types import Document, RemovedParagraph


def corpus(n: int, seed: int = 3) -> list[Document]:
    """Articles of many sources (some large, some tiny, some none) with shared footers."""
    rng = random.Random(seed)  # noqa: S311 - a seeded test corpus
    docs = []
    for i in range(n):
        source = rng.choice([None, "tiny.vn", *(f"s{k}.vn" for k in range(6))])
        paragraphs = body(rng.randrange(60), rng.randint(2, 8))
        if rng.random() < 0.3:
            paragraphs.insert(1, paragraphs[0])  # a repeated lead
        if source and rng.random() < 0.8:
            paragraphs += [f"Theo {source} tổng hợp", "Ý kiến bạn đọc"]
        if rng.random() < 0.05:
            paragraphs.append(paragraphs[-1] + paragraphs[-1])  # self-glued
        docs.append(Document(f"d{i}", "\n".join(paragraphs), title=paragraphs[0], source=source))
    return docs


def test_tasks_hold_whole_sources_in_input_order():
    docs = corpus(2000)
    articles = [(n, d.id, d.text, d.title, d.source) for n, d in enumerate(docs)]
    tasks = make_tasks(articles, min_docs=3)
    assert sorted(a[0] for t in tasks for a in t) == list(range(len(docs)))
    for source in {d.source for d in docs if d.source}:
        holding = [t for t in tasks if any(a[4] == source for a in t)]
        if sum(d.source == source for d in docs) >= 3:
            assert len(holding) == 1
    for task in tasks:
        assert [a[0] for a in task] == sorted(a[0] for a in task)
        assert len(task) <= CHUNK or len({a[4] for a in task}) == 1
    assert len(tasks) > 2


@pytest.mark.parametrize("compiled_kernels", [False, True])
def test_packed_stage_equals_whole_corpus_cleaning(monkeypatch, compiled_kernels):
    if compiled_kernels and not compiled.available():
        pytest.skip("numba (the fast extra) is not installed")
    monkeypatch.setattr(dedup.compiled, "COMPILED_ARTICLES", 0 if compiled_kernels else 10**9)
    found_by = []  # the compiled flag of each call in this process (jobs=1)
    names_of = dedup.parallel.name_sequences_of_articles

    def spied(articles, config, *, compiled):
        found_by.append(compiled)
        return names_of(articles, config, compiled=compiled)

    monkeypatch.setattr(dedup.parallel, "name_sequences_of_articles", spied)
    docs = corpus(1500)
    config = PipelineConfig(jobs=2)
    cleaner = ParagraphCleaner(config.paragraphs, norm=config.norm)
    prepared = [cleaner.prepare(d.id, d.text, title=d.title, source=d.source) for d in docs]
    cleaner.mark_boilerplate(prepared)
    expected = [cleaner.result(p) for p in prepared]
    assert any(r.reason == "boilerplate" for c in expected for r in c.removed)
    k, cap = config.shingles.k, config.shingles.max_shingles
    expected_shingles = [
        shingle_hashes(
            np.concatenate([np.zeros(0, np.uint64), *(p.hashes[i] for i in p.kept())]), k, cap=cap
        )
        for p in prepared
    ]
    for jobs in (1, 2):
        config = PipelineConfig(jobs=jobs)
        vocabulary = Vocabulary()
        got = clean_paragraphs(docs, config, Hasher(), vocabulary=vocabulary, names=True)
        assert [got.cleaned(n, d) for n, d in enumerate(docs)] == expected
        strings = vocabulary.tokens()
        assert [strings[ids].tolist() for ids in got.names] == [
            name_sequences(d.title or "", config.norm) + name_sequences(c.text, config.norm)
            for d, c in zip(docs, expected, strict=True)
        ]
        assert any(len(ids) for ids in got.names)
        token_strings = cleaner.hasher.tokens()
        assert [strings[ids].tolist() for ids in got.tokens] == [
            [token_strings[t] for i in p.kept() for t in p.tokens[i].tolist()] for p in prepared
        ]
        assert all(ids.dtype == np.int32 for ids in got.tokens)
        assert all(
            np.array_equal(a, b) for a, b in zip(got.shingles, expected_shingles, strict=True)
        )
        assert got.lengths == [len(nfc(c.text)) for c in expected]
        assert got.titles == [
            " ".join(tokenize(normalize_text(d.title or "", config.norm))) for d in docs
        ]
        assert sum(bool(t) for t in got.titles) > len(docs) // 2
        perms = Permutations(config.shingles.num_perm, config.shingles.seed)
        assert np.array_equal(got.signatures, perms.signatures(expected_shingles))
    assert found_by and set(found_by) == {compiled_kernels}


def test_given_signatures_change_nothing():
    docs = corpus(600)
    got = clean_paragraphs(docs, PipelineConfig(), Hasher())
    fields = {"ids": [d.id for d in docs], "published": [None] * len(docs), "lengths": got.lengths}
    plain = NearDuplicateFinder().fit(got.shingles, **fields)
    given = NearDuplicateFinder().fit(got.shingles, signatures=got.signatures, **fields)
    assert plain.groups_ == given.groups_ and plain.groups_
    assert plain.n_candidates_ == given.n_candidates_


@pytest.mark.parametrize("threaded", [False, True])
@pytest.mark.parametrize("colliding", [False, True])
def test_lsh_candidates_are_datasketch_pairs(monkeypatch, colliding, threaded):
    monkeypatch.setattr(dedup.shingle, "_THREADED_SIGNATURES", 0 if threaded else 10**9)
    if colliding:  # band keys shared by different values: the values are sorted instead
        monkeypatch.setattr(dedup.shingle, "_band_keys", lambda v: v[:, 0].astype(np.uint64) % 3)
    rng = np.random.default_rng(0)
    bases = [np.unique(rng.integers(0, 2**64, 200, dtype=np.uint64)) for _ in range(300)]
    sets = []
    for _ in range(900):
        base = bases[rng.integers(0, len(bases))]
        kept = base[rng.random(len(base)) < rng.uniform(0.3, 1.0)]
        noise = rng.integers(0, 2**64, rng.integers(0, 150), dtype=np.uint64)
        sets.append(np.unique(np.concatenate([kept, noise])))
    perms = Permutations(128, seed=1)
    signatures = perms.signatures(sets)
    for threshold in (0.3, 0.5, 0.8):
        lsh = lsh_index(threshold, 128)
        expected = []
        for k in range(len(sets)):
            minhash = perms.lean_minhash(signatures[k])
            expected += [(other, k) for other in sorted(lsh.query(minhash))]
            lsh.insert(k, minhash)
        got = [tuple(pair) for pair in lsh_candidates(signatures, threshold).tolist()]
        assert got == expected and expected


def test_bucket_pairs_are_every_pair_within_each_bucket():
    rng = np.random.default_rng(4)
    order = rng.permutation(60)
    sizes = np.array([2, 5, 1, 9, 3])
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]]) + 7
    expected = [
        (order[start + a], order[start + b])
        for start, size in zip(starts.tolist(), sizes.tolist(), strict=True)
        for a, b in zip(*np.triu_indices(size, 1), strict=True)
    ]
    assert [tuple(p) for p in _bucket_pairs(order, starts, sizes).tolist()] == expected


@pytest.mark.parametrize("spread", [1, 100])  # codes close together, or far apart (sorted)
def test_first_seen_ids_number_as_a_dictionary_does(spread):
    rng = np.random.default_rng(spread)
    codes = rng.zipf(1.5, 5000).astype(np.int64) * spread
    numbering: dict[int, int] = {}
    expected = [numbering.setdefault(c, len(numbering)) for c in codes.tolist()]
    ids, distinct = first_seen_ids(codes, int(codes.max()) + 1)
    assert ids.dtype == np.int32
    assert ids.tolist() == expected
    assert distinct.tolist() == list(numbering)
    empty_ids, empty_distinct = first_seen_ids(codes[:0], 10)
    assert len(empty_ids) == len(empty_distinct) == 0


def test_token_rows_give_the_token_hashes():
    hasher = Hasher()
    tokens = ["tin", "mới", "tin", "nhất", "mới"]
    rows = hasher.token_ids(tokens)
    assert rows.tolist() == [0, 1, 0, 2, 1]
    assert len(hasher) == 3
    assert hasher.tokens() == ["tin", "mới", "nhất"]
    assert np.array_equal(hasher.hashes_of(rows), Hasher().token_hashes(tokens))


@pytest.mark.parametrize("jobs", [1, 2])
def test_workers_start_before_the_input_is_read(jobs):
    """Forked before any article is read, the workers share none of the corpus's pages."""
    children_at_first_read = []

    def documents():
        children_at_first_read.append(len(multiprocessing.active_children()))
        yield from corpus(600)

    result = run(documents(), PipelineConfig(jobs=jobs), cluster=False)
    assert children_at_first_read == [0 if jobs == 1 else 2]
    assert len(result.articles) == 600
    assert not multiprocessing.active_children()  # and they are gone after the stage


_WARM_UPS = []  # where the spied warm-up writes (set by the test before the workers fork)


def _spied_warm_up():
    """The workers' warm-up, noted in a file (the workers are other processes)."""
    dedup.workers.__dict__["_real_warm_up"]()
    with open(_WARM_UPS[0], "a") as notes:
        notes.write("warmed\n")


@pytest.mark.skipif(not compiled.available(), reason="numba (the fast extra) is not installed")
def test_workers_warm_up_while_the_input_is_read_and_that_changes_nothing(monkeypatch, tmp_path):
    notes = tmp_path / "warm-ups"
    _WARM_UPS[:] = [notes]
    monkeypatch.setattr(dedup.compiled, "COMPILED_ARTICLES", 100)
    monkeypatch.setitem(dedup.workers.__dict__, "_real_warm_up", dedup.workers._warm_up)
    monkeypatch.setattr(dedup.workers, "_warm_up", _spied_warm_up)
    docs = corpus(400)
    warmed = run(iter(docs), PipelineConfig(jobs=2))
    assert notes.read_text().splitlines() == ["warmed", "warmed"]  # one call per worker
    alone = run(iter(docs), PipelineConfig(jobs=1))  # no workers, no warm-up
    assert warmed.articles == alone.articles and warmed.stories == alone.stories
    assert notes.read_text().count("warmed") == 2


@pytest.mark.skipif(not compiled.available(), reason="numba (the fast extra) is not installed")
def test_a_warm_up_leaves_the_workers_state_as_it_was():
    config = PipelineConfig()
    docs = corpus(60)
    articles = [(n, d.id, d.text, d.title, d.source) for n, d in enumerate(docs)]

    def first_task(warm: bool):
        cleaner = ParagraphCleaner(config.paragraphs, norm=config.norm)
        dedup.workers._init_worker(cleaner, config, True, True)
        if warm:
            dedup.workers._warm_up()
            assert len(cleaner.hasher) == 0
        return pickle.dumps(dedup.workers._run_task(articles, compiled=True))

    try:
        assert first_task(warm=True) == first_task(warm=False)
    finally:
        dedup.workers._worker = None


def test_workers_started_without_names_are_not_silently_used_for_names():
    docs = corpus(20)
    config = PipelineConfig()
    with (
        paragraph_workers(config, Hasher(), names=False) as workers,
        pytest.raises(ValueError, match="names=True but the workers"),
    ):
        clean_paragraphs(docs, config, Hasher(), names=True, workers=workers)


def test_heap_trims_are_spaced_as_the_dropped_text_grows(monkeypatch):
    """Each trim walks the whole heap: after the first ones they come further and further apart."""
    import dedup.pipeline

    docs = corpus(3000)
    total = sum(len(d.text) for d in docs)
    trims: list[int] = []  # characters dropped (all tasks so far) at each trim
    dropped = [0]
    monkeypatch.setattr(dedup.pipeline, "_TRIM_CHARACTERS", total // 400)
    monkeypatch.setattr(dedup.pipeline, "release_freed_memory", lambda: trims.append(dropped[0]))
    without_input = dedup.pipeline._without_input

    def counted(doc):
        dropped[0] += len(doc.text)
        return without_input(doc)

    monkeypatch.setattr(dedup.pipeline, "_without_input", counted)
    clean_paragraphs(docs, PipelineConfig(jobs=1), Hasher(), drop_text=True)
    tasks = -(-len(docs) // CHUNK)
    assert 2 <= len(trims) < tasks
    for before, at in itertools.pairwise(trims):  # each gap is over an eighth of all before it
        assert at - before > before / 8


def test_removal_records_cross_to_the_main_process_unchanged():
    records = (
        RemovedParagraph(3, "boilerplate", "Theo VnExpress", "14 articles of vnexpress.net"),
        RemovedParagraph(0, "title-echo", "Ảnh: tiêu đề"),
    )
    copied = pickle.loads(pickle.dumps(records))  # noqa: S301 - our own bytes
    assert copied == records
    assert [type(r) for r in copied] == [RemovedParagraph, RemovedParagraph]
    assert copied[1].repeats == ""
    with pytest.raises(AttributeError):
        copied[0].text = "changed"  # still frozen


def odd_corpus(n: int, seed: int = 5) -> list[Document]:
    """Articles of real sentences made odd: decomposed, astral, lone surrogates, zero-width
    characters, embed codes, glued and echoed paragraphs, other scripts, Unicode line breaks."""
    import unicodedata

    rng = random.Random(seed)  # noqa: S311 - a seeded test corpus
    oddities = [
        lambda p: unicodedata.normalize("NFD", p),
        lambda p: p.replace(" ", " 𝐀𝐁c ", 1),
        lambda p: p[:9] + "\ud800" + p[9:],
        lambda p: p.replace(" ", "\u200b ", 2),
        lambda p: p + " [mecloud]OHzMHprpEs[/mecloud]",
        lambda p: p + " - Ảnh: Reuters" + p + " - Ảnh: Reuters",
        lambda p: p + " 日本語のテキスト، نص عربي Ελληνικά ΣΑΣ Straße",
        lambda p: p.replace(" ", "\u2028", 1),
        lambda p: p.upper(),
        lambda p: "",
    ]
    docs = []
    for i in range(n):
        paragraphs = [rng.choice(oddities)(p) for p in body(rng.randrange(60), rng.randint(1, 7))]
        title = paragraphs[0][:60] if rng.random() < 0.7 else None
        if title and rng.random() < 0.3:
            paragraphs.insert(1, f"{title} ảnh 1")  # an echo of the title
        source = rng.choice([None, "a.vn", "b.vn"])
        docs.append(Document(f"d{i}", "\n".join(paragraphs), title=title, source=source))
    return docs


@pytest.mark.skipif(not compiled.available(), reason="numba (the fast extra) is not installed")
def test_compiled_stage_equals_plain_on_odd_text(monkeypatch):
    docs = odd_corpus(600)
    found = []
    for threshold in (10**9, 0):  # the plain paths, then the compiled ones
        monkeypatch.setattr(dedup.compiled, "COMPILED_ARTICLES", threshold)
        vocabulary = Vocabulary()
        config = PipelineConfig(jobs=1)
        got = clean_paragraphs(docs, config, Hasher(), vocabulary=vocabulary, names=True)
        strings = vocabulary.tokens()
        found.append(
            (
                [got.cleaned(n, d) for n, d in enumerate(docs)],
                [strings[ids].tolist() for ids in got.tokens],
                [strings[ids].tolist() for ids in got.names],
                [s.tolist() for s in got.shingles],
                got.lengths,
                got.titles,
                got.signatures.tolist(),
            )
        )
    assert found[0] == found[1]
    cleaned = found[0][0]
    reasons = {r.reason for c in cleaned for r in c.removed}
    assert {"self-repeat", "title-echo", "boilerplate"} <= reasons
    assert any("𝐀𝐁c" in t for tokens in found[0][1] for t in tokens)
