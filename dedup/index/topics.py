"""Events and stories in the index: incremental TF-IDF and nearest-cluster assignment.

The batch stage (:mod:`dedup.cluster`) clusters every canonical article at once with average
link. The index cannot re-cluster a million articles per hour, so each new article that founds
a duplicate group (a *representative*) is placed where average link would first merge it:

1. Its TF-IDF vector uses the same features (tokens and adjacent pairs, title counted
   ``title_weight`` extra times) and sublinear term frequency as the batch stage, and smoothed IDF
   (the batch stage's unsmoothed IDF needs the whole corpus; the index sees it grow),
   with document frequencies kept in the index and updated as articles arrive (a stored vector
   keeps the IDF of the moment it was added).
2. Candidate neighbours come from posting lists of each representative's heaviest features
   (the most recent ``_POSTING_DEPTH`` documents per feature), then exact cosine.
3. It joins the story whose (most recent ``_MEMBERS``) members are closest on average, if that
   average distance is within ``story_threshold``; inside that story, the event closest on
   average with the batch stage's date scaling, if within ``event_threshold``. Otherwise it
   founds a new event (and story). Ids never change once given.

Cost per article: a bounded number of index lookups and vector reads, independent of the
index size (news is recent: a posting list is read newest first).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
import scipy.sparse as sp

from ..cluster import EventStoryClusterer, _days, cut_heights
from ..config import ClusterConfig
from ..shingle import Hasher, _mix
from .store import next_id

_POSTED_FEATURES = 20  # heaviest features of a representative put in the posting lists
_POSTING_DEPTH = 200  # most recent documents read per posting list
_CANDIDATES = 100  # candidates (most shared posted features) compared by cosine
_CLUSTERS = 5  # closest stories (and events) averaged over
_MEMBERS = 30  # most recent members a story or an event is averaged over
_CHUNK = 500  # SQL parameters per IN (...) list
_PAIR = np.uint64(0x9E3779B97F4A7C15)


@dataclass(frozen=True, slots=True)
class Vector:
    """An L2-normalized sparse TF-IDF vector.

    Attributes:
        features: Sorted distinct 32-bit feature hashes (as int64).
        weights: Weights, one per feature (float32; stored as float16).
    """

    features: np.ndarray
    weights: np.ndarray

    def cosine(self, other: Vector) -> float:
        """Cosine similarity (0-1) of two normalized vectors."""
        _, mine, theirs = np.intersect1d(
            self.features, other.features, assume_unique=True, return_indices=True
        )
        return float(np.dot(self.weights[mine], other.weights[theirs]))


def feature_counts(
    hasher: Hasher, body: Sequence[str], title: Sequence[str], title_weight: int
) -> tuple[np.ndarray, np.ndarray]:
    """Hash the TF-IDF features (tokens and adjacent pairs) and count them.

    Returns:
        Sorted distinct 32-bit feature hashes (int64 array) and their counts (title features counted
        ``title_weight`` times, as in the batch stage).
    """

    def hashed(tokens: Sequence[str]) -> np.ndarray:
        singles = hasher.token_hashes(tokens)
        with np.errstate(over="ignore"):
            pairs = _mix(singles[:-1] * _PAIR + singles[1:]) if len(singles) > 1 else singles[:0]
        return np.concatenate([singles, pairs])

    parts = [hashed(body)] + [hashed(title)] * title_weight
    # 32 bits per feature: two features of a large vocabulary may share a hash, which moves a
    # cosine by a negligible amount and halves the stored vectors.
    folded = (np.concatenate(parts) >> np.uint64(32)).astype(np.int64)
    features, counts = np.unique(folded, return_counts=True)
    return features, counts


def _in_chunks(conn: sqlite3.Connection, sql: str, values: Sequence[int]) -> list[tuple[Any, ...]]:
    """Run ``sql`` (with one ``{}`` for the IN list) over ``values`` in chunks."""
    rows: list[tuple[Any, ...]] = []
    for start in range(0, len(values), _CHUNK):
        chunk = values[start : start + _CHUNK]
        rows += conn.execute(sql.format(",".join("?" * len(chunk))), chunk).fetchall()
    return rows


class TopicAssigner:
    """Places representatives into events and stories, keeping the TF-IDF statistics.

    Args:
        conn: The index connection (the caller holds the transaction).
        config: Cut heights, window and title weight (the index's settings).
        hasher: The token hasher.
    """

    def __init__(self, conn: sqlite3.Connection, config: ClusterConfig, hasher: Hasher) -> None:
        self.conn = conn
        self.config = config
        self.hasher = hasher
        self._dates = EventStoryClusterer(config)
        # Corpus-derived heights need the whole corpus; an index grows one batch at a time, so
        # unset heights take the fixed fallback (``small_corpus_threshold``) for good.
        self.event_height, self.story_height = cut_heights(sp.csr_matrix((0, 0)), config)

    def vector(self, body: Sequence[str], title: Sequence[str]) -> Vector:
        """The TF-IDF vector of a new representative, counting it in the frequencies."""
        features, counts = feature_counts(self.hasher, body, title, self.config.title_weight)
        keys = features.tolist()
        conn = self.conn
        conn.executemany(
            "INSERT INTO doc_freq VALUES (?, 1) "
            "ON CONFLICT (feature) DO UPDATE SET docs = docs + 1",
            [(k,) for k in keys],
        )
        total = next_id(conn, "representatives")
        frequency = dict(
            _in_chunks(conn, "SELECT feature, docs FROM doc_freq WHERE feature IN ({})", keys)
        )
        df = np.array([frequency[k] for k in keys], dtype=np.float64)
        weights = (1.0 + np.log(counts)) * (np.log((1.0 + total) / (1.0 + df)) + 1.0)
        norm = float(np.linalg.norm(weights)) or 1.0
        return Vector(features, (weights / norm).astype(np.float32))

    def assign(self, doc: int, vector: Vector, published: datetime | None) -> tuple[int, int]:
        """Choose (or found) the event and story of representative ``doc`` and store it.

        Returns:
            ``(event, story)`` numbers.
        """
        day = _days(published)
        near = self._neighbours(vector)
        story = self._closest(near, vector, "story", self.story_height, None)
        event = None
        if story is not None:
            in_story = {d: row for d, row in near.items() if row[1] == story}
            in_story.update(self._members("story", story))
            event = self._closest(in_story, vector, "event", self.event_height, day)
        else:
            story = next_id(self.conn, "next_story")
        if event is None:
            event = next_id(self.conn, "next_event")
        self._store(doc, vector, event, story, day)
        return event, story

    def _neighbours(self, vector: Vector) -> dict[int, tuple[int, int, float | None, Vector]]:
        """Recent representatives sharing the vector's heaviest features, by shared count."""
        posted = vector.features[np.argsort(-vector.weights, kind="stable")[:_POSTED_FEATURES]]
        hits: dict[int, int] = {}
        for feature in posted.tolist():
            for (doc,) in self.conn.execute(
                "SELECT doc FROM postings WHERE feature = ? ORDER BY doc DESC LIMIT ?",
                (feature, _POSTING_DEPTH),
            ):
                hits[doc] = hits.get(doc, 0) + 1
        best = sorted(hits, key=lambda d: (-hits[d], -d))[:_CANDIDATES]
        rows = _in_chunks(
            self.conn,
            "SELECT doc, event, story, day, features, weights FROM vectors WHERE doc IN ({})",
            best,
        )
        return {row[0]: _row(row) for row in rows}

    def _members(
        self, level: str, cluster: int
    ) -> dict[int, tuple[int, int, float | None, Vector]]:
        """The most recent members of an event or story."""
        rows = self.conn.execute(
            f"SELECT doc, event, story, day, features, weights FROM vectors "  # noqa: S608
            f"WHERE {level} = ? ORDER BY doc DESC LIMIT ?",
            (cluster, _MEMBERS),
        ).fetchall()
        return {row[0]: _row(row) for row in rows}

    def _closest(
        self,
        near: dict[int, tuple[int, int, float | None, Vector]],
        vector: Vector,
        level: str,
        threshold: float,
        day: float | None,
    ) -> int | None:
        """The event or story closest on average (within ``threshold``), or None."""
        position = 0 if level == "event" else 1
        closest: dict[int, float] = {}
        for event, story, _, other in near.values():
            cluster = event if position == 0 else story
            closest[cluster] = max(closest.get(cluster, -1.0), vector.cosine(other))
        ranked = sorted(closest, key=lambda c: (-closest[c], c))[:_CLUSTERS]
        best, best_distance = None, threshold + 1e-9
        for cluster in ranked:
            if 1.0 - closest[cluster] > threshold + 1e-9:
                break  # average link needs at least one member this close
            members = self._members(level, cluster)
            members.update({d: r for d, r in near.items() if r[position] == cluster})
            distance = self._mean_distance(vector, list(members.values()), day)
            if distance <= best_distance:
                best, best_distance = cluster, distance
        return best

    def _mean_distance(
        self,
        vector: Vector,
        members: list[tuple[int, int, float | None, Vector]],
        day: float | None,
    ) -> float:
        """Average cosine distance to ``members`` (date-scaled when ``day`` is given)."""
        distances = np.array([1.0 - vector.cosine(m[3]) for m in members], dtype=np.float64)
        distances = np.clip(distances, 0.0, 1.0)
        if day is not None:
            days = np.array([day] + [np.nan if m[2] is None else m[2] for m in members])
            square = np.zeros((len(days), len(days)))
            square[0, 1:] = distances
            distances = self._dates._with_dates(square, days)[0, 1:]
        return float(distances.mean())

    def _store(self, doc: int, vector: Vector, event: int, story: int, day: float) -> None:
        """Save the vector and post its heaviest features."""
        self.conn.execute(
            "INSERT INTO vectors VALUES (?, ?, ?, ?, ?, ?)",
            (
                doc,
                event,
                story,
                None if np.isnan(day) else day,
                vector.features.astype("<u4").tobytes(),
                vector.weights.astype("<f2").tobytes(),
            ),
        )
        posted = vector.features[np.argsort(-vector.weights, kind="stable")[:_POSTED_FEATURES]]
        self.conn.executemany(
            "INSERT OR IGNORE INTO postings VALUES (?, ?)", [(f, doc) for f in posted.tolist()]
        )


def _row(row: tuple[Any, ...]) -> tuple[int, int, float | None, Vector]:
    """``(event, story, day, vector)`` of a stored vector row."""
    _, event, story, day, features, weights = row
    vector = Vector(
        np.frombuffer(features, dtype="<u4").astype(np.int64),
        np.frombuffer(weights, dtype="<f2").astype(np.float32),
    )
    return event, story, day, vector
