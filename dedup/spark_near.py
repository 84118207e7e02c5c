"""The near-duplicate stage as a PySpark job (``dedup near --engine spark``).

The same stages as the local engine, as Spark transformations, with the same code for every
decision, so both engines give the same duplicate groups:

1. paragraphs: per-article cleaning in a map; per-source boilerplate in a group-by on the
   source, running :class:`~dedup.paragraphs.ParagraphCleaner` on each source's articles in
   input order (exactly what the local stage does per source);
2. shingles and MinHash signatures (:mod:`dedup.shingle`), one numpy pass per partition;
3. LSH: the band keys of :mod:`dedup.bands` (datasketch's band layout for the same threshold),
   grouped by key into candidate pairs; documents with identical shingle sets are paired too;
4. verification with :func:`dedup.neardup.is_near_duplicate`;
5. connected components by iterated minimum-label propagation;
6. the canonical of each group with :func:`dedup.neardup.canonical_key` and the similarity with
   :func:`dedup.neardup.similarity`.

Input: :func:`spark_near_files` reads JSON Lines files on the executors
(:mod:`dedup.spark_read`); :func:`spark_near_duplicates` takes documents the driver already holds
(any other input: standard input, folders, CSV). Results come back in input order.

Needs the optional extra: ``pip install 'dedup[spark]'`` (PySpark and a Java 17+ runtime).
"""

from __future__ import annotations

import itertools
import os
import sys
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any

import numpy as np

from .bands import band_keys, band_layout
from .config import PipelineConfig
from .errors import ConfigError
from .io.readers import FieldNames
from .neardup import canonical_key, is_near_duplicate, similarity
from .paragraphs import ParagraphCleaner
from .shingle import Hasher, Permutations, shingle_hashes
from .types import Document, Rejected

# (position, id, text, title, source, published)
_Record = tuple[int, str, str, str | None, str | None, datetime | None]
# (position, id, published, cleaned length, shingles)
_Shingled = tuple[int, str, datetime | None, int, np.ndarray]


def _clean(records: Iterable[_Record], config: PipelineConfig) -> Iterator[_Shingled]:
    """Clean articles (one source's, in input order, or sourceless ones) and shingle them."""
    hasher = Hasher()
    cleaner = ParagraphCleaner(config.paragraphs, norm=config.norm, hasher=hasher)
    records = sorted(records)
    prepared = [
        cleaner.prepare(doc_id, text, title=title, source=source)
        for _, doc_id, text, title, source, _ in records
    ]
    cleaner.mark_boilerplate(prepared)
    for (position, doc_id, _, _, _, published), doc in zip(records, prepared, strict=True):
        flat = hasher.hashes_of(doc.kept_rows(doc.kept()))
        shingles = shingle_hashes(flat, config.shingles.k, cap=config.shingles.max_shingles)
        yield position, doc_id, published, len(cleaner.result(doc).text), shingles


def _band_entries(
    docs: Iterable[_Shingled], config: PipelineConfig, bands: int, rows: int
) -> Iterator[tuple[Any, int]]:
    """``(bucket, position)`` for every LSH band and for the exact shingle set of each doc."""
    docs = [d for d in docs if len(d[4])]
    perms = Permutations(config.shingles.num_perm, config.shingles.seed)
    indexed = [d for d in docs if len(d[4]) >= config.neardup.min_shingles]
    keys = band_keys(perms.signatures([d[4] for d in indexed]), bands, rows)
    for doc, row in zip(indexed, keys, strict=True):
        for key in row.tolist():
            yield ("band", key), doc[0]
    for doc in docs:
        yield ("exact", doc[4].tobytes()), doc[0]


def _bucket_pairs(bucket: tuple[Any, Iterable[int]]) -> Iterator[tuple[int, int]]:
    """Candidate pairs ``(i, j)``, ``i < j``, of one bucket (a chain for exact duplicates)."""
    (kind, _), members = bucket
    positions = sorted(set(members))
    if kind == "exact":
        yield from itertools.pairwise(positions)
        return
    for a, i in enumerate(positions):
        for j in positions[a + 1 :]:
            yield i, j


def _components(edges: Any, n: int) -> Any:
    """Connected components of an RDD of edges: ``(node, smallest node of its component)``.

    Each round every node takes the smallest label among its own and its neighbours', so the
    number of rounds is the largest group's diameter (small for duplicate groups).
    """
    both = edges.flatMap(lambda e: [(e[0], e[1]), (e[1], e[0])]).partitionBy(n).cache()
    labels = both.reduceByKey(min, n).map(lambda kv: (kv[0], min(kv))).cache()
    while True:
        # (node, (neighbour, label of node)) -> the label proposed to the neighbour
        proposed = both.join(labels, n).map(lambda kv: kv[1]).reduceByKey(min, n)
        updated = (
            labels.leftOuterJoin(proposed, n)
            .mapValues(lambda pair: pair[0] if pair[1] is None else min(pair))
            .cache()
        )
        changed = updated.join(labels, n).filter(lambda kv: kv[1][0] != kv[1][1]).count()
        labels = updated
        if not changed:
            return labels


def _canonical(
    members: Iterable[_Shingled],
) -> Iterator[tuple[int, tuple[str, float]]]:
    """For one group: ``(position, (canonical id, similarity))`` of each non-canonical member."""
    group = list(members)
    canonical = min(group, key=lambda d: canonical_key(d[2], d[3], d[1]))
    for doc in group:
        if doc is not canonical:
            yield doc[0], (canonical[1], round(similarity(doc[4], canonical[4]), 4))


@contextmanager
def spark_context(master: str) -> Iterator[Any]:
    """A SparkContext for one job (stopped afterwards).

    Raises:
        ConfigError: When PySpark is not installed.
    """
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        raise ConfigError(
            "--engine spark needs PySpark: pip install 'dedup[spark]' (and Java 17 or newer)."
        ) from None
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    spark = (
        SparkSession.builder.master(master)
        .appName("dedup-near")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .getOrCreate()
    )
    spark.sparkContext.setLogLevel("ERROR")
    try:
        yield spark.sparkContext
    finally:
        spark.stop()


def spark_near_duplicates(
    documents: Sequence[Document],
    config: PipelineConfig | None = None,
    *,
    master: str = "local[*]",
    partitions: int | None = None,
) -> list[tuple[str, str | None, float | None]]:
    """Find near-duplicates with Spark, from documents the driver holds.

    Args:
        documents: Articles in input order (unique ids).
        config: Settings (the same as the local engine's); defaults when None.
        master: Spark master URL (``local[*]``: every core of this machine).
        partitions: Partitions of the input (default: Spark's default parallelism).

    Returns:
        ``(id, duplicate_of, similarity)`` per document, in input order, as the local engine
        gives them.

    Raises:
        ConfigError: When PySpark is not installed.
    """
    config = config or PipelineConfig()
    with spark_context(master) as sc:
        n = partitions or sc.defaultParallelism
        records: list[_Record] = [
            (i, d.id, d.text, d.title, d.source, d.published) for i, d in enumerate(documents)
        ]
        decided = near_duplicates_rdd(sc.parallelize(records, n), config, n).collectAsMap()
    return [(doc_id, *decided.get(i, (None, None))) for i, (_, doc_id, *_) in enumerate(records)]


def near_duplicates_rdd(records: Any, config: PipelineConfig, n: int) -> Any:
    """The job: an RDD of records -> ``(position, (canonical id, similarity))`` of duplicates.

    Args:
        records: RDD of ``(position, id, text, title, source, published)``; positions are
            comparable (input order) and unique.
        config: Settings.
        n: Partitions of every shuffle.
    """
    bands, rows = band_layout(config.neardup.lsh_threshold, config.shingles.num_perm)
    sourced = (
        records.filter(lambda r: r[4])
        .groupBy(lambda r: r[4], n)
        .flatMap(lambda group: _clean(group[1], config))
    )
    # Articles without a source are never compared for boilerplate: clean a partition at once.
    sourceless = records.filter(lambda r: not r[4]).mapPartitions(lambda part: _clean(part, config))
    shingled = sourced.union(sourceless).keyBy(lambda d: d[0]).partitionBy(n).cache()
    candidates = (
        shingled.values()
        .mapPartitions(lambda part: _band_entries(part, config, bands, rows))
        .groupByKey(n)
        .flatMap(_bucket_pairs)
        .distinct(n)
    )
    rules = config.neardup
    edges = (
        candidates.join(shingled, n)
        .map(lambda kv: (kv[1][0], (kv[0], kv[1][1][4])))
        .join(shingled, n)
        .filter(lambda kv: is_near_duplicate(kv[1][0][1], kv[1][1][4], rules))
        .map(lambda kv: (kv[1][0][0], kv[0]))
    )
    return (
        _components(edges, n)
        .join(shingled, n)
        .map(lambda kv: (kv[1][0], kv[1][1]))
        .groupByKey(n)
        .flatMap(lambda group: _canonical(group[1]))
    )


def spark_near_files(
    inputs: Sequence[str],
    config: PipelineConfig | None = None,
    *,
    fields: FieldNames | None = None,
    master: str = "local[*]",
    partitions: int | None = None,
    rejected: list[Rejected] | None = None,
) -> Iterator[tuple[str, str | None, float | None]]:
    """Find near-duplicates with Spark, reading JSON Lines files on the executors.

    The driver never holds the corpus: results stream back partition by partition.

    Args:
        inputs: ``.jsonl`` files (see :func:`dedup.spark_read.readable_on_executors`).
        config: Settings (``on_error`` included); defaults when None.
        fields: Names of the input fields.
        master: Spark master URL.
        partitions: Partitions of every shuffle (default: Spark's default parallelism).
        rejected: Receives the records skipped (``on_error="skip"``), in input order.

    Yields:
        ``(id, duplicate_of, similarity)`` per article, in input order.

    Raises:
        InputError: The first bad record or repeated id in input order (``on_error="fail"``).
    """
    from .spark_read import read_jsonl

    config = config or PipelineConfig()
    with spark_context(master) as sc:
        n = partitions or sc.defaultParallelism
        records, problems = read_jsonl(sc, inputs, fields or FieldNames(), config.on_error, n)
        if rejected is not None:
            rejected.extend(Rejected(origin, reason, raw) for origin, reason, raw in problems)
        records = records.cache()
        decided = near_duplicates_rdd(records, config, n)
        rows = (
            records.map(lambda r: (r[0], r[1]))
            .leftOuterJoin(decided, n)
            .sortByKey(numPartitions=n)
            .map(lambda kv: (kv[1][0], *(kv[1][1] or (None, None))))
        )
        yield from rows.toLocalIterator()
