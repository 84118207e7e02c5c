"""The one orchestrator: read -> normalize -> paragraphs -> near-duplicates -> clusters.

``run`` takes documents (any iterable, consumed once) and returns a :class:`~dedup.types.Result`;
each command of the CLI is a slice of it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, NamedTuple

import numpy as np

from .cluster import EventStoryClusterer
from .config import PipelineConfig
from .errors import InputError
from .memory import (
    collections_of_new_objects,
    collector_held_off,
    fit_memory,
    release_freed_memory,
)
from .neardup import NearDuplicateFinder
from .paragraphs import ParagraphCleaner
from .parallel import Progress, kept_paragraphs, unpack
from .sentrows import RowIds
from .shingle import Hasher
from .tfidf import Vocabulary
from .types import (
    ArticleResult,
    CleanedDocument,
    Cluster,
    Document,
    DupGroup,
    Rejected,
    RemovedParagraph,
    Result,
)
from .workers import ParagraphWorkers


@dataclass(slots=True)
class _Timer:
    """Collects per-stage wall-clock seconds into ``stats``; reports stage ends to ``progress``.

    Each stage starts and ends by calling ``spare`` (see :func:`collections_of_new_objects`):
    what earlier stages keep is not walked by the collections of the next.
    """

    stats: dict[str, float]
    progress: Progress | None = None
    articles: int = 0
    spare: Callable[[], None] = lambda: None

    @contextmanager
    def stage(self, name: str, *, held_off: bool = True) -> Iterator[None]:
        """Time stage ``name``, with the garbage collector ``held_off`` (then what it kept spared).

        The stages make many objects and no reference cycle: collections would find nothing.
        """
        self.spare()
        start = time.perf_counter()
        if self.progress and self.articles:
            self.progress(name, 0, self.articles)
        with collector_held_off() if held_off else nullcontext():
            yield
            self.spare()
        self.stats[f"seconds_{name}"] = round(time.perf_counter() - start, 4)
        if self.progress and self.articles:
            self.progress(name, self.articles, self.articles)


_EMPTY = np.zeros(0, dtype=np.uint64)
_NO_FIELDS: Mapping[str, Any] = MappingProxyType({})
_NO_ARTICLE = (-1, "", "", None, None)  # an article whose task is done (texts dropped)
# Text dropped between two trims of the heap: at least 16M characters (about 32 MB), and at
# least an eighth of all text dropped so far. A trim walks the whole heap (measured at a million
# articles: 0.2-1.6 s each, 90 s in all for one every 16M characters), so the trims are spaced
# as the heap grows: about 30 at a million articles instead of 100. What is freed in between is
# reused by the stage's own small allocations.
_TRIM_CHARACTERS = 16_000_000
_TRIM_SHARE = 8


def _split_origin(origin: str) -> tuple[str, int]:
    """``"file:12"`` -> ``("file", 12)``."""
    path, _, line = origin.rpartition(":")
    return (path, int(line)) if line.isdigit() else (origin, 0)


def unique_documents(
    documents: Iterable[Document], config: PipelineConfig, rejected: list[Rejected]
) -> list[Document]:
    """Materialize ``documents``, rejecting (or failing on) a repeated id.

    The garbage collector is held off meanwhile: reading makes a few objects an article and
    no reference cycle, and the collections that set off walk every document read so far
    (200,000 news articles: read in 5.2 s instead of 6.6 s). The workers wait for the input.
    """
    seen: dict[str, str] = {}
    kept = []
    with collector_held_off():
        for doc in documents:
            if doc.id in seen:
                reason = f"duplicate id {doc.id!r} (first at {seen[doc.id]})"
                if config.on_error == "fail":
                    raise InputError(*_split_origin(doc.origin), reason)
                fields = doc.fields
                raw = fields.get("__raw__") if isinstance(fields.get("__raw__"), str) else None
                rejected.append(Rejected(doc.origin, reason, raw if raw is not None else doc.text))
                continue
            seen[doc.id] = doc.origin or "input"
            kept.append(doc)
    return kept


class CleanedCorpus(NamedTuple):
    """What the paragraph stage hands to the later stages, one entry per document.

    The kept paragraphs themselves are not held (as much memory again as the texts): they are
    cut again from a document's text when needed (:meth:`cleaned`).

    Attributes:
        removed: What was removed from each document, in paragraph order.
        cuts: Document position -> {paragraph index: text kept} for self-glued paragraphs.
        tokens: The normalized tokens of each cleaned text, as ids of the vocabulary (int32).
        names: The name sequences of each title and cleaned text, as ids of the vocabulary
            (int32; empty unless asked for).
        shingles: The shingle set of each cleaned text (sorted distinct uint64 hashes).
        lengths: Characters of each cleaned text, in NFC.
        titles: The normalized tokens of each title, joined by spaces (the paragraph stage's
            workers have them: taking them here costs the main process a split).
        signatures: ``(documents, num_perm)`` uint32 MinHash signatures of the shingle sets.
    """

    removed: list[tuple[RemovedParagraph, ...]]
    cuts: dict[int, dict[int, str]]
    tokens: list[np.ndarray]
    names: list[np.ndarray]
    shingles: list[np.ndarray]
    lengths: list[int]
    titles: list[str]
    signatures: np.ndarray

    def cleaned(self, position: int, doc: Document) -> CleanedDocument:
        """The cleaned document at ``position`` (``doc``, the document there)."""
        removed = self.removed[position]
        paragraphs = kept_paragraphs(doc.text, removed, self.cuts.get(position))
        return CleanedDocument(doc.id, paragraphs, removed)


def clean_paragraphs(
    docs: list[Document],
    config: PipelineConfig,
    hasher: Hasher,
    progress: Progress | None = None,
    vocabulary: Vocabulary | None = None,
    names: bool = False,
    drop_text: bool = False,
    workers: ParagraphWorkers | None = None,
) -> CleanedCorpus:
    """Run the paragraph stage (with each text's shingles and signature).

    The tokens of the kept text (and with ``names``, the name sequences of the title and the
    kept text, as clustering uses them) are ids of ``vocabulary`` (int32 arrays; a new
    vocabulary when None). The work runs in ``config.jobs`` processes; the result does not
    depend on it. With ``drop_text``, each document of ``docs`` is replaced by a copy without
    its text and input fields (:func:`_without_input`) as soon as its task is done, so the texts
    and what the stage finds are never all held at once (about 5 KB less per news article
    at the stage's end). ``workers``: the stage's processes, already entered (see
    :func:`paragraph_workers`, with the same ``names``); started here when None.
    """
    if workers is not None and workers.names != names:
        raise ValueError(f"names={names} but the workers were started with names={workers.names}")
    if workers is None:
        with paragraph_workers(config, hasher, names) as started:
            return clean_paragraphs(
                docs, config, hasher, progress, vocabulary, names, drop_text, started
            )
    vocabulary = vocabulary if vocabulary is not None else Vocabulary()
    articles = [(n, d.id, d.text, d.title, d.source) for n, d in enumerate(docs)]
    removed: list[tuple[RemovedParagraph, ...]] = [()] * len(docs)
    cuts: dict[int, dict[int, str]] = {}
    tokens: list[np.ndarray] = [np.zeros(0, dtype=np.int32)] * len(docs)
    name_ids: list[np.ndarray] = [np.zeros(0, dtype=np.int32)] * len(docs)
    shingle_sets: list[np.ndarray] = [_EMPTY] * len(docs)
    lengths = np.zeros(len(docs), dtype=np.int64)
    titles: list[str] = [""] * len(docs)
    signatures = np.empty((len(docs), config.shingles.num_perm), dtype=np.uint32)
    dropped = dropped_before = 0  # characters of text dropped since the last trim, before it
    row_ids = RowIds(vocabulary)  # each token's string comes once from each worker
    for packed in workers.clean(articles, progress):
        lengths[packed.positions] = packed.lengths
        signatures[packed.positions] = packed.signatures
        cuts.update(packed.cuts)
        for n, title in zip(packed.positions.tolist(), packed.titles, strict=True):
            titles[n] = title
        unpacked = unpack(packed, row_ids)
        for (n, kept, shingles, found), records in zip(unpacked, packed.records, strict=True):
            removed[n], tokens[n], name_ids[n], shingle_sets[n] = records, kept, found, shingles
        if drop_text:  # its task is done: nothing else holds these texts
            for n in packed.positions.tolist():
                dropped += len(docs[n].text)
                articles[n] = _NO_ARTICLE
                docs[n] = _without_input(docs[n])
            # Freed texts stay in the heap's pages until trimmed.
            if dropped > max(_TRIM_CHARACTERS, dropped_before // _TRIM_SHARE):
                release_freed_memory()
                dropped_before, dropped = dropped_before + dropped, 0
    return CleanedCorpus(
        removed, cuts, tokens, name_ids, shingle_sets, lengths.tolist(), titles, signatures
    )


def paragraph_workers(config: PipelineConfig, hasher: Hasher, names: bool) -> ParagraphWorkers:
    """The paragraph stage's worker processes (enter them to start them)."""
    cleaner = ParagraphCleaner(config.paragraphs, norm=config.norm, hasher=hasher)
    return ParagraphWorkers(cleaner, config, names, send_once=True)


def run(
    documents: Iterable[Document],
    config: PipelineConfig | None = None,
    *,
    rejected: Iterable[Rejected] = (),
    cluster: bool = True,
    progress: Progress | None = None,
    keep_input: bool = True,
) -> Result:
    """Run the whole pipeline.

    Args:
        documents: Articles in input order (ids must be unique; a repeat is an input error).
        config: Settings; the defaults when None.
        rejected: Records the reader skipped, carried into the result; read only once
            ``documents`` is consumed, so it may be the list a lazy reader is filling.
        cluster: Run the clustering stage; without it every article is its own event and
            story (``dedup near`` and ``dedup paragraphs`` skip it).
        progress: Called as ``progress(stage, done, total)`` during long stages (the CLI
            draws a progress line with it); nothing is reported when None.
        keep_input: Keep each document's text and input fields in the result. With False they
            are dropped as the paragraph stage finishes with them, task by task, so the texts
            and what the stage finds are never all held at once (``Result.documents`` hold
            empty ``text`` and ``fields``, ``ArticleResult.cleaned_text`` is empty; every other
            figure is the same), which saves about the size of the input in memory: for callers
            that write no text (the CLI's JSON and JSONL reports without ``--with-input`` or
            ``--with-text``).

    Returns:
        The result: one :class:`~dedup.types.ArticleResult` per document, in input order, and
        the groups, events and stories.

    Example:
        >>> import dedup
        >>> result = dedup.run([dedup.Document("a", "Một bài báo.")])
        >>> result.articles[0].event
        'e1'
    """
    # The garbage collector walks only what the current stage makes, not what earlier ones keep.
    with collections_of_new_objects() as spare:
        return _run(
            documents, config or PipelineConfig(), rejected, cluster, progress, keep_input, spare
        )


def _run(
    documents: Iterable[Document],
    config: PipelineConfig,
    rejected: Iterable[Rejected],
    cluster: bool,
    progress: Progress | None,
    keep_input: bool,
    spare: Callable[[], None],
) -> Result:
    """:func:`run`, calling ``spare`` as each stage starts and ends."""
    stats: dict[str, float] = {}
    timer = _Timer(stats, progress, spare=spare)
    repeated: list[Rejected] = []
    hasher = Hasher()
    # Started before the input is read, the workers share none of it with this process.
    with paragraph_workers(config, hasher, names=cluster) as workers:
        with timer.stage("read"):
            docs = unique_documents(workers.warmed_while_read(documents), config, repeated)
            fit_memory(sum(len(doc.text) for doc in docs))  # when the command line asks
        rejects = [*rejected, *repeated]  # read after the documents: a reader fills it
        timer.articles = len(docs)
        vocabulary = Vocabulary()  # tokens as ids: 4 bytes each, shared with clustering
        with timer.stage("paragraphs"):
            corpus = clean_paragraphs(
                docs,
                config,
                hasher,
                progress,
                vocabulary=vocabulary,
                names=cluster,
                drop_text=not keep_input,
                workers=workers,
            )
    with timer.stage("near_duplicates"):
        finder = NearDuplicateFinder(config.neardup, shingles=config.shingles).fit(
            corpus.shingles,
            ids=[d.id for d in docs],
            published=[d.published for d in docs],
            lengths=corpus.lengths,
            signatures=corpus.signatures,
        )
    # Its shingles and signatures (the largest arrays) are not needed past here.
    corpus = corpus._replace(shingles=[], lengths=[], signatures=corpus.signatures[:0].copy())
    release_freed_memory()
    canonicals = [i for i in range(len(docs)) if finder.canonical_[i] == i]
    # Held off through clustering, its forked workers ran far slower at 1M (1e971d6).
    with timer.stage("clustering", held_off=False):
        clusterer = EventStoryClusterer(config.cluster, jobs=config.jobs)
        if cluster:
            started = time.perf_counter()
            bodies = [corpus.tokens[i] for i in canonicals]
            names = [corpus.names[i] for i in canonicals]
            titles = [vocabulary.ids(corpus.titles[i].split()) for i in canonicals]
            corpus = corpus._replace(tokens=[], names=[], titles=[])
            matrix, terms = clusterer.features(
                bodies, titles=titles, names=names, vocabulary=vocabulary
            )
            del bodies, names, titles, vocabulary  # the tokens are in the matrix now
            release_freed_memory()
            stats["seconds_clustering_features"] = round(time.perf_counter() - started, 4)
            clusterer.fit_matrix(matrix, terms, published=[docs[i].published for i in canonicals])
            del matrix
            for part, seconds in clusterer.seconds_.items():
                stats[f"seconds_clustering_{part}"] = round(seconds, 4)
        else:
            corpus = corpus._replace(tokens=[], names=[], titles=[])  # no features to build
            clusterer.singletons(len(canonicals))
    # The records: for a million articles, tens of seconds of small objects (no cycle).
    with timer.stage("records"):
        position = {doc_index: row for row, doc_index in enumerate(canonicals)}
        event_of = [
            int(clusterer.event_labels_[position[finder.canonical_[i]]]) for i in range(len(docs))
        ]
        story_of = [
            int(clusterer.story_labels_[position[finder.canonical_[i]]]) for i in range(len(docs))
        ]
        events, stories = _clusters(docs, event_of, story_of, clusterer, position, config)
        del clusterer  # its TF-IDF matrix is not needed past the clusters' terms
        articles = tuple(
            ArticleResult(
                id=doc.id,
                duplicate_of=None if finder.canonical_[i] == i else docs[finder.canonical_[i]].id,
                similarity=finder.similarity_[i],
                event=f"e{event_of[i] + 1}",
                story=f"s{story_of[i] + 1}",
                removed=corpus.removed[i],
                cleaned_text=_cleaned_text(corpus, i, doc) if keep_input else "",
            )
            for i, doc in enumerate(docs)
        )
        groups = tuple(
            DupGroup(
                canonical=docs[finder.canonical_[g[0]]].id,
                members=tuple(docs[k].id for k in g),
                similarity={
                    docs[k].id: finder.similarity_[k] or 0.0 for k in g if finder.canonical_[k] != k
                },
            )
            for g in finder.groups_
        )
    stats.update(
        articles=len(docs),
        rejected=len(rejects),
        duplicates=sum(a.duplicate_of is not None for a in articles),
        duplicate_groups=len(groups),
        paragraphs_removed=sum(len(r) for r in corpus.removed),
        candidate_pairs=finder.n_candidates_,
        events=len(events),
        stories=len(stories),
    )
    return Result(tuple(docs), articles, groups, events, stories, tuple(rejects), stats)


def _cleaned_text(corpus: CleanedCorpus, position: int, doc: Document) -> str:
    """The cleaned text of ``doc``: its text itself (no second copy) when nothing was cut."""
    text = corpus.cleaned(position, doc).text
    return doc.text if text == doc.text else text


def _without_input(doc: Document) -> Document:
    """A copy of ``doc`` without its text and input fields."""
    return Document(
        doc.id, "", doc.title, doc.source, doc.published, doc.url, _NO_FIELDS, doc.origin
    )


def _clusters(
    docs: list[Document],
    event_of: list[int],
    story_of: list[int],
    clusterer: EventStoryClusterer,
    position: dict[int, int],
    config: PipelineConfig,
) -> tuple[tuple[Cluster, ...], tuple[Cluster, ...]]:
    """Build the event and story records (members in input order, terms from canonicals)."""

    def collect(labels: list[int]) -> list[list[int]]:
        groups: list[list[int]] = [[] for _ in range(max(labels, default=-1) + 1)]
        for i, label in enumerate(labels):
            groups[label].append(i)
        return groups

    def terms(members: list[list[int]]) -> list[tuple[str, ...]]:
        rows = [[position[i] for i in m if i in position] for m in members]
        return clusterer.cluster_terms(rows, config.cluster.top_terms)

    event_members, story_members = collect(event_of), collect(story_of)
    # One level after the other: each sums its clusters' rows on every core (dedup/terms.py).
    event_terms, story_terms = terms(event_members), terms(story_members)
    events = tuple(
        Cluster(f"e{e + 1}", tuple(docs[i].id for i in members), event_terms[e])
        for e, members in enumerate(event_members)
    )
    stories = tuple(
        Cluster(
            f"s{s + 1}",
            tuple(docs[i].id for i in members),
            story_terms[s],
            children=tuple(dict.fromkeys(f"e{event_of[i] + 1}" for i in members)),
        )
        for s, members in enumerate(story_members)
    )
    return events, stories
