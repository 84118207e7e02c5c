"""The paragraph stage in the index: per-article cleaning plus boilerplate from stored counts.

Repeated paragraphs, self-glued paragraphs and title echoes are found inside one article, so the
index runs exactly the batch code (:meth:`dedup.paragraphs.ParagraphCleaner.prepare`).
Boilerplate needs the other articles of the source. The index keeps, per source, how many
articles hold each distinct paragraph (a hash of its normalized tokens) and marks a paragraph
as boilerplate once ``boilerplate_min_docs`` articles of the source hold it. What differs from
the batch stage, on purpose, so adding stays independent of the index size:

* paragraphs match when their normalized tokens are equal (batch: paragraph MinHash-LSH at
  Jaccard ``threshold``), so a footer with a changing date is not caught;
* articles added before a paragraph reached the count keep it (their records do not change);
* the batch check that the host articles are otherwise different is replaced by one on the
  article itself: when more than ``boilerplate_max_overlap`` of its paragraphs would be removed
  it is treated as a copy, not a template user, and nothing is removed (the near-duplicate stage
  handles copies).
"""

from __future__ import annotations

import hashlib
import sqlite3

import numpy as np

from ..config import PipelineConfig
from ..paragraphs import ParagraphCleaner, Paragraphs
from ..shingle import Hasher
from ..types import CleanedDocument, Document, RemovedParagraph


def _paragraph_hash(tokens: list[str]) -> int:
    """A signed 64-bit hash of a paragraph's normalized tokens."""
    digest = hashlib.blake2b(" ".join(tokens).encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "little", signed=True)


class IncrementalCleaner:
    """Cleans one article at a time against the paragraph counts stored in the index.

    One cleaner serves one batch (one transaction): the counts it reads or changes are kept in
    memory and written by :meth:`flush` before the commit.

    Args:
        conn: The index connection (the caller holds the transaction).
        config: The index's settings.
        hasher: The token hasher shared with the other stages.
    """

    def __init__(self, conn: sqlite3.Connection, config: PipelineConfig, hasher: Hasher) -> None:
        self.conn = conn
        self.config = config.paragraphs
        self.cleaner = ParagraphCleaner(config.paragraphs, norm=config.norm, hasher=hasher)
        self._counts: dict[tuple[str, int], int] = {}  # (source, paragraph hash) -> articles

    def clean(self, doc: Document) -> tuple[CleanedDocument, np.ndarray]:
        """Clean ``doc`` and count its paragraphs.

        Returns:
            The cleaned document and the 64-bit hashes of its kept normalized tokens.
        """
        prepared = self.cleaner.prepare(doc.id, doc.text, title=doc.title, source=doc.source)
        if doc.source:
            self._mark_boilerplate(prepared, doc.source)
        hashes = [prepared.hashes[i] for i in prepared.kept()]
        flat = np.concatenate(hashes) if hashes else np.zeros(0, dtype=np.uint64)
        return self.cleaner.result(prepared), flat

    def flush(self) -> None:
        """Write the batch's paragraph counts (inside its transaction)."""
        self.conn.executemany(
            "INSERT INTO paragraph_counts VALUES (?, ?, ?) "
            "ON CONFLICT (source, hash) DO UPDATE SET docs = excluded.docs",
            [(source, value, docs) for (source, value), docs in sorted(self._counts.items())],
        )
        self._counts.clear()

    def _mark_boilerplate(self, doc: Paragraphs, source: str) -> None:
        """Mark paragraphs already held by enough articles of ``source``; count this one's."""
        kept = [i for i in doc.kept() if doc.tokens[i]]
        hashes = {i: _paragraph_hash(doc.tokens[i]) for i in kept}
        distinct = sorted(set(hashes.values()))
        known = self._counts
        counts: dict[int, int] = {}
        for value in distinct:
            key = (source, value)
            if key not in known:
                row = self.conn.execute(
                    "SELECT docs FROM paragraph_counts WHERE source = ? AND hash = ?", key
                ).fetchone()
                known[key] = row[0] if row else 0
            counts[value] = known[key]
            known[key] += 1
        minimum = self.config.boilerplate_min_docs
        marked = [i for i in kept if counts[hashes[i]] + 1 >= minimum]
        if not marked or len(marked) > self.config.boilerplate_max_overlap * len(kept):
            return
        for i in marked:
            note = f"{counts[hashes[i]] + 1} articles of {source}"
            doc.removed[i] = RemovedParagraph(i, "boilerplate", doc.raw[i], note)
