"""The index's per-article work that needs nothing from the index, optionally in worker processes.

Cleaning inside one article (:meth:`dedup.paragraphs.ParagraphCleaner.prepare`), the hash of
each paragraph, the article's shingles and its TF-IDF features depend on the article alone, so
they can be computed ahead, in parallel, while the index matches earlier articles. Only
boilerplate needs the index (the paragraph counts of the source, read in order): a draft is
made as if no paragraph were boilerplate, and the few articles that do lose a boilerplate
paragraph have their shingles and features made again (:meth:`Drafter.body`), so the result is
the same as working one article at a time, for any number of workers.
"""

from __future__ import annotations

import hashlib
import os
import threading
import time
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from itertools import islice

import numpy as np

from ..config import PipelineConfig
from ..normalize import normalize_text
from ..paragraphs import ParagraphCleaner, Paragraphs
from ..shingle import Hasher, shingle_hashes, tokenize
from ..types import Document
from .topics import feature_counts

CHUNK = 128  # articles per worker task
_TASKS_PER_WORKER = 2  # tasks in flight per worker at least

Article = tuple[str, str, str | None, str | None]  # id, text, title, source


@dataclass(slots=True)
class Draft:
    """What an article becomes before the index is consulted.

    Attributes:
        paragraphs: Its paragraphs after in-article cleaning (tokens and paragraph shingles
            dropped: only ``raw``, ``removed``, ``trimmed`` and token ``hashes`` are kept).
        paragraph_hashes: Kept paragraph with tokens -> 64-bit hash of its normalized tokens.
        title: Normalized title tokens.
        shingles: Sorted distinct shingle hashes of the kept text (uint64).
        features: Sorted distinct TF-IDF feature hashes (int64).
        counts: Count of each feature.
    """

    paragraphs: Paragraphs
    paragraph_hashes: dict[int, int]
    title: list[str]
    shingles: np.ndarray
    features: np.ndarray
    counts: np.ndarray


def paragraph_hash(tokens: list[str]) -> int:
    """A signed 64-bit hash of a paragraph's normalized tokens."""
    digest = hashlib.blake2b(" ".join(tokens).encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "little", signed=True)


class Drafter:
    """Makes drafts with the index's settings.

    Args:
        config: The index's settings.
        hasher: Token hasher (its cache is per process; hashes depend on the token alone).
    """

    def __init__(self, config: PipelineConfig, hasher: Hasher | None = None) -> None:
        self.config = config
        self.hasher = hasher if hasher is not None else Hasher()  # (an empty one is falsy)
        self.cleaner = ParagraphCleaner(config.paragraphs, norm=config.norm, hasher=self.hasher)

    def draft(self, article: Article) -> Draft:
        """Clean one article inside itself and compute its shingles and features."""
        doc_id, text, title, source = article
        paragraphs = self.cleaner.prepare(doc_id, text, title=title, source=source)
        rows, strings = paragraphs.tokens, self.hasher.tokens()
        hashes = {
            i: paragraph_hash([strings[row] for row in rows[i].tolist()])
            for i in paragraphs.kept()
            if len(rows[i])
        }
        paragraphs.tokens, paragraphs.shingles = [], []  # not needed any more: less to send
        paragraphs.rows, paragraphs.normal = paragraphs.rows[:0], None
        title_tokens = tokenize(normalize_text(title or "", self.config.norm))
        return Draft(paragraphs, hashes, title_tokens, *self.body(paragraphs, title_tokens))

    def body(
        self, paragraphs: Paragraphs, title: list[str]
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Shingles, features and feature counts of the paragraphs kept now."""
        kept = [paragraphs.hashes[i] for i in paragraphs.kept()]
        flat = np.concatenate(kept) if kept else np.zeros(0, dtype=np.uint64)
        shingles = shingle_hashes(
            flat, self.config.shingles.k, cap=self.config.shingles.max_shingles
        )
        features, counts = feature_counts(
            self.hasher, (), title, self.config.cluster.title_weight, body_hashes=flat
        )
        return shingles, features, counts


_worker: Drafter | None = None


def _start_worker(config: PipelineConfig, parent: int) -> None:
    """Give the worker its own drafter (and token hash cache) for all its tasks.

    The worker also watches its parent: a worker whose parent was killed (``kill -9`` during
    ``add``) would otherwise wait for work forever.
    """
    global _worker
    _worker = Drafter(config)
    threading.Thread(target=_exit_with, args=(parent,), daemon=True).start()


def _exit_with(parent: int) -> None:
    """End this process once ``parent`` is no longer its parent (checked every second)."""
    while os.getppid() == parent:
        time.sleep(1.0)
    os._exit(1)


def _draft_chunk(articles: list[Article]) -> list[Draft]:
    """Draft a chunk of articles (in a worker)."""
    assert _worker is not None  # noqa: S101 - set by the pool initializer
    return [_worker.draft(article) for article in articles]


def drafts(
    documents: Iterable[Document], drafter: Drafter, *, jobs: int, ahead: int = 0
) -> Iterator[tuple[Document, Draft]]:
    """Yield each document with its draft, in input order.

    Args:
        documents: Articles in order of arrival, read lazily.
        drafter: Drafts in this process when ``jobs`` is 1.
        jobs: Worker processes (1: none).
        ahead: Articles the workers may draft ahead of the caller (rounded up to whole chunks,
            at least two per worker): a caller that works on batches passes its batch size, so
            the workers draft the next batch while it adds this one.
    """
    stream = iter(documents)
    if jobs <= 1:
        for doc in stream:
            yield doc, drafter.draft(_article(doc))
        return
    start = (drafter.config, os.getpid())
    with ProcessPoolExecutor(jobs, initializer=_start_worker, initargs=start) as pool:
        pending: deque[tuple[list[Document], Future[list[Draft]]]] = deque()

        def submit() -> bool:
            chunk = list(islice(stream, CHUNK))
            if chunk:
                pending.append((chunk, pool.submit(_draft_chunk, [_article(d) for d in chunk])))
            return bool(chunk)

        tasks = max(jobs * _TASKS_PER_WORKER, -(-ahead // CHUNK))
        while len(pending) < tasks and submit():
            pass
        while pending:
            chunk, future = pending.popleft()
            submit()
            yield from zip(chunk, future.result(), strict=True)


def _article(doc: Document) -> Article:
    return doc.id, doc.text, doc.title, doc.source
