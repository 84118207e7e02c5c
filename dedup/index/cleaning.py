"""The paragraph stage in the index: per-article cleaning plus boilerplate from stored counts.

Repeated paragraphs, self-glued paragraphs and title echoes are found inside one article, so the
index runs exactly the batch code (:meth:`dedup.paragraphs.ParagraphCleaner.prepare`, in
:mod:`dedup.index.prepare`, possibly ahead in worker processes).
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

import sqlite3

from ..config import PipelineConfig
from ..paragraphs import ParagraphCleaner
from ..types import CleanedDocument, RemovedParagraph
from .prepare import Draft


class IncrementalCleaner:
    """Finishes the cleaning of drafted articles against the paragraph counts of the index.

    One cleaner serves one batch (one transaction): the counts it reads or changes are kept in
    memory and written by :meth:`flush` before the commit.

    Args:
        conn: The index connection (the caller holds the transaction).
        config: The index's settings.
    """

    def __init__(self, conn: sqlite3.Connection, config: PipelineConfig) -> None:
        self.conn = conn
        self.config = config.paragraphs
        self._counts: dict[tuple[str, int], int] = {}  # (source, paragraph hash) -> articles

    def clean(self, draft: Draft, source: str | None) -> tuple[CleanedDocument, bool]:
        """Mark the draft's boilerplate paragraphs and count its paragraphs.

        Returns:
            The cleaned document, and whether boilerplate was removed (then the draft's
            shingles and features, made with every paragraph, must be made again).
        """
        removed = bool(source) and self._mark_boilerplate(draft, source or "")
        return ParagraphCleaner.result(draft.paragraphs), removed

    def flush(self) -> None:
        """Write the batch's paragraph counts (inside its transaction)."""
        self.conn.executemany(
            "INSERT INTO paragraph_counts VALUES (?, ?, ?) "
            "ON CONFLICT (source, hash) DO UPDATE SET docs = excluded.docs",
            [(source, value, docs) for (source, value), docs in sorted(self._counts.items())],
        )
        self._counts.clear()

    def _mark_boilerplate(self, draft: Draft, source: str) -> bool:
        """Mark paragraphs already held by enough articles of ``source``; count this one's.

        Returns:
            Whether any paragraph was marked.
        """
        hashes = draft.paragraph_hashes
        known = self._counts
        counts: dict[int, int] = {}
        for value in sorted(set(hashes.values())):
            key = (source, value)
            if key not in known:
                row = self.conn.execute(
                    "SELECT docs FROM paragraph_counts WHERE source = ? AND hash = ?", key
                ).fetchone()
                known[key] = row[0] if row else 0
            counts[value] = known[key]
            known[key] += 1
        minimum = self.config.boilerplate_min_docs
        kept = list(hashes)
        marked = [i for i in kept if counts[hashes[i]] + 1 >= minimum]
        if not marked or len(marked) > self.config.boilerplate_max_overlap * len(kept):
            return False
        doc = draft.paragraphs
        for i in marked:
            note = f"{counts[hashes[i]] + 1} articles of {source}"
            doc.removed[i] = RemovedParagraph(i, "boilerplate", doc.raw[i], note)
        return True
