"""The paragraph stage spread over worker processes, with compact results in input order.

Boilerplate is found among the articles of one source, so a task holds whole sources (all of
their articles, in input order) and does the whole stage for them: paragraphs prepared,
boilerplate marked, then each article's kept tokens, shingles and MinHash signature. Articles
that can hold no boilerplate (no source, or a source with fewer than ``boilerplate_min_docs``
articles) fill tasks of ``CHUNK`` articles. A task returns numpy arrays and short lists
(:class:`PackedTask`), not per-paragraph Python objects, so little is pickled and the main
process holds only what later stages need. Every result depends on its article and its source
alone, so the output is byte-identical whatever the number of workers.
"""

from __future__ import annotations

import itertools
import os
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from . import compiled as compiled_kernels
from .config import PipelineConfig
from .features import name_sequences_of_articles
from .memory import collector_held_off
from .paragraphs import ParagraphCleaner, split_paragraphs
from .sentrows import RowIds, SentRows
from .shingle import Permutations, shingles_of_runs
from .tfidf import Vocabulary
from .types import RemovedParagraph

CHUNK = 256  # articles per task: large enough to amortize pickling, small for load balance

Article = tuple[int, str, str, str | None, str | None]  # position, id, text, title, source
Progress = Callable[[str, int, int], None]

_EMPTY = np.zeros(0, dtype=np.uint64)
_NO_CODES = np.zeros(0, dtype=np.int64)


@dataclass(slots=True)
class PackedTask:
    """What the paragraph stage found for the articles of one task, in compact arrays.

    Attributes:
        positions: Input position of each article (ascending).
        records: Removal records of each article, in paragraph order.
        cuts: Position -> {paragraph index: text kept} for self-glued paragraphs kept cut.
        vocabulary: The distinct kept tokens and names of the task, in order of first sight;
            with :class:`SentRows`, only those its worker had not sent before.
        token_ids: Kept tokens of all articles, one after the other (indices into the task's
            distinct tokens and names).
        token_counts: Kept tokens of each article.
        names: Name-sequence features of the title and cleaned text of all articles, one
            after the other (indices into vocabulary; none unless asked for).
        name_counts: Name features of each article.
        shingles: Shingle sets of all articles, one after the other (sorted uint64 each).
        shingle_counts: Shingles of each article.
        lengths: Characters of each cleaned text (in NFC).
        titles: The normalized tokens of each title, joined by spaces (a token holds none).
        signatures: ``(articles, num_perm)`` uint32 MinHash signatures of the shingle sets.
        rows, fresh, worker: For :meth:`RowIds.ids`: each distinct token's and name's key
            (:class:`SentRows`), whether it is in ``vocabulary`` (both empty: all are), the
            process.
    """

    positions: np.ndarray
    records: list[tuple[RemovedParagraph, ...]]
    cuts: dict[int, dict[int, str]]
    vocabulary: list[str]
    token_ids: np.ndarray
    token_counts: np.ndarray
    names: np.ndarray
    name_counts: np.ndarray
    shingles: np.ndarray
    shingle_counts: np.ndarray
    lengths: np.ndarray
    titles: list[str]
    signatures: np.ndarray
    rows: np.ndarray
    fresh: np.ndarray
    worker: int


def clean_task(
    cleaner: ParagraphCleaner,
    config: PipelineConfig,
    articles: Sequence[Article],
    names: bool = False,
    sent: SentRows | None = None,
    compiled: bool = False,
) -> PackedTask:
    """Clean the articles of one task (whole sources) and pack what later stages need.

    With ``names``, also each article's name sequences
    (:func:`~dedup.features.name_sequences` of its title, then of its cleaned text). With
    ``compiled``, tokens and names are found by compiled kernels (the same ones) when this
    process can load them (numba installed). With ``sent`` (this process's, for the tasks of
    one run), a token or name sent before is given by its key alone (:class:`RowIds` reads it).
    """
    compiled = compiled and compiled_kernels.available()
    with collector_held_off():
        return _clean_task(cleaner, config, articles, names, sent, compiled)


def _clean_task(
    cleaner: ParagraphCleaner,
    config: PipelineConfig,
    articles: Sequence[Article],
    names: bool,
    sent: SentRows | None,
    compiled: bool,
) -> PackedTask:
    """:func:`clean_task` (with the garbage collector held off)."""
    prepared = cleaner.prepare_many([article[1:] for article in articles], compiled=compiled)
    cleaner.mark_boilerplate(prepared, compiled=compiled)
    hasher = cleaner.hasher
    offset = len(hasher)  # the codes of name features follow the hasher's token rows
    name_codes: defaultdict[str, int] = defaultdict(itertools.count(offset).__next__)
    code = name_codes.__getitem__  # a name's code, numbering new ones (in C)
    token_rows: list[np.ndarray] = []  # per article: its kept tokens' rows
    counts, lengths, records, titles, texts = [], [], [], [], []
    cuts: dict[int, dict[int, str]] = {}
    k, cap = config.shingles.k, config.shingles.max_shingles
    for article, doc in zip(articles, prepared, strict=True):
        kept = doc.kept()
        token_rows.append(doc.kept_rows(kept))
        counts.append(len(token_rows[-1]))
        text = doc.nfc_text(kept)  # NFC: the names are found in it as it is
        lengths.append(len(text))
        if names:
            texts.append((article[3] or "", text))
        records.append(cleaner.removal_records(doc))
        titles.append(" ".join(doc.title))
        glued = {i: doc.raw[i] for i in doc.trimmed if i not in doc.removed}
        if glued:
            cuts[article[0]] = glued
    name_counts, pieces = [], token_rows  # per article its tokens' rows, then its names' codes
    if names:
        found = name_sequences_of_articles(texts, config.norm, compiled=compiled)
        name_counts = list(map(len, found))
        codes_of_names = [np.fromiter(map(code, f), np.int64, count=len(f)) for f in found]
        pieces = [p for pair in zip(token_rows, codes_of_names, strict=True) for p in pair]
    # Tokens and names numbered in order of first sight, as one dictionary would number them.
    codes = np.concatenate([_NO_CODES, *pieces])
    ids, distinct = first_seen_ids(codes, offset + len(name_codes))
    rows, fresh = _NO_CODES, np.zeros(0, dtype=bool)
    found_names = list(name_codes)
    if sent is not None:  # each string crosses once per process (dedup/sentrows.py)
        rows = distinct.copy()
        names_at = np.flatnonzero(distinct >= offset)
        rows[names_at] = sent.name_keys([found_names[c] for c in (distinct[names_at] - offset)])
        fresh = sent.fresh(rows)
        distinct = distinct[fresh]
    vocabulary = _strings(distinct, hasher.tokens(), found_names)
    is_name = codes >= offset
    # Every article's shingles in one numpy pass (no window crosses articles).
    runs = np.array(counts, dtype=np.int64)
    flat = hasher.hashes_of(codes[~is_name])
    shingle_sets = [s[:cap] for s in shingles_of_runs(flat, runs, k, compiled=compiled)]
    signatures = Permutations.cached(config.shingles.num_perm, config.shingles.seed).signatures(
        shingle_sets, compiled=compiled
    )
    return PackedTask(
        positions=np.array([a[0] for a in articles], dtype=np.int64),
        records=records,
        cuts=cuts,
        vocabulary=vocabulary,
        token_ids=ids[~is_name],
        token_counts=runs,
        names=ids[is_name],
        name_counts=np.array(name_counts or [0] * len(articles), dtype=np.int64),
        shingles=np.concatenate([_EMPTY, *shingle_sets]),
        shingle_counts=np.array([len(s) for s in shingle_sets], dtype=np.int64),
        lengths=np.array(lengths, dtype=np.int64),
        titles=titles,
        signatures=signatures,
        rows=rows,
        fresh=fresh,
        worker=os.getpid(),
    )


def _strings(codes: np.ndarray, tokens: list[str], names: list[str]) -> list[str]:
    """The string of each code: a hasher row (below ``len(tokens)``) or a name's code after."""
    # Every code read as a row (a name's code as the last row), then the names put in place.
    rows = np.minimum(codes, len(tokens) - 1).tolist()
    strings = list(map(tokens.__getitem__, rows)) if tokens else [""] * len(codes)
    at = np.flatnonzero(codes >= len(tokens))
    for i, name in zip(at.tolist(), (codes[at] - len(tokens)).tolist(), strict=True):
        strings[i] = names[name]
    return strings


def first_seen_ids(codes: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
    """Number the distinct ``codes`` in order of first sight, as a dictionary filled in order would.

    Args:
        codes: Non-negative int64 codes, each less than ``size``.
        size: A bound on the codes.

    Returns:
        The number of each code (int32; 0, 1, ... in order of first sight), and the distinct
        codes in that order.
    """
    n = len(codes)
    if size > 8 * n + 1024:  # codes spread far apart: rank them by sorting instead
        distinct, first, inverse = np.unique(codes, return_index=True, return_inverse=True)
        order = np.argsort(first)
        number = np.empty(len(distinct), dtype=np.int32)
        number[order] = np.arange(len(distinct), dtype=np.int32)
        return number[inverse], distinct[order]
    first = np.full(size, n, dtype=np.int64)
    np.minimum.at(first, codes, np.arange(n))
    sightings = np.flatnonzero(first[codes] == np.arange(n))  # ascending: order of first sight
    number = np.empty(size, dtype=np.int32)
    number[codes[sightings]] = np.arange(len(sightings), dtype=np.int32)
    return number[codes], codes[sightings]


def make_tasks(articles: Sequence[Article], min_docs: int) -> list[list[Article]]:
    """Group articles into tasks: whole sources that can hold boilerplate, then the rest.

    Sources are packed, in order of first appearance, into tasks of at most ``CHUNK``
    articles (a larger source is one task of its own); the other articles fill tasks of
    ``CHUNK`` in input order. Articles keep input order inside a task. Largest tasks first,
    so a big source does not finish last.
    """
    by_source: dict[str, list[Article]] = defaultdict(list)
    for article in articles:
        if article[4]:
            by_source[article[4]].append(article)
    grouped = {s for s, members in by_source.items() if len(members) >= min_docs}
    tasks: list[list[Article]] = []
    current: list[Article] = []
    for source in by_source:
        if source in grouped:
            if current and len(current) + len(by_source[source]) > CHUNK:
                tasks.append(sorted(current))
                current = []
            current.extend(by_source[source])
    if current:
        tasks.append(sorted(current))
    rest = [a for a in articles if a[4] not in grouped]
    tasks += [rest[i : i + CHUNK] for i in range(0, len(rest), CHUNK)]
    tasks.sort(key=len, reverse=True)  # stable: equal sizes keep their order
    return tasks


def unpack(
    packed: PackedTask, vocabulary: Vocabulary | RowIds
) -> Iterator[tuple[int, np.ndarray, np.ndarray, np.ndarray]]:
    """Per article of a task: position, kept token ids, shingle set, name feature ids.

    The task's tokens and names are renumbered as ids of ``vocabulary`` (int32, shared by
    all tasks; a :class:`RowIds` of it for the tasks of :mod:`dedup.workers` with
    ``send_once``, read in order); the names are empty unless the task found them.
    """
    row_ids = vocabulary if isinstance(vocabulary, RowIds) else RowIds(vocabulary)
    global_ids = row_ids.ids(packed.vocabulary, packed.rows, packed.fresh, packed.worker)
    tokens = global_ids[packed.token_ids] if len(global_ids) else packed.token_ids.astype(np.int32)
    names = global_ids[packed.names] if len(global_ids) else packed.names.astype(np.int32)
    token_ends = np.cumsum(packed.token_counts).tolist()
    name_ends = np.cumsum(packed.name_counts).tolist()
    shingle_ends = np.cumsum(packed.shingle_counts).tolist()
    token = name = shingle = 0
    for n, position in enumerate(packed.positions.tolist()):
        kept_tokens = tokens[token : token_ends[n]]
        kept_names = names[name : name_ends[n]]
        shingles = packed.shingles[shingle : shingle_ends[n]]
        token, name, shingle = token_ends[n], name_ends[n], shingle_ends[n]
        yield position, kept_tokens, shingles, kept_names


def kept_paragraphs(
    text: str, removed: Sequence[RemovedParagraph], cuts: dict[int, str] | None = None
) -> tuple[str, ...]:
    """The paragraphs of ``text`` the paragraph stage kept, as given.

    Cut again from the article's text (which costs less than keeping or sending them): its
    paragraphs, less those removed whole, with a self-glued paragraph replaced by the text
    kept of it (``cuts``: paragraph index -> text kept, from :class:`PackedTask`).
    """
    raw = split_paragraphs(text)
    for i, kept in (cuts or {}).items():
        raw[i] = kept
    whole = {r.paragraph for r in removed if r.reason != "self-repeat"}
    return tuple(p for i, p in enumerate(raw) if i not in whole)
