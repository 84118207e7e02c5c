"""A persistent, incremental index of articles: add, query, export, stats.

Each added article goes through the batch stages in the same order, against what the index
already holds:

1. paragraphs: :class:`~dedup.index.cleaning.IncrementalCleaner`;
2. near-duplicates: shingles and MinHash signatures as in :mod:`dedup.neardup`, candidates from
   LSH band tables (band key -> document, a B-tree index, the band layout of datasketch's
   ``MinHashLSH``), every candidate verified with the batch rule
   (:func:`~dedup.neardup.is_near_duplicate`: Jaccard, or containment of a truncated copy),
   groups joined (union-find kept in the ``docs.grp`` column), canonical = earliest, then
   longest, then smallest id;
3. events and stories: :class:`~dedup.index.topics.TopicAssigner` for an article that founds a
   group; a duplicate takes its group's event and story.

Since verified pairs and connected components do not depend on the order articles arrive in,
an index filled in several calls holds the same duplicate groups as one batch run over the
same cleaned texts. One transaction per batch of ``batch_size`` articles: a crash loses the
batch being written, never part of an article.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Iterable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np

from ..bands import band_keys, band_layout
from ..config import PipelineConfig
from ..errors import InputError
from ..neardup import canonical_key, is_near_duplicate, similarity
from ..shingle import Hasher, Permutations
from ..types import ArticleResult, CleanedDocument, Document, Rejected, RemovedParagraph
from .cleaning import IncrementalCleaner
from .prepare import Draft, Drafter, drafts
from .store import IndexFileError, connect, problems, settle_config, uint64s
from .topics import TopicAssigner

# An article ready to match: cleaned, its shingles, its TF-IDF features and their counts.
_Prepared = tuple[Document, CleanedDocument, np.ndarray, np.ndarray, np.ndarray]


def _exact_key(shingles: np.ndarray) -> int:
    """A signed 64-bit hash of a whole shingle set (exact duplicates share it)."""
    digest = hashlib.blake2b(shingles.astype("<u8").tobytes(), digest_size=8).digest()
    return int.from_bytes(digest, "little", signed=True)


def _removed_json(removed: tuple[RemovedParagraph, ...]) -> str:
    return json.dumps(
        [{"paragraph": r.paragraph, "reason": r.reason, "text": r.text} for r in removed],
        ensure_ascii=False,
    )


def _removed_from_json(text: str) -> tuple[RemovedParagraph, ...]:
    return tuple(RemovedParagraph(r["paragraph"], r["reason"], r["text"]) for r in json.loads(text))


class ArticleIndex:
    """A dedup index stored in one SQLite file.

    Args:
        path: The index file (created when missing).
        config: Settings for a new index; for an existing one, None or the same settings.
        on_error: ``"fail"`` (an id already in the index is an input error) or ``"skip"``
            (such articles are left out and reported in ``rejected``).
        jobs: Worker processes that clean and shingle articles ahead of the matching (1: none;
            the index and the records are the same for any number).

    Raises:
        ConfigError: When ``config`` differs from the settings the index was built with.
        IndexFileError: When ``path`` is not a dedup index.
    """

    def __init__(
        self,
        path: str | Path,
        config: PipelineConfig | None = None,
        *,
        on_error: str = "fail",
        jobs: int = 1,
    ) -> None:
        self.path = Path(path)
        self.conn = connect(self.path, create=True)
        self.config = settle_config(self.conn, self.path, config, on_error)
        self.hasher = Hasher()
        self.drafter = Drafter(self.config, self.hasher)
        self.jobs = jobs
        self.perms = Permutations(self.config.shingles.num_perm, self.config.shingles.seed)
        self.bands, self.rows = band_layout(
            self.config.neardup.lsh_threshold, self.config.shingles.num_perm
        )

    @classmethod
    def open(cls, path: str | Path, *, on_error: str = "fail", jobs: int = 1) -> ArticleIndex:
        """Open an existing index (read its settings; never create one)."""
        connect(Path(path), create=False).close()
        return cls(path, on_error=on_error, jobs=jobs)

    def close(self) -> None:
        """Close the database (every committed batch is already on disk)."""
        self.conn.close()

    def __enter__(self) -> ArticleIndex:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def add(
        self,
        documents: Iterable[Document],
        *,
        batch_size: int = 1000,
        rejected: list[Rejected] | None = None,
    ) -> Iterator[ArticleResult]:
        """Add articles; yield each one's record (as of its addition), in input order.

        Args:
            documents: Articles in order of arrival.
            batch_size: Articles per transaction (1 or more): a crash loses at most the
                batch being written.
            rejected: Receives the articles skipped (``on_error="skip"``).

        Raises:
            InputError: When an id is already in the index (``on_error="fail"``).
        """
        yield from self._process(documents, batch_size=batch_size, rejected=rejected, keep=True)

    def query(
        self, documents: Iterable[Document], *, rejected: list[Rejected] | None = None
    ) -> list[ArticleResult]:
        """Match articles against the index without adding them (the index is left unchanged).

        Each article is matched as :meth:`add` would (later ones also against earlier ones of
        the same input); everything is rolled back at the end.
        """
        return list(self._process(documents, batch_size=0, rejected=rejected, keep=False))

    def _process(
        self,
        documents: Iterable[Document],
        *,
        batch_size: int,
        rejected: list[Rejected] | None,
        keep: bool,
    ) -> Iterator[ArticleResult]:
        try:
            yield from self._transactions(documents, batch_size, rejected, keep)
        except sqlite3.OperationalError as error:  # locked by another writer, disk full, ...
            raise IndexFileError(f"{self.path}: {error}") from None

    def _transactions(
        self,
        documents: Iterable[Document],
        batch_size: int,
        rejected: list[Rejected] | None,
        keep: bool,
    ) -> Iterator[ArticleResult]:
        """Process ``documents`` in transactions of ``batch_size`` (one when not ``keep``)."""
        batch: list[tuple[Document, Draft]] = []
        conn = self.conn
        conn.execute("BEGIN IMMEDIATE")
        try:
            for item in drafts(documents, self.drafter, jobs=self.jobs, ahead=batch_size):
                batch.append(item)
                if keep and len(batch) >= max(1, batch_size):
                    yield from self._add_batch(batch, rejected)
                    conn.execute("COMMIT")
                    conn.execute("BEGIN IMMEDIATE")
                    batch = []
            yield from self._add_batch(batch, rejected)
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT" if keep else "ROLLBACK")

    def _add_batch(
        self, batch: list[tuple[Document, Draft]], rejected: list[Rejected] | None
    ) -> list[ArticleResult]:
        """Add one batch of drafted articles inside the caller's transaction."""
        cleaner = IncrementalCleaner(self.conn, self.config)
        topics = TopicAssigner(self.conn, self.config.cluster, self.hasher)
        prepared: list[_Prepared] = []
        seen: set[str] = set()
        for doc, draft in batch:
            if doc.id in seen or self._rowid(doc.id) is not None:
                self._reject(doc, rejected)
                continue
            seen.add(doc.id)
            cleaned, changed = cleaner.clean(draft, doc.source)
            if changed:  # boilerplate removed: the draft's shingles and features had it
                draft.shingles, draft.features, draft.counts = self.drafter.body(
                    draft.paragraphs, draft.title
                )
            prepared.append((doc, cleaned, draft.shingles, draft.features, draft.counts))
        signatures = self.perms.signatures([p[2] for p in prepared])
        keys = band_keys(signatures, self.bands, self.rows)
        topics.load_frequencies([p[3] for p in prepared])
        records = [self._add_one(item, keys[i], topics) for i, item in enumerate(prepared)]
        cleaner.flush()
        topics.flush()
        return records

    def _reject(self, doc: Document, rejected: list[Rejected] | None) -> None:
        path, _, line = doc.origin.rpartition(":")
        reason = f"id {doc.id!r} is already in the index {self.path}"
        if self.config.on_error == "fail" or rejected is None:
            raise InputError(path or doc.origin, int(line) if line.isdigit() else 0, reason)
        # The record as read (its fields), so a rejects file can be fed back as JSONL.
        raw = json.dumps(dict(doc.fields), ensure_ascii=False) if doc.fields else doc.text
        rejected.append(Rejected(doc.origin, reason, raw))

    def _rowid(self, doc_id: str) -> int | None:
        row = self.conn.execute("SELECT rowid FROM docs WHERE id = ?", (doc_id,)).fetchone()
        return None if row is None else int(row[0])

    def _add_one(self, item: _Prepared, keys: np.ndarray, topics: TopicAssigner) -> ArticleResult:
        """Insert one prepared article; join or found its group; return its record."""
        doc, cleaned, shingles, features, counts = item
        conn, rules = self.conn, self.config.neardup
        exact = _exact_key(shingles) if len(shingles) else None
        matches: set[int] = set()
        index_bands = False
        if exact is not None:
            for rowid, blob in conn.execute(
                "SELECT rowid, shingles FROM docs WHERE exact = ?", (exact,)
            ):
                if np.array_equal(uint64s(blob), shingles):
                    matches.add(rowid)
            if not matches and len(shingles) >= rules.min_shingles:
                index_bands = True
                candidates = conn.execute(
                    f"SELECT DISTINCT doc FROM bands WHERE key IN ({','.join('?' * len(keys))})",  # noqa: S608
                    keys.tolist(),
                ).fetchall()
                for (rowid,) in candidates:
                    (blob,) = conn.execute(
                        "SELECT shingles FROM docs WHERE rowid = ?", (rowid,)
                    ).fetchone()
                    if is_near_duplicate(shingles, uint64s(blob), rules):
                        matches.add(rowid)
        published = doc.published.isoformat() if doc.published else None
        cursor = conn.execute(
            "INSERT INTO docs (id, published, length, grp, exact, shingles, removed) "
            "VALUES (?, ?, ?, 0, ?, ?, ?)",
            (
                doc.id,
                published,
                len(cleaned.text),
                exact,
                shingles.astype("<u8").tobytes(),
                _removed_json(cleaned.removed),
            ),
        )
        rowid = int(cursor.lastrowid or 0)
        if index_bands:
            conn.executemany(
                "INSERT OR IGNORE INTO bands VALUES (?, ?)", [(k, rowid) for k in keys.tolist()]
            )
        if matches:
            root = self._join(rowid, matches)
        else:
            root = rowid
            event, story = topics.assign(rowid, topics.vector(features, counts), doc.published)
            conn.execute("INSERT INTO groups VALUES (?, ?, ?, ?)", (rowid, rowid, event, story))
            conn.execute("UPDATE docs SET grp = ? WHERE rowid = ?", (rowid, rowid))
        return self._record(rowid, root, doc.id, shingles, cleaned.removed)

    def _join(self, rowid: int, matches: set[int]) -> int:
        """Put ``rowid`` into the groups of ``matches``, merging them; return the root."""
        conn = self.conn
        roots = sorted(
            {
                r
                for (r,) in conn.execute(
                    f"SELECT grp FROM docs WHERE rowid IN ({','.join('?' * len(matches))})",  # noqa: S608
                    sorted(matches),
                )
            }
        )
        root = int(roots[0])
        event, story = conn.execute(
            "SELECT event, story FROM groups WHERE root = ?", (root,)
        ).fetchone()
        canonicals = [rowid] + [
            c
            for (c,) in conn.execute(
                f"SELECT canonical FROM groups WHERE root IN ({','.join('?' * len(roots))})",  # noqa: S608
                roots,
            )
        ]
        # Every vector of a group carries the group's event and story, so only the merged
        # groups' vectors (and the new article's) change: a join costs the size of what
        # moves, not of the root's group, which can hold many thousands of articles.
        for other in roots[1:]:
            conn.execute(
                "UPDATE vectors SET event = ?, story = ? "
                "WHERE doc IN (SELECT rowid FROM docs WHERE grp = ?)",
                (event, story, other),
            )
            conn.execute("UPDATE docs SET grp = ? WHERE grp = ?", (root, other))
            conn.execute("DELETE FROM groups WHERE root = ?", (other,))
        conn.execute("UPDATE docs SET grp = ? WHERE rowid = ?", (root, rowid))
        conn.execute("UPDATE vectors SET event = ?, story = ? WHERE doc = ?", (event, story, rowid))
        keys = {
            c: canonical_key(datetime.fromisoformat(p) if p else None, length, doc_id)
            for c, p, length, doc_id in conn.execute(
                f"SELECT rowid, published, length, id FROM docs "  # noqa: S608
                f"WHERE rowid IN ({','.join('?' * len(canonicals))})",
                canonicals,
            )
        }
        canonical = min(keys, key=lambda c: keys[c])
        conn.execute("UPDATE groups SET canonical = ? WHERE root = ?", (canonical, root))
        return root

    def _record(
        self,
        rowid: int,
        root: int,
        doc_id: str,
        shingles: np.ndarray,
        removed: tuple[RemovedParagraph, ...],
        cache: dict[int, tuple[str, np.ndarray]] | None = None,
    ) -> ArticleResult:
        """The record of one article from its group's current state."""
        canonical, event, story = self.conn.execute(
            "SELECT canonical, event, story FROM groups WHERE root = ?", (root,)
        ).fetchone()
        duplicate_of, score = None, None
        if canonical != rowid:
            if cache is not None and canonical in cache:
                canonical_id, canonical_shingles = cache[canonical]
            else:
                canonical_id, blob = self.conn.execute(
                    "SELECT id, shingles FROM docs WHERE rowid = ?", (canonical,)
                ).fetchone()
                canonical_shingles = uint64s(blob)
                if cache is not None:
                    cache[canonical] = (canonical_id, canonical_shingles)
            duplicate_of = canonical_id
            score = round(similarity(shingles, canonical_shingles), 4)
        return ArticleResult(
            id=doc_id,
            duplicate_of=duplicate_of,
            similarity=score,
            event=f"e{event}",
            story=f"s{story}",
            removed=removed,
            cleaned_text="",
        )

    def export(self) -> Iterator[ArticleResult]:
        """Yield the current record of every article, in order of addition."""
        cache: dict[int, tuple[str, np.ndarray]] = {}
        reader = sqlite3.connect(self.path)  # a separate snapshot, so writers are not blocked
        try:
            for rowid, doc_id, grp, blob, removed in reader.execute(
                "SELECT rowid, id, grp, shingles, removed FROM docs ORDER BY rowid"
            ):
                yield self._record(
                    rowid, grp, doc_id, uint64s(blob), _removed_from_json(removed), cache
                )
        finally:
            reader.close()

    def stats(self) -> dict[str, Any]:
        """Counts, settings and a consistency check of the index."""
        conn = self.conn
        counts = {
            "articles": "SELECT COUNT(*) FROM docs",
            "duplicates": "SELECT COUNT(*) FROM docs d JOIN groups g ON d.grp = g.root "
            "WHERE g.canonical != d.rowid",
            "duplicate_groups": "SELECT COUNT(*) FROM (SELECT grp FROM docs GROUP BY grp "
            "HAVING COUNT(*) > 1)",
            "events": "SELECT COUNT(DISTINCT event) FROM groups",
            "stories": "SELECT COUNT(DISTINCT story) FROM groups",
            "sources": "SELECT COUNT(DISTINCT source) FROM paragraph_counts",
            "band_entries": "SELECT COUNT(*) FROM bands",
        }
        stats: dict[str, Any] = {
            key: conn.execute(sql).fetchone()[0] for key, sql in counts.items()
        }
        stats["bytes"] = self.path.stat().st_size + sum(
            p.stat().st_size for p in self.path.parent.glob(self.path.name + "-wal")
        )
        stats["problems"] = problems(conn)
        stats["config"] = json.loads(
            conn.execute("SELECT value FROM meta WHERE key = 'config'").fetchone()[0]
        )
        return stats
