"""The one orchestrator: read -> normalize -> paragraphs -> near-duplicates -> clusters.

``run`` takes documents (any iterable, consumed once) and returns a :class:`~dedup.types.Result`;
each command of the CLI is a slice of it.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np

from .cluster import EventStoryClusterer
from .config import PipelineConfig
from .errors import InputError
from .features import name_sequences
from .neardup import NearDuplicateFinder
from .normalize import nfc, normalize_text
from .paragraphs import ParagraphCleaner
from .parallel import Progress, prepare_paragraphs
from .shingle import Hasher, shingle_hashes, tokenize
from .tfidf import Vocabulary
from .types import ArticleResult, CleanedDocument, Cluster, Document, DupGroup, Rejected, Result


@dataclass(slots=True)
class _Timer:
    """Collects per-stage wall-clock seconds into ``stats``; reports stage ends to ``progress``."""

    stats: dict[str, float]
    progress: Progress | None = None
    articles: int = 0

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        start = time.perf_counter()
        if self.progress and self.articles:
            self.progress(name, 0, self.articles)
        yield
        self.stats[f"seconds_{name}"] = round(time.perf_counter() - start, 4)
        if self.progress and self.articles:
            self.progress(name, self.articles, self.articles)


_EMPTY = np.zeros(0, dtype=np.uint64)


def _split_origin(origin: str) -> tuple[str, int]:
    """``"file:12"`` -> ``("file", 12)``."""
    path, _, line = origin.rpartition(":")
    return (path, int(line)) if line.isdigit() else (origin, 0)


def unique_documents(
    documents: Iterable[Document], config: PipelineConfig, rejected: list[Rejected]
) -> list[Document]:
    """Materialize ``documents``, rejecting (or failing on) a repeated id."""
    seen: dict[str, str] = {}
    kept = []
    for doc in documents:
        if doc.id in seen:
            reason = f"duplicate id {doc.id!r} (first at {seen[doc.id]})"
            if config.on_error == "fail":
                raise InputError(*_split_origin(doc.origin), reason)
            raw = doc.fields.get("__raw__") if isinstance(doc.fields.get("__raw__"), str) else None
            rejected.append(Rejected(doc.origin, reason, raw if raw is not None else doc.text))
            continue
        seen[doc.id] = doc.origin or "input"
        kept.append(doc)
    return kept


def clean_paragraphs(
    docs: list[Document],
    config: PipelineConfig,
    hasher: Hasher,
    progress: Progress | None = None,
    vocabulary: Vocabulary | None = None,
) -> tuple[list[CleanedDocument], list[np.ndarray], list[np.ndarray]]:
    """Run the paragraph stage; return cleaned documents, their tokens and their shingles.

    The tokens of the kept text are ids of ``vocabulary`` (int32 arrays; a new vocabulary
    when None). The per-article part runs in ``config.jobs`` processes; the result does not
    depend on it.
    """
    cleaner = ParagraphCleaner(config.paragraphs, norm=config.norm, hasher=hasher)
    articles = [(d.id, d.text, d.title, d.source) for d in docs]
    prepared = list(prepare_paragraphs(cleaner, articles, jobs=config.jobs, progress=progress))
    cleaner.mark_boilerplate(prepared)
    vocabulary = vocabulary if vocabulary is not None else Vocabulary()
    tokens = [vocabulary.ids(t for i in p.kept() for t in p.tokens[i]) for p in prepared]
    # The shingles of the kept text, from the token hashes the paragraph stage already has.
    k, cap = config.shingles.k, config.shingles.max_shingles
    shingle_sets = [
        shingle_hashes(np.concatenate([_EMPTY, *(p.hashes[i] for i in p.kept())]), k, cap=cap)
        for p in prepared
    ]
    return [cleaner.result(p) for p in prepared], tokens, shingle_sets


def run(
    documents: Iterable[Document],
    config: PipelineConfig | None = None,
    *,
    rejected: Iterable[Rejected] = (),
    cluster: bool = True,
    progress: Progress | None = None,
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

    Returns:
        The result: one :class:`~dedup.types.ArticleResult` per document, in input order, and
        the groups, events and stories.

    Example:
        >>> import dedup
        >>> result = dedup.run([dedup.Document("a", "Một bài báo.")])
        >>> result.articles[0].event
        'e1'
    """
    config = config or PipelineConfig()
    stats: dict[str, float] = {}
    timer = _Timer(stats, progress)
    repeated: list[Rejected] = []
    with timer.stage("read"):
        docs = unique_documents(documents, config, repeated)
    rejects = [*rejected, *repeated]  # read after the documents: a reader fills it as it goes
    timer.articles = len(docs)
    hasher = Hasher()
    vocabulary = Vocabulary()  # tokens as ids: 4 bytes each, shared with clustering
    with timer.stage("paragraphs"):
        cleaned, tokens, shingle_sets = clean_paragraphs(
            docs, config, hasher, progress, vocabulary=vocabulary
        )
    with timer.stage("near_duplicates"):
        finder = NearDuplicateFinder(config.neardup, shingles=config.shingles).fit(
            shingle_sets,
            ids=[d.id for d in docs],
            published=[d.published for d in docs],
            lengths=[len(nfc(c.text)) for c in cleaned],  # NFD text is not longer
        )
    canonicals = [i for i in range(len(docs)) if finder.canonical_[i] == i]
    with timer.stage("clustering"):
        clusterer = EventStoryClusterer(config.cluster)
        if cluster:
            clusterer.fit(
                [tokens[i] for i in canonicals],
                titles=[
                    vocabulary.ids(tokenize(normalize_text(docs[i].title or "", config.norm)))
                    for i in canonicals
                ],
                published=[docs[i].published for i in canonicals],
                names=[
                    vocabulary.ids(
                        name_sequences(docs[i].title or "", config.norm)
                        + name_sequences(cleaned[i].text, config.norm)
                    )
                    for i in canonicals
                ],
                vocabulary=vocabulary,
            )
        else:
            clusterer.singletons(len(canonicals))
    position = {doc_index: row for row, doc_index in enumerate(canonicals)}
    event_of = [
        int(clusterer.event_labels_[position[finder.canonical_[i]]]) for i in range(len(docs))
    ]
    story_of = [
        int(clusterer.story_labels_[position[finder.canonical_[i]]]) for i in range(len(docs))
    ]
    events, stories = _clusters(docs, event_of, story_of, clusterer, position, config)
    articles = tuple(
        ArticleResult(
            id=doc.id,
            duplicate_of=None if finder.canonical_[i] == i else docs[finder.canonical_[i]].id,
            similarity=finder.similarity_[i],
            event=f"e{event_of[i] + 1}",
            story=f"s{story_of[i] + 1}",
            removed=cleaned[i].removed,
            cleaned_text=cleaned[i].text,
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
        paragraphs_removed=sum(len(c.removed) for c in cleaned),
        candidate_pairs=finder.n_candidates_,
        events=len(events),
        stories=len(stories),
    )
    return Result(tuple(docs), articles, groups, events, stories, tuple(rejects), stats)


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

    count = config.cluster.top_terms
    event_members, story_members = collect(event_of), collect(story_of)
    events = tuple(
        Cluster(
            f"e{e + 1}",
            tuple(docs[i].id for i in members),
            clusterer.top_terms([position[i] for i in members if i in position], count),
        )
        for e, members in enumerate(event_members)
    )
    stories = tuple(
        Cluster(
            f"s{s + 1}",
            tuple(docs[i].id for i in members),
            clusterer.top_terms([position[i] for i in members if i in position], count),
            children=tuple(dict.fromkeys(f"e{event_of[i] + 1}" for i in members)),
        )
        for s, members in enumerate(story_members)
    )
    return events, stories
