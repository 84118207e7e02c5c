"""The clustering stage: TF-IDF vectors and average-link clustering into events and stories.

Canonical articles become sublinear TF-IDF vectors of their tokens and adjacent token pairs
(title terms counted ``title_weight`` extra times), L2-normalized. Average-link clustering on
cosine distance is cut twice: at ``story_threshold`` for stories, then inside each story, at
``event_threshold`` for events, where dated articles published close together count as closer
and those more than ``event_window_days`` apart as unrelated (distance 1). Events therefore
always nest inside stories.

Scaling: two clusters can merge under average linkage at height ``t`` only if some pair across
them is closer than ``t``. So stories come from exact average linkage over the sparse graph of
pairs closer than the story threshold (:mod:`dedup.linkage`), never a dense n x n matrix;
only events, inside one story, use a dense matrix.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import numpy as np
import scipy.sparse as sp
from scipy.cluster.hierarchy import fcluster, linkage
from scipy.spatial.distance import squareform
from sklearn.feature_extraction.text import TfidfVectorizer

from .config import ClusterConfig
from .linkage import story_labels
from .shingle import features
from .tfidf import tfidf_from_tokens

_SAME_TIME_FACTOR = 0.6  # share of the text distance left for articles published together


def _identity(doc: list[str]) -> list[str]:
    """Analyzer for pre-analyzed documents (module level, so it pickles)."""
    return doc


def tfidf_matrix(
    bodies: Sequence[Sequence[str]], titles: Sequence[Sequence[str]], *, title_weight: int
) -> tuple[sp.csr_matrix, np.ndarray]:
    """Return the L2-normalized TF-IDF matrix (documents x features) and the feature names."""
    docs = [
        features(body) + features(title) * title_weight
        for body, title in zip(bodies, titles, strict=True)
    ]
    vectorizer = TfidfVectorizer(analyzer=_identity, sublinear_tf=True, dtype=np.float32)
    matrix = vectorizer.fit_transform(docs)
    return sp.csr_matrix(matrix), vectorizer.get_feature_names_out()


def _average_link(distances: np.ndarray, threshold: float) -> np.ndarray:
    """Flat average-link clusters of a square distance matrix cut at ``threshold``."""
    if len(distances) == 1:
        return np.zeros(1, dtype=np.int64)
    np.fill_diagonal(distances, 0.0)
    tree = linkage(squareform(distances, checks=False), method="average")
    # Cut strictly below the threshold plus a hair, so "distance <= threshold" merges.
    return fcluster(tree, t=threshold + 1e-9, criterion="distance")


def _days(when: datetime | None) -> float:
    """Days since the epoch, ignoring time zones (NaN when unknown)."""
    if when is None:
        return float("nan")
    return when.replace(tzinfo=None).timestamp() / 86400.0


class EventStoryClusterer:
    """Clusters documents into stories and, inside them, events.

    Args:
        config: Cut heights and weights (see :class:`~dedup.config.ClusterConfig`).

    Attributes:
        story_labels_: After :meth:`fit`, a story number for each document (0-based, numbered by
            first document).
        event_labels_: An event number for each document (0-based, numbered by first document).
        matrix_: The TF-IDF matrix.
        feature_names_: Its column names.
    """

    def __init__(self, config: ClusterConfig | None = None) -> None:
        self.config = config or ClusterConfig()

    def fit(
        self,
        bodies: Sequence[Sequence[str]],
        *,
        titles: Sequence[Sequence[str]],
        published: Sequence[datetime | None],
    ) -> EventStoryClusterer:
        """Cluster documents given as token lists.

        Args:
            bodies: Normalized tokens of each document's cleaned text.
            titles: Normalized tokens of each title (empty when none).
            published: Publication times (None when unknown).

        Returns:
            self
        """
        config = self.config
        n = len(bodies)
        self.matrix_, self.feature_names_ = (
            tfidf_from_tokens(bodies, titles, title_weight=config.title_weight)
            if n
            else (sp.csr_matrix((0, 0)), np.array([]))
        )
        days = np.array([_days(p) for p in published], dtype=np.float64)
        stories = np.full(n, -1, dtype=np.int64)
        events = np.full(n, -1, dtype=np.int64)
        # Stories: exact average link over the graph of close pairs (dedup/linkage.py), so
        # no dense matrix spans more than one story.
        story_of = story_labels(self.matrix_, config.story_threshold) if n else []
        members_of: dict[int, list[int]] = {}
        for i, story in enumerate(story_of):
            members_of.setdefault(int(story), []).append(i)
        next_event = 0
        for next_story, members in enumerate(members_of.values()):
            sub = np.array(members)
            stories[sub] = next_story
            event_distances = self._with_dates(self._distances(sub), days[sub])
            for event in self._split(event_distances, config.event_threshold):
                events[sub[event]] = next_event
                next_event += 1
        self.story_labels_ = _renumber(stories)
        self.event_labels_ = _renumber(events)
        return self

    def singletons(self, n: int) -> EventStoryClusterer:
        """Skip clustering: every document is its own event and story."""
        self.matrix_, self.feature_names_ = sp.csr_matrix((n, 0)), np.array([])
        self.story_labels_ = self.event_labels_ = np.arange(n, dtype=np.int64)
        return self

    def _distances(self, index: np.ndarray) -> np.ndarray:
        """Dense cosine distances among the rows ``index`` (one connected block)."""
        rows = self.matrix_[index]
        similarities = (rows @ rows.T).toarray().astype(np.float64)
        return np.clip(1.0 - similarities, 0.0, 1.0)

    def _with_dates(self, distances: np.ndarray, days: np.ndarray) -> np.ndarray:
        """Event distances: time closeness is evidence of one happening.

        For two dated articles ``gap`` days apart the text distance is scaled by
        ``_SAME_TIME_FACTOR + (1 - _SAME_TIME_FACTOR) * gap / window`` (published together:
        0.6 of the text distance; at the window's edge: all of it), and set to 1 past the window.
        Undated pairs keep their text distance.
        """
        window = self.config.event_window_days
        if window <= 0:
            return distances
        gaps = np.abs(days[:, None] - days[None, :])
        dated = ~np.isnan(gaps)
        scale = _SAME_TIME_FACTOR + (1.0 - _SAME_TIME_FACTOR) * np.minimum(
            np.where(dated, gaps, window) / window, 1.0
        )
        scaled = np.where(dated, distances * scale, distances)
        return np.where(dated & (gaps > window), 1.0, scaled)

    @staticmethod
    def _split(distances: np.ndarray, threshold: float) -> list[np.ndarray]:
        """Positions of each average-link cluster, ordered by first position."""
        labels = _average_link(distances.copy(), threshold)
        order: dict[int, list[int]] = {}
        for position, label in enumerate(labels):
            order.setdefault(int(label), []).append(position)
        return [np.array(p) for p in order.values()]

    def top_terms(self, rows: Sequence[int], count: int) -> tuple[str, ...]:
        """The ``count`` heaviest features of the centroid of ``rows``."""
        if count <= 0 or not len(rows) or self.matrix_.shape[1] == 0:
            return ()
        # Only the columns the rows use can be positive: rank those (in column order, as a
        # stable sort of the whole centroid would), not the whole vocabulary.
        block = self.matrix_[list(rows)]
        columns = np.unique(block.indices)
        centroid = np.asarray(block[:, columns].sum(axis=0)).ravel() / len(rows)
        if len(centroid) > count:  # only values at least the count-th largest can rank
            kth = np.partition(centroid, len(centroid) - count)[len(centroid) - count]
            near = np.flatnonzero(centroid >= kth)
            best = near[np.argsort(-centroid[near], kind="stable")][:count]
        else:
            best = np.argsort(-centroid, kind="stable")[:count]
        return tuple(str(self.feature_names_[columns[i]]) for i in best if centroid[i] > 0)


def _renumber(labels: np.ndarray) -> np.ndarray:
    """Renumber labels 0, 1, ... in order of first appearance."""
    seen: dict[int, int] = {}
    return np.array([seen.setdefault(int(x), len(seen)) for x in labels], dtype=np.int64)
