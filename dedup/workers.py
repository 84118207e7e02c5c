"""The paragraph stage's worker processes: tasks sent out, packed results back in order.

The work of a task is :func:`dedup.parallel.clean_task`; here is how tasks reach the
processes (their texts pickled as UTF-8 bytes) and when the processes start (before the input
is read, so they share none of it: :class:`ParagraphWorkers`).
"""

from __future__ import annotations

import copy
import functools
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from typing import TypeVar

from . import compiled as compiled_kernels
from .config import PipelineConfig
from .paragraphs import ParagraphCleaner
from .parallel import Article, PackedTask, Progress, clean_task, make_tasks
from .sentrows import SentRows

T = TypeVar("T")
_worker: tuple[ParagraphCleaner, PipelineConfig, bool, SentRows | None] | None = None


class _Task(list):  # type: ignore[type-arg]  # a list of Article
    """The articles of one task, pickled with their strings (texts, titles) as UTF-8 bytes.

    CPython's pickle encodes a str to UTF-8 through a cache kept inside the str for its
    whole life: sending the texts as they are to the workers would leave a UTF-8 copy of
    every text and title in this process (2.6 KB per news article, two thirds of its text).
    Encoding them here makes the same bytes, freed once sent; the worker decodes them as
    unpickling would have.
    """

    def __reduce__(self) -> tuple[Callable[..., list[Article]], tuple[list[tuple]]]:
        return _decoded, ([(a[0], *map(_utf8, a[1:])) for a in self],)


def _utf8(text: str | None) -> bytes | None:
    """``text`` as pickle writes it (UTF-8, lone surrogates passed through), or None."""
    return None if text is None else text.encode("utf-8", "surrogatepass")


def _text(data: bytes | None) -> str | None:
    """The string :func:`_utf8` encoded, or None."""
    return None if data is None else data.decode("utf-8", "surrogatepass")


def _decoded(rows: list[tuple]) -> list[Article]:
    """The articles of a :class:`_Task` as sent (in a worker)."""
    return [(row[0], *map(_text, row[1:])) for row in rows]  # type: ignore[misc]


def _init_worker(
    cleaner: ParagraphCleaner, config: PipelineConfig, names: bool, send_once: bool = False
) -> None:
    """Keep the worker's own cleaner (and its token hash cache) for all its tasks."""
    global _worker
    _worker = (cleaner, config, names, SentRows() if send_once else None)


def _run_task(articles: Sequence[Article], compiled: bool = False) -> PackedTask:
    """Run the paragraph stage on one task (in a worker; see :func:`clean_task`)."""
    assert _worker is not None  # noqa: S101 - set by the pool initializer
    cleaner, config, names, sent = _worker
    return clean_task(cleaner, config, articles, names, sent, compiled)


# An article that takes every step of a task: boilerplate, a glued repeat, names, shingles.
_WARM_UP_TEXT = "Hà Nội có mưa lớn. Hà Nội có mưa lớn.\n\nTin tức: Nguyễn Văn An nói 1,5 mm.\n\n"


def _warm_up() -> None:
    """Load numba and the paragraph stage's kernels (in a worker, waiting for its tasks).

    On a copy of the worker's cleaner, so nothing of the run's own state (tokens seen and
    sent, their hashes) is touched: the tasks' results are the same with or without it.
    """
    assert _worker is not None  # noqa: S101 - set by the pool initializer
    if not compiled_kernels.available():
        return
    cleaner, config, names, _ = _worker
    articles = [(n, f"w{n}", _WARM_UP_TEXT, "Hà Nội", "warm.up") for n in range(3)]
    clean_task(copy.deepcopy(cleaner), config, articles, names, None, compiled=True)


class ParagraphWorkers:
    """The paragraph stage's worker processes, started when entered (with ``config.jobs`` > 1).

    Enter it before the input is read: forked from a process that holds no article yet, the
    workers share none of the corpus with it. Forked later, every page of the corpus the
    main process writes afterwards (reference counts, the garbage collector's marks, texts
    freed as tasks end) is copied there while the workers keep the old page: at 1,000,000
    news articles each worker held 1.8 GB of such pages and shared 4.4 GB more with the main
    process. Results do not depend on when the workers start.

    Args:
        cleaner: The paragraph cleaner (copied into each worker).
        config: Settings (shingles and signatures; ``jobs`` worker processes, 1: this one).
        names: Also find each article's name sequences (see :func:`clean_task`).
        send_once: Each process sends each token's string once, in the first task that holds
            it (saves pickling and hashing it again); the results of one :meth:`clean` must
            then be read in order through one :class:`RowIds` (:func:`unpack`).
    """

    def __init__(
        self, cleaner: ParagraphCleaner, config: PipelineConfig, names: bool, send_once: bool
    ) -> None:
        self.cleaner, self.config, self.names, self.send_once = cleaner, config, names, send_once
        self._pool: ProcessPoolExecutor | None = None

    def __enter__(self) -> ParagraphWorkers:
        if self.config.jobs > 1:
            arguments = (self.cleaner, self.config, self.names, self.send_once)
            self._pool = ProcessPoolExecutor(
                self.config.jobs, initializer=_init_worker, initargs=arguments
            )
            self._pool.submit(int).result()  # starts the workers now (all of them, with fork)
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._pool is not None:
            self._pool.shutdown()
            self._pool = None

    def warmed_while_read(self, documents: Iterable[T]) -> Iterator[T]:
        """``documents``, passed on; the workers warm up once ``COMPILED_ARTICLES`` are read.

        A corpus that large (:data:`dedup.compiled.COMPILED_ARTICLES`) takes the compiled
        kernels, which each process loads in about half a second: the workers do so while this
        process still reads the input (:func:`_warm_up`), instead of on their first task.
        """
        for count, document in enumerate(documents, 1):
            if count == compiled_kernels.COMPILED_ARTICLES and self._pool is not None:
                for _ in range(self.config.jobs):
                    self._pool.submit(_warm_up)  # a failure would show again in a task
            yield document

    def clean(
        self, articles: Sequence[Article], progress: Progress | None = None
    ) -> Iterator[PackedTask]:
        """Yield the packed result of every task, in order (in the workers, once entered).

        Call it once per entry when ``send_once`` (the workers remember what they sent).

        Args:
            articles: ``(position, id, text, title, source)`` of each article.
            progress: Called as ``progress("paragraphs", done, total)`` after each task.
        """
        tasks = make_tasks(articles, self.cleaner.config.boilerplate_min_docs)
        # Whether the kernels load is each process' own check (in clean_task: the workers',
        # not this one's, which need not load numba to hand the tasks out).
        compiled = len(articles) >= compiled_kernels.COMPILED_ARTICLES
        if self._pool is None or len(tasks) <= 1:
            sent = SentRows() if self.send_once else None
            here = functools.partial(
                clean_task, self.cleaner, self.config, names=self.names, sent=sent,
                compiled=compiled,
            )  # fmt: skip
            results = map(here, _handed_out(tasks))  # map keeps no done task
        else:
            run = functools.partial(_run_task, compiled=compiled)
            results = self._pool.map(run, map(_Task, _handed_out(tasks)))
            if compiled:  # the later stages' kernels: numba started while the tasks run
                compiled_kernels.started()
        done = 0
        for packed in results:
            done += len(packed.positions)
            yield packed
            if progress:
                progress("paragraphs", done, len(articles))


def clean_corpus(
    cleaner: ParagraphCleaner,
    config: PipelineConfig,
    articles: Sequence[Article],
    *,
    progress: Progress | None = None,
    names: bool = False,
    send_once: bool = False,
) -> Iterator[PackedTask]:
    """Yield the packed result of every task, in ``config.jobs`` processes started now.

    See :class:`ParagraphWorkers` (whose :meth:`~ParagraphWorkers.clean` this is) for the
    arguments; start the workers before reading the input where memory matters.
    """
    with ParagraphWorkers(cleaner, config, names, send_once) as workers:
        yield from workers.clean(articles, progress)


def _handed_out(tasks: list[list[Article]]) -> Iterator[list[Article]]:
    """The tasks in order, each dropped from ``tasks`` as it is handed out.

    So nothing here holds a task's texts once it is done, and a caller that drops its own
    references as results come frees the texts during the stage
    (:func:`dedup.pipeline.clean_paragraphs` with ``drop_text``).
    """
    tasks.reverse()
    while tasks:
        yield tasks.pop()
