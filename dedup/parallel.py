"""Per-article work spread over worker processes, with results in input order.

Only work that depends on one article alone is spread (paragraph splitting, normalization,
tokens and paragraph shingles). Chunks have a fixed size and results come back in input order,
and every hash is a pure function of the text, so the output is byte-identical whatever the
number of workers.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor

from .paragraphs import ParagraphCleaner, Paragraphs

CHUNK = 256  # articles per task: large enough to amortize pickling, small for load balance

Article = tuple[str, str, str | None, str | None]  # id, text, title, source
Progress = Callable[[str, int, int], None]

_worker_cleaner: ParagraphCleaner | None = None


def _init_worker(cleaner: ParagraphCleaner) -> None:
    """Keep the worker's own cleaner (and its token hash cache) for all its tasks."""
    global _worker_cleaner
    _worker_cleaner = cleaner


def _prepare_chunk(articles: Sequence[Article]) -> list[Paragraphs]:
    """Prepare the paragraphs of a chunk of articles (in a worker)."""
    assert _worker_cleaner is not None  # noqa: S101 - set by the pool initializer
    return prepare_all(_worker_cleaner, articles)


def prepare_all(cleaner: ParagraphCleaner, articles: Sequence[Article]) -> list[Paragraphs]:
    """Prepare the paragraphs of each article in this process."""
    return [
        cleaner.prepare(doc_id, text, title=title, source=source)
        for doc_id, text, title, source in articles
    ]


def prepare_paragraphs(
    cleaner: ParagraphCleaner,
    articles: Sequence[Article],
    *,
    jobs: int,
    progress: Progress | None = None,
) -> Iterator[Paragraphs]:
    """Yield ``cleaner.prepare`` of every article, in input order, using ``jobs`` processes.

    Args:
        cleaner: The paragraph cleaner (copied into each worker).
        articles: ``(id, text, title, source)`` of each article.
        jobs: Worker processes (1: work in this process).
        progress: Called as ``progress("paragraphs", done, total)`` after each chunk.
    """
    chunks = [articles[i : i + CHUNK] for i in range(0, len(articles), CHUNK)]
    done = 0
    if jobs <= 1 or len(chunks) <= 1:
        results: Iterator[list[Paragraphs]] = (prepare_all(cleaner, c) for c in chunks)
        for prepared in results:
            done += len(prepared)
            yield from prepared
            if progress:
                progress("paragraphs", done, len(articles))
        return
    with ProcessPoolExecutor(jobs, initializer=_init_worker, initargs=(cleaner,)) as pool:
        for prepared in pool.map(_prepare_chunk, chunks):
            done += len(prepared)
            yield from prepared
            if progress:
                progress("paragraphs", done, len(articles))
