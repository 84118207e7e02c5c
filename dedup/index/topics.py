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
index size (news is recent: a posting list is read newest first). Within one batch (one
transaction) the document frequencies and counters live in memory and are written once, at the
end (:meth:`TopicAssigner.flush`), and the neighbours of an article come from one SQL statement.
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

_POSTED_FEATURES = 20  # heaviest features of a representative put in the posting lists
_POSTING_DEPTH = 200  # most recent documents read per posting list
_CANDIDATES = 100  # candidates (most shared posted features) compared by cosine
_CLUSTERS = 5  # closest stories (and events) averaged over
_MEMBERS = 30  # most recent members a story or an event is averaged over
_CHUNK = 500  # SQL parameters per IN (...) list
_PAIR = np.uint64(0x9E3779B97F4A7C15)
_NO_FEATURES = np.zeros(0, dtype=np.int64)
_NEWEST_POSTINGS = (
    "SELECT doc FROM (SELECT doc FROM postings WHERE feature = ? ORDER BY doc DESC LIMIT ?)"
)


@dataclass(frozen=True, slots=True)
class Vector:
    """An L2-normalized sparse TF-IDF vector.

    Attributes:
        features: Sorted distinct 32-bit feature hashes (int64; uint32 when read from the index).
        weights: Weights, one per feature (float32; float16 when read from the index).
    """

    features: np.ndarray
    weights: np.ndarray

    def cosines(self, others: Sequence[Vector]) -> np.ndarray:
        """Cosine similarities (0-1) of this vector with each of ``others``, in one numpy pass.

        Returns:
            A float64 array, one value per vector of ``others`` (the sum of the products of the
            shared features' weights).
        """
        own = self.features
        if not others or not len(own):
            return np.zeros(len(others))
        theirs = np.concatenate([o.features for o in others])
        offsets = np.cumsum([0] + [len(o.features) for o in others])
        # A 64K-bit filter on the low 16 bits drops most of their features before the search.
        seen = np.zeros(1 << 16, dtype=bool)
        seen[own & 0xFFFF] = True
        maybe = np.flatnonzero(seen[theirs & 0xFFFF])
        candidates = theirs[maybe].astype(np.int64)
        place = np.minimum(np.searchsorted(own, candidates), len(own) - 1)
        found = own[place] == candidates
        shared = maybe[found]
        their_weights = np.concatenate([o.weights for o in others])[shared].astype(np.float32)
        products = self.weights[place[found]] * their_weights
        owner = np.searchsorted(offsets, shared, side="right") - 1
        return np.bincount(owner, weights=products, minlength=len(others))


def _with_pairs(singles: np.ndarray) -> np.ndarray:
    """Token hashes followed by the hashes of adjacent pairs."""
    with np.errstate(over="ignore"):
        pairs = _mix(singles[:-1] * _PAIR + singles[1:]) if len(singles) > 1 else singles[:0]
    return np.concatenate([singles, pairs])


def feature_counts(
    hasher: Hasher,
    body: Sequence[str],
    title: Sequence[str],
    title_weight: int,
    *,
    body_hashes: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Hash the TF-IDF features (tokens and adjacent pairs) and count them.

    Args:
        hasher: The token hasher.
        body: Body tokens.
        title: Title tokens.
        title_weight: Extra times the title features are counted.
        body_hashes: ``hasher.token_hashes(body)`` when the caller has it (saves hashing again).

    Returns:
        Sorted distinct 32-bit feature hashes (int64 array) and their counts (title features counted
        ``title_weight`` times, as in the batch stage).
    """
    singles = hasher.token_hashes(body) if body_hashes is None else body_hashes
    parts = [_with_pairs(singles)] + [_with_pairs(hasher.token_hashes(title))] * title_weight
    # 32 bits per feature: two features of a large vocabulary may share a hash, which moves a
    # cosine by a negligible amount and halves the stored vectors.
    folded = (np.concatenate(parts) >> np.uint64(32)).astype(np.int64)
    features, counts = np.unique(folded, return_counts=True)
    return features, counts


def _in_chunks(conn: sqlite3.Connection, sql: str, values: np.ndarray) -> list[tuple[Any, ...]]:
    """Run ``sql`` (with one ``{}`` for the IN list) over ``values`` in chunks."""
    rows: list[tuple[Any, ...]] = []
    for start in range(0, len(values), _CHUNK):
        chunk = values[start : start + _CHUNK].tolist()
        rows += conn.execute(sql.format(",".join("?" * len(chunk))), chunk).fetchall()
    return rows


_Member = tuple[int, int, float | None, Vector]  # event, story, day, vector of a stored doc


class _Similarities:
    """Cosines of one new vector with stored vectors, each computed once (numpy, in bulk)."""

    def __init__(self, vector: Vector) -> None:
        self.vector = vector
        self.known: dict[int, float] = {}

    def of(self, members: dict[int, _Member]) -> np.ndarray:
        """Cosine with each of ``members`` (float64, in their order)."""
        missing = [d for d in members if d not in self.known]
        if missing:
            values = self.vector.cosines([members[d][3] for d in missing])
            self.known.update(zip(missing, values.tolist(), strict=True))
        return np.array([self.known[d] for d in members], dtype=np.float64)


class TopicAssigner:
    """Places representatives into events and stories, keeping the TF-IDF statistics.

    One assigner serves one batch (one transaction): document frequencies and the event, story
    and representative counters are read once, kept in memory while the batch is added, and
    written by :meth:`flush` before the commit.

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
        # The batch's features (sorted), their stored document frequencies, and the current ones.
        self._keys = self._stored = self._doc_freq = _NO_FEATURES
        self._counters: dict[str, int] = {}  # meta counter -> next value
        self._clusters: dict[tuple[str, int], dict[int, _Member]] = {}  # members, per article

    def load_frequencies(self, feature_sets: Sequence[np.ndarray]) -> None:
        """Read the stored document frequencies of every feature the batch may need (sorted)."""
        keys = np.unique(np.concatenate([_NO_FEATURES, *feature_sets]))
        stored = dict(
            _in_chunks(self.conn, "SELECT feature, docs FROM doc_freq WHERE feature IN ({})", keys)
        )
        self._keys = keys
        self._stored = np.array([stored.get(k, 0) for k in keys.tolist()], dtype=np.int64)
        self._doc_freq = self._stored.copy()

    def vector(self, features: np.ndarray, counts: np.ndarray) -> Vector:
        """The TF-IDF vector of a new representative, counting it in the frequencies.

        Args:
            features: Its features (from :meth:`features`, loaded by :meth:`load_frequencies`).
            counts: Their counts.
        """
        place = np.searchsorted(self._keys, features)
        self._doc_freq[place] += 1  # features are distinct
        df = self._doc_freq[place].astype(np.float64)
        total = self._next("representatives")
        weights = (1.0 + np.log(counts)) * (np.log((1.0 + total) / (1.0 + df)) + 1.0)
        norm = float(np.linalg.norm(weights)) or 1.0
        return Vector(features, (weights / norm).astype(np.float32))

    def flush(self) -> None:
        """Write the batch's document frequencies and counters (inside its transaction)."""
        changed = np.flatnonzero(self._doc_freq != self._stored)
        self.conn.executemany(
            "INSERT INTO doc_freq VALUES (?, ?) "
            "ON CONFLICT (feature) DO UPDATE SET docs = excluded.docs",
            zip(self._keys[changed].tolist(), self._doc_freq[changed].tolist(), strict=True),
        )
        self.conn.executemany(
            "UPDATE meta SET value = ? WHERE key = ?",
            [(str(value), key) for key, value in sorted(self._counters.items())],
        )
        self._counters.clear()

    def _next(self, counter: str) -> int:
        """Take the next event, story or representative number."""
        if counter not in self._counters:
            (value,) = self.conn.execute(
                "SELECT value FROM meta WHERE key = ?", (counter,)
            ).fetchone()
            self._counters[counter] = int(value)
        value = self._counters[counter]
        self._counters[counter] = value + 1
        return value

    def assign(self, doc: int, vector: Vector, published: datetime | None) -> tuple[int, int]:
        """Choose (or found) the event and story of representative ``doc`` and store it.

        Returns:
            ``(event, story)`` numbers.
        """
        day = _days(published)
        self._clusters.clear()
        similarities = _Similarities(vector)
        near = self._neighbours(vector)
        story = self._closest(near, similarities, "story", self.story_height, None)
        event = None
        if story is not None:
            in_story = {d: row for d, row in near.items() if row[1] == story}
            in_story.update(self._members("story", story))
            event = self._closest(in_story, similarities, "event", self.event_height, day)
        else:
            story = self._next("next_story")
        if event is None:
            event = self._next("next_event")
        self._store(doc, vector, event, story, day)
        return event, story

    def _neighbours(self, vector: Vector) -> dict[int, _Member]:
        """Recent representatives sharing the vector's heaviest features, by shared count.

        One statement: the newest ``_POSTING_DEPTH`` postings of each heavy feature, counted per
        document, the ``_CANDIDATES`` documents with the most (newest first on ties), and their
        vectors.
        """
        posted = vector.features[np.argsort(-vector.weights, kind="stable")[:_POSTED_FEATURES]]
        if not len(posted):
            return {}
        postings = " UNION ALL ".join([_NEWEST_POSTINGS] * len(posted))
        rows = self.conn.execute(
            "SELECT v.doc, v.event, v.story, v.day, v.features, v.weights FROM ("  # noqa: S608
            f"SELECT doc, COUNT(*) AS hits FROM ({postings}) GROUP BY doc "
            "ORDER BY hits DESC, doc DESC LIMIT ?) AS best JOIN vectors AS v ON v.doc = best.doc "
            "ORDER BY v.doc",
            [*(x for f in posted.tolist() for x in (f, _POSTING_DEPTH)), _CANDIDATES],
        ).fetchall()
        return {row[0]: _row(row) for row in rows}

    def _members(self, level: str, cluster: int) -> dict[int, _Member]:
        """The most recent members of an event or story (read once per article)."""
        key = (level, cluster)
        if key not in self._clusters:
            rows = self.conn.execute(
                f"SELECT doc, event, story, day, features, weights FROM vectors "  # noqa: S608
                f"WHERE {level} = ? ORDER BY doc DESC LIMIT ?",
                (cluster, _MEMBERS),
            ).fetchall()
            self._clusters[key] = {row[0]: _row(row) for row in rows}
        return dict(self._clusters[key])

    def _closest(
        self,
        near: dict[int, _Member],
        similarities: _Similarities,
        level: str,
        threshold: float,
        day: float | None,
    ) -> int | None:
        """The event or story closest on average (within ``threshold``), or None."""
        position = 0 if level == "event" else 1
        closest: dict[int, float] = {}
        for row, cosine in zip(near.values(), similarities.of(near).tolist(), strict=True):
            cluster = row[position]
            closest[cluster] = max(closest.get(cluster, -1.0), cosine)
        ranked = sorted(closest, key=lambda c: (-closest[c], c))[:_CLUSTERS]
        best, best_distance = None, threshold + 1e-9
        for cluster in ranked:
            if 1.0 - closest[cluster] > threshold + 1e-9:
                break  # average link needs at least one member this close
            members = self._members(level, cluster)
            members.update({d: r for d, r in near.items() if r[position] == cluster})
            days = [m[2] for m in members.values()]
            distance = self._mean_distance(similarities.of(members), days, day)
            if distance <= best_distance:
                best, best_distance = cluster, distance
        return best

    def _mean_distance(
        self, cosines: np.ndarray, member_days: list[float | None], day: float | None
    ) -> float:
        """Average cosine distance to members (date-scaled when ``day`` is given).

        Args:
            cosines: Cosine with each member.
            member_days: Each member's day (days since the epoch) or None.
            day: The new article's day, or None to ignore dates.
        """
        distances = np.clip(1.0 - cosines, 0.0, 1.0)
        if day is not None:
            days = np.array([day] + [np.nan if d is None else d for d in member_days])
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


def _row(row: tuple[Any, ...]) -> _Member:
    """``(event, story, day, vector)`` of a stored vector row."""
    _, event, story, day, features, weights = row
    vector = Vector(np.frombuffer(features, dtype="<u4"), np.frombuffer(weights, dtype="<f2"))
    return event, story, day, vector
