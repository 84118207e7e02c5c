"""The clustering stage: TF-IDF vectors and average-link clustering into events and stories.

The stage has three parts, kept apart:

* **features** (:mod:`dedup.features`, :mod:`dedup.tfidf`): canonical articles become
  sublinear TF-IDF vectors of their tokens, adjacent token pairs, title terms and name
  sequences, L2-normalized; terms of fewer than ``min_df`` articles are dropped.
* **cut heights** (:func:`cut_heights`): fixed when configured, otherwise derived from the
  corpus' own distribution of pairwise similarities (median plus ``z`` robust spreads, see
  :class:`~dedup.config.ClusterConfig`; on a corpus of a few subjects, where that assumes
  wrongly that most pairs are unrelated, the split that best parts the pairs in two).
* **linkage**: average-link clustering on cosine distance, cut at the story height, then inside
  each story at the event height, where dated articles more than ``event_window_days`` apart
  are unrelated (distance 1). Events therefore always nest inside stories. At both levels an
  article left alone joins the cluster of its closest article within the cut
  (:mod:`dedup.strays`). A story whose two halves are linked nearer chance (the corpus'
  median similarity) than its looser half holds together is then cut apart again
  (:mod:`dedup.splits`), before its events are found.

Scaling: two clusters can merge under average linkage at height ``t`` only if some pair across
them is closer than ``t``. So stories come from the sparse graph of pairs closer than the story
threshold, never a dense n x n matrix: each connected block of that graph is clustered on its
own, stories to events, in ``jobs`` processes (:mod:`dedup.blocks`; the output does not depend
on ``jobs``). A block of up to 2,000 articles is clustered on its dense similarities, which its
stories' events then read; a larger one by exact average linkage over its close pairs
(:mod:`dedup.linkage`), and its stories' events too when a story is that large (with the date
constraint).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from datetime import datetime

import numpy as np
import scipy.sparse as sp
from scipy.cluster.hierarchy import linkage
from scipy.spatial.distance import squareform

from .background import MIN_BACKGROUND_DOCS as _MIN_BACKGROUND_DOCS
from .background import background_similarity as background_similarity
from .background import median_spread as _median_spread
from .background import pair_similarities as _pair_similarities
from .background import two_group_split as two_group_split  # patched by name in tests
from .blocks import block_pairs, connected_blocks, map_blocks, pairs_by_block
from .config import ClusterConfig
from .dendrogram import flat_clusters
from .linkage import average_link_labels, dated_labels, story_pairs, use_compiled
from .pairs import used_columns
from .splits import (
    block_similarity,
    blocks_typical_rows,
    dense_similarity,
    split_merged,
    unpacked_within_clusters,
    within_clusters,
)
from .strays import attach_strays, dense_pairs
from .terms import cluster_terms
from .tfidf import FeatureNames, Tokens, Vocabulary, tfidf_from_tokens

_DENSE_EVENT_ROWS = 2000  # larger stories split into events without a dense matrix (32 MB here)


def cut_heights(
    matrix: sp.csr_matrix, config: ClusterConfig, *, similarities: np.ndarray | None = None
) -> tuple[float, float]:
    """Return the ``(event, story)`` cut heights (cosine distances, 0-1) for this corpus.

    A fixed ``event_threshold``/``story_threshold`` is used as given; otherwise the height is
    ``1 - (median + z * spread)`` of :func:`background_similarity`, kept within
    ``height_band``, or ``small_corpus_threshold`` when the corpus is too small to measure.
    When the story height ``1 - (median + story_z * spread)`` falls below the band, the pairs
    are not mostly unrelated (a corpus of a few subjects, whose related pairs inflate the
    spread), so the median and spread measure no background: both levels are then cut at
    :func:`two_group_split` of the pairs sharing some term instead, kept within the band.
    The event height never exceeds the story height. ``similarities``: the pairs'
    similarities when already measured (``_pair_similarities(matrix)``; measured when None).
    """
    pairs = (
        (_pair_similarities(matrix) if similarities is None else similarities)
        if config.event_threshold is None or config.story_threshold is None
        else None
    )
    background = None if pairs is None else _median_spread(pairs)
    low, high = config.height_band
    split = None
    if background is not None:
        median, spread = background
        if 1.0 - (median + config.story_z * spread) < low:
            # Pairs sharing no term tell nothing of related articles (a corpus of two
            # languages holds many): the split is of the pairs sharing some term.
            split = two_group_split(pairs[pairs > 0.0])

    def height(fixed: float | None, z: float) -> float:
        if fixed is not None:
            return fixed
        if background is None:
            return config.small_corpus_threshold
        if split is not None:
            return float(np.clip(1.0 - split, low, high))
        median, spread = background
        return float(np.clip(1.0 - (median + z * spread), low, high))

    story = height(config.story_threshold, config.story_z)
    return min(height(config.event_threshold, config.event_z), story), story


def _average_link(distances: np.ndarray, threshold: float) -> np.ndarray:
    """Flat average-link clusters of a square distance matrix cut at ``threshold``."""
    if len(distances) == 1:
        return np.zeros(1, dtype=np.int64)
    np.fill_diagonal(distances, 0.0)
    tree = linkage(squareform(distances, checks=False), method="average")
    # Cut strictly below the threshold plus a hair, so "distance <= threshold" merges.
    return flat_clusters(tree, threshold + 1e-9)


def _days(when: datetime | None) -> float:
    """Days since the epoch, ignoring time zones (NaN when unknown)."""
    return float("nan") if when is None else when.replace(tzinfo=None).timestamp() / 86400.0


class EventStoryClusterer:
    """Clusters documents into stories and, inside them, events.

    Args:
        config: Cut heights and weights (see :class:`~dedup.config.ClusterConfig`).
        jobs: Processes that cluster the blocks of the story graph (1 or more); the labels
            do not depend on it.

    Attributes:
        event_threshold_: After :meth:`fit`, the event cut height used (cosine distance, 0-1).
        story_threshold_: The story cut height used.
        story_labels_: After :meth:`fit`, a story number for each document (0-based, numbered by
            first document).
        event_labels_: An event number for each document (0-based, numbered by first document).
        matrix_: The TF-IDF matrix.
        feature_names_: Its column names.
        seconds_: After :meth:`fit_matrix`, the wall-clock seconds of its parts:
            ``pair_search`` (the pairs closer than the story cut), ``stories`` and ``events``
            (the two passes over the blocks of the pair graph).
    """

    seconds_: dict[str, float]

    def __init__(self, config: ClusterConfig | None = None, *, jobs: int = 1) -> None:
        self.config = config or ClusterConfig()
        self.jobs = jobs  # processes for the blocks of the story graph (dedup/blocks.py)

    def fit(
        self,
        bodies: Sequence[Tokens],
        *,
        titles: Sequence[Tokens],
        published: Sequence[datetime | None],
        names: Sequence[Tokens] | None = None,
        vocabulary: Vocabulary | None = None,
    ) -> EventStoryClusterer:
        """Cluster documents given as token lists (strings, or ids of ``vocabulary``).

        Args:
            bodies: Normalized tokens of each document's cleaned text.
            titles: Normalized tokens of each title (empty when none).
            published: Publication times (None when unknown).
            names: Name-sequence features of each document
                (:func:`~dedup.features.name_sequences` of its title and text); none when None.
            vocabulary: What id-array tokens refer to (:class:`~dedup.tfidf.Vocabulary`); the
                pipeline passes ids, 4 bytes a token instead of a string reference and more.

        Returns:
            self
        """
        matrix, feature_names = self.features(
            bodies, titles=titles, names=names, vocabulary=vocabulary
        )
        return self.fit_matrix(matrix, feature_names, published=published)

    def features(
        self,
        bodies: Sequence[Tokens],
        *,
        titles: Sequence[Tokens],
        names: Sequence[Tokens] | None = None,
        vocabulary: Vocabulary | None = None,
    ) -> tuple[sp.csr_matrix, FeatureNames | np.ndarray]:
        """The TF-IDF matrix of the documents and its column names: the first half of :meth:`fit`.

        The pipeline calls it, then frees the tokens, then :meth:`fit_matrix` (the tokens are
        not needed past the matrix, and the pair search is the stage's largest).
        """
        n = len(bodies)
        if not n:
            return sp.csr_matrix((0, 0)), np.array([])
        return tfidf_from_tokens(
            bodies,
            titles,
            names if names is not None else [()] * n,
            title_weight=self.config.title_weight,
            name_weight=self.config.name_weight,
            min_df=self.config.min_df if n >= _MIN_BACKGROUND_DOCS else 1,
            vocabulary=vocabulary,
        )

    def fit_matrix(
        self,
        matrix: sp.csr_matrix,
        feature_names: FeatureNames | np.ndarray,
        *,
        published: Sequence[datetime | None],
    ) -> EventStoryClusterer:
        """Cluster documents given as their :meth:`features`: the second half of :meth:`fit`.

        Returns:
            self
        """
        n = matrix.shape[0]
        self.matrix_, self.feature_names_ = matrix, feature_names
        similarities = _pair_similarities(matrix)  # once: the cut heights and the split
        self.event_threshold_, self.story_threshold_ = cut_heights(
            matrix, self.config, similarities=similarities
        )
        self._background = 0.0 if similarities is None else _median_spread(similarities)[0]
        self._published_days = np.array([_days(p) for p in published], dtype=np.float64)
        self._compiled = use_compiled(n)  # decided by the corpus: its blocks are small
        # Stories: average link over the graph of close pairs, each connected block of it
        # apart (dedup/blocks.py), so no dense matrix spans more than one block of dense size
        # (larger ones: over their pairs, dedup/linkage.py); events: inside each story. A row
        # in no block is a story of its own.
        stories, events = np.arange(n, dtype=np.int64), np.arange(n, dtype=np.int64)
        started = time.perf_counter()
        pairs = story_pairs(matrix, self.story_threshold_) if n else None
        blocks = connected_blocks(n, pairs[0], pairs[1]) if pairs is not None else []
        tasks = list(zip(blocks, pairs_by_block(blocks, n, pairs), strict=True)) if blocks else []
        costs = [float(len(b)) ** 2 for b in blocks]
        searched = time.perf_counter()
        # Two passes over the blocks: their stories as average link leaves them, then (with
        # what the whole corpus' stories tell, once known) their split and events.
        linked = map_blocks(self._block_stories, tasks, costs, self.jobs)
        labels_of_blocks = [labels for labels, _ in linked]
        self._typical_rows = blocks_typical_rows(n, blocks, labels_of_blocks)  # before the fork
        linked_at = time.perf_counter()
        found = map_blocks(self._block_events, list(zip(tasks, linked)), costs, self.jobs)  # noqa: B905
        self.seconds_ = {
            "pair_search": searched - started,
            "stories": linked_at - searched,
            "events": time.perf_counter() - linked_at,
        }
        next_story = next_event = n  # fresh numbers, past every row's own
        for block_stories in found:
            for story in block_stories:
                for event in story:
                    stories[event], events[event] = next_story, next_event
                    next_event += 1
                next_story += 1
        self.story_labels_ = _renumber(stories)
        self.event_labels_ = _renumber(events)
        return self

    def _block_stories(
        self, task: tuple[np.ndarray, tuple[np.ndarray, np.ndarray, np.ndarray]]
    ) -> tuple[np.ndarray, np.ndarray | None]:
        """The stories of one block (its rows ascending, its pairs), before any split.

        A block of up to ``_DENSE_EVENT_ROWS`` rows is clustered on its dense similarities,
        as events are (the same average link as over the graph of its close pairs, each
        cluster pair's sum read from the similarities instead of dotting the clusters' row
        sums: 50,000 news articles, 1.5 CPU-s instead of 1.9); a larger one over its pairs.

        Returns:
            A story label per row, and the similarities within each story packed
            (:func:`~dedup.splits.within_clusters`: the events pass reads them instead of
            multiplying the stories' rows again), or None for a block past dense size.
        """
        rows, pairs = task
        if len(rows) <= _DENSE_EVENT_ROWS:
            similarity = block_similarity(self.matrix_, rows, compiled=self._compiled)
            distances = np.clip(1.0 - similarity, 0.0, 1.0)
            labels = self._dense_labels(
                distances, self.story_threshold_, strays=self.config.attach_strays
            )
            return labels, within_clusters(similarity, labels)
        local = block_pairs(rows, pairs)
        labels = average_link_labels(
            self.matrix_[rows], local, self.story_threshold_, compiled=self._compiled
        )
        return (attach_strays(labels, *local) if self.config.attach_strays else labels), None

    def _block_events(
        self, task: tuple[tuple[np.ndarray, tuple], tuple[np.ndarray, np.ndarray | None]]
    ) -> list[list[np.ndarray]]:
        """Per split story of one block, the rows of each of its events.

        ``task``: the block's task, and its stories as :meth:`_block_stories` gives them.
        Stories and events are ordered by first row.
        """
        (rows, _), (labels, packed) = task
        # Each story's own similarities, for its split and its events (a block of dense size).
        similarity = None if packed is None else unpacked_within_clusters(packed, labels)
        labels = split_merged(
            self.matrix_[rows] if similarity is None else None,
            labels,
            self._background,
            max_rows=_DENSE_EVENT_ROWS,
            cut=1.0 - self.story_threshold_,
            typical_rows=self._typical_rows,
            similarity=similarity,
        )
        members_of: dict[int, list[int]] = {}
        for position, story in enumerate(labels.tolist()):
            members_of.setdefault(story, []).append(position)
        stories = []
        for members in members_of.values():
            sub = rows[members]
            own = None if similarity is None else similarity[np.ix_(members, members)]
            events = self._events(sub, self._published_days[sub], similarity=own)
            stories.append([sub[event] for event in events])
        return stories

    def singletons(self, n: int) -> EventStoryClusterer:
        """Skip clustering: every document is its own event and story."""
        self.matrix_, self.feature_names_ = sp.csr_matrix((n, 0)), np.array([])
        self.event_threshold_ = self.story_threshold_ = 0.0
        self.story_labels_ = self.event_labels_ = np.arange(n, dtype=np.int64)
        self.seconds_ = {}
        return self

    def _events(
        self, sub: np.ndarray, days: np.ndarray, *, similarity: np.ndarray | None = None
    ) -> list[np.ndarray]:
        """Positions in ``sub`` (one story's rows) of each of its events, by first position.

        A story of up to ``_DENSE_EVENT_ROWS`` rows uses a dense distance matrix; a larger
        one the graph of its close pairs (:func:`~dedup.linkage.dated_labels`), which needs
        no matrix of the story's size squared. ``similarity``: the story's dense similarities
        when already computed (:func:`~dedup.splits.dense_similarity`).
        """
        if len(sub) == 1:  # most stories of a large corpus: nothing to split
            return [np.zeros(1, dtype=np.int64)]
        level = 1.0 - self.event_threshold_ - 1e-9
        if len(sub) <= _DENSE_EVENT_ROWS or level <= 0.0:
            distances = (
                self._distances(sub)
                if similarity is None
                else np.clip(1.0 - similarity, 0.0, 1.0)  # as _distances makes them
            )
            distances = self._with_dates(distances, days)
            return self._split(distances, self.event_threshold_, strays=self.config.attach_strays)
        labels = dated_labels(
            used_columns(self.matrix_[sub]),
            days,
            self.event_threshold_,
            self.config.event_window_days,
            strays=self.config.attach_strays,
        )
        order: dict[int, list[int]] = {}
        for position, label in enumerate(labels.tolist()):
            order.setdefault(label, []).append(position)
        return [np.array(p) for p in order.values()]

    def _distances(self, index: np.ndarray) -> np.ndarray:
        """Dense cosine distances among the rows ``index`` (one connected block)."""
        similarity = dense_similarity(self.matrix_[index], compiled=self._compiled)
        return np.clip(1.0 - similarity, 0.0, 1.0)

    def _with_dates(self, distances: np.ndarray, days: np.ndarray) -> np.ndarray:
        """Event distances: dated articles more than ``event_window_days`` apart are unrelated.

        Dates are a constraint only, never a bonus: a day's news holds many unrelated
        happenings, so being published together is no evidence of one event.
        """
        window = self.config.event_window_days
        if window <= 0:
            return distances
        gaps = np.abs(days[:, None] - days[None, :])
        return np.where(~np.isnan(gaps) & (gaps > window), 1.0, distances)

    @staticmethod
    def _dense_labels(
        distances: np.ndarray, threshold: float, *, strays: bool = False
    ) -> np.ndarray:
        """A label per row: average-link clusters of a dense distance matrix cut at ``threshold``.

        With ``strays``, an article left alone joins its closest article's cluster within the
        threshold (:mod:`dedup.strays`).
        """
        labels = _average_link(distances.copy(), threshold)
        return attach_strays(labels, *dense_pairs(distances, threshold)) if strays else labels

    @staticmethod
    def _split(
        distances: np.ndarray, threshold: float, *, strays: bool = False
    ) -> list[np.ndarray]:
        """Positions of each average-link cluster (:meth:`_dense_labels`), by first position."""
        labels = EventStoryClusterer._dense_labels(distances, threshold, strays=strays)
        order: dict[int, list[int]] = {}
        for position, label in enumerate(labels):
            order.setdefault(int(label), []).append(position)
        return [np.array(p) for p in order.values()]

    def top_terms(self, rows: Sequence[int], count: int) -> tuple[str, ...]:
        """The ``count`` heaviest terms of the centroid of ``rows`` (see :meth:`cluster_terms`)."""
        return self.cluster_terms([rows], count)[0]

    def cluster_terms(self, clusters: Sequence[Sequence[int]], count: int) -> list[tuple[str, ...]]:
        """The ``count`` heaviest terms of the centroid of each cluster's rows.

        A name-sequence feature is shown as the name itself, once (``afghanistan`` as a word
        and as a name is one term). All clusters at once (:func:`dedup.terms.cluster_terms`).
        """
        return cluster_terms(self.matrix_, self.feature_names_, clusters, count)


def _renumber(labels: np.ndarray) -> np.ndarray:
    """Renumber labels 0, 1, ... in order of first appearance."""
    seen: dict[int, int] = {}
    return np.array([seen.setdefault(int(x), len(seen)) for x in labels], dtype=np.int64)
