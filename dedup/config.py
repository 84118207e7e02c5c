"""Configuration: one small frozen dataclass per stage, composed into :class:`PipelineConfig`.

Configs hold values only. They are validated in ``__post_init__`` so a bad value fails at the
boundary with a message naming the parameter, its range and the value received.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .errors import ConfigError


def _check_range(owner: str, name: str, value: float, low: float, high: float) -> None:
    """Raise ConfigError unless ``low <= value <= high``."""
    if not (low <= value <= high):
        raise ConfigError(
            f"The {name!r} parameter of {owner} must be in [{low}, {high}]. Got {value!r} instead."
        )


@dataclass(frozen=True, slots=True)
class NormConfig:
    """How text is normalized before any comparison (shared by every stage).

    Attributes:
        casefold: Fold case (``True``). Diacritics are never stripped.
        tone_placement: Move Vietnamese tone marks to one placement (old style: ``hòa``,
            ``thúy``), so ``hoà``/``hòa`` are one word. A no-op for other languages.
        strip_embeds: Drop embed codes such as ``[mecloud]...[/mecloud]``.
    """

    casefold: bool = True
    tone_placement: bool = True
    strip_embeds: bool = True


@dataclass(frozen=True, slots=True)
class ShingleConfig:
    """How documents become shingle sets and MinHash signatures.

    Attributes:
        k: Words per shingle (1-10, default 5).
        num_perm: MinHash permutations (16-1024, default 128).
        max_shingles: Cap on distinct shingles kept per document (default 20,000). Past it the
            ``max_shingles`` smallest shingle hashes are kept (a consistent sample, so Jaccard and
            containment stay unbiased) and memory stays bounded on huge articles.
        seed: Seed of the hash permutations.
    """

    k: int = 5
    num_perm: int = 128
    max_shingles: int = 20_000
    seed: int = 1

    def __post_init__(self) -> None:
        _check_range("ShingleConfig", "k", self.k, 1, 10)
        _check_range("ShingleConfig", "num_perm", self.num_perm, 16, 1024)
        _check_range("ShingleConfig", "max_shingles", self.max_shingles, 100, 10**7)


@dataclass(frozen=True, slots=True)
class ParagraphConfig:
    """How repeated and boilerplate paragraphs are found.

    Attributes:
        k: Words per paragraph shingle (default 3; shorter paragraphs are one shingle).
        threshold: Jaccard similarity (0-1) at which two paragraphs count as the same (0.8).
        boilerplate_min_docs: A paragraph is boilerplate when it recurs in at least this many
            articles of one source (default 3) ...
        boilerplate_max_overlap: ... and those articles are otherwise different: their mean
            paragraph-set Jaccard stays below this (0-1, default 0.5). Syndicated copies of one
            article share every paragraph and are left to the near-duplicate stage.
        num_perm: MinHash permutations for paragraphs (default 64).
    """

    k: int = 3
    threshold: float = 0.8
    boilerplate_min_docs: int = 3
    boilerplate_max_overlap: float = 0.5
    num_perm: int = 64

    def __post_init__(self) -> None:
        _check_range("ParagraphConfig", "threshold", self.threshold, 0.05, 1.0)
        _check_range("ParagraphConfig", "boilerplate_min_docs", self.boilerplate_min_docs, 2, 10**9)
        _check_range(
            "ParagraphConfig", "boilerplate_max_overlap", self.boilerplate_max_overlap, 0, 1
        )


@dataclass(frozen=True, slots=True)
class NearDupConfig:
    """How near-duplicate documents are found and verified.

    Attributes:
        lsh_threshold: Jaccard level the LSH bands are tuned for (0-1, default 0.3); it only
            proposes candidates, every one is then verified on the shingle sets.
        threshold: Verified Jaccard at which two documents are duplicates (0-1, default 0.5).
        containment: Verified containment (shared shingles over the smaller set) at which two
            documents are duplicates (0-1, default 0.8): catches truncated copies.
        min_size_ratio: The containment rule holds only when the smaller shingle set
            is at least this share of the larger's size (0-1, default 0.5; 0 turns the floor
            off). A truncated copy keeps at least half of its original; a text under half the
            size of another is an excerpt, or a short article quoted inside a longer one, and
            containment alone would join it, and through it every article that quotes it, into
            one group. A fully contained copy of half the size already passes the Jaccard
            rule, so the containment rule adds the truncated copies that are also edited.
        min_shingles: Documents with fewer distinct shingles are compared only when identical
            after normalization (default 5).
    """

    lsh_threshold: float = 0.3
    threshold: float = 0.5
    containment: float = 0.8
    min_size_ratio: float = 0.5
    min_shingles: int = 5

    def __post_init__(self) -> None:
        _check_range("NearDupConfig", "lsh_threshold", self.lsh_threshold, 0.05, 1.0)
        _check_range("NearDupConfig", "threshold", self.threshold, 0.05, 1.0)
        _check_range("NearDupConfig", "containment", self.containment, 0.05, 1.0)
        _check_range("NearDupConfig", "min_size_ratio", self.min_size_ratio, 0.0, 1.0)


@dataclass(frozen=True, slots=True)
class ClusterConfig:
    """How canonical articles are grouped into events and stories.

    Distances are cosine distances (1 - cosine similarity, 0-1) between TF-IDF vectors; the
    clustering is average-link, cut at two heights. By default each height comes from the
    corpus itself: two articles of a news corpus are mostly unrelated, so the median of the
    pairwise similarities and their spread (median absolute deviation, scaled to a standard
    deviation) describe how similar *unrelated* articles are; a cut at ``z`` spreads above that
    median keeps in one cluster only articles far more similar than chance. The same ``z``
    then serves short and long articles, Vietnamese and English, where the best fixed distance
    moves from 0.6 to 0.9.

    Attributes:
        event_threshold: Fixed cut height for events (cosine distance 0-1), or None (default)
            for the corpus-derived height ``event_z``.
        story_threshold: Fixed cut height for stories (0-1, at least ``event_threshold``), or
            None (default) for ``story_z``.
        event_z: Spreads above the median pairwise similarity an event's average link must
            reach (0-100, default 10, at least ``story_z``).
        story_z: The same for stories (0-100, default 10).
        small_corpus_threshold: The cut height (0-1, default 0.8) used for both levels when a
            corpus has too few articles (under 30) to measure its similarity distribution.
        height_band: Lowest and highest corpus-derived cut height (cosine distances, default
            0.78 to 0.86). The median-and-spread estimate assumes most pairs of articles are
            unrelated; on a corpus of a few stories (half the pairs related) the spread is
            inflated and the estimate would cut every story apart, so it is kept in this band,
            where links between articles of one event fall on news text. Below the band the
            estimate has failed, and the two-group split of the pairs is used instead
            (:func:`dedup.cluster.cut_heights`), kept in the band too.
        event_window_days: Two dated articles further apart than this never share an event
            (days, default 7; 0 turns the constraint off).
        title_weight: Extra times the title's terms count (0-5, default 2).
        name_weight: Extra times each run of capitalised words counts (0-5, default 1).
        min_df: Terms found in fewer articles are dropped (default 2): a term of one article
            cannot make it similar to another, it only dilutes its vector. Corpora too small
            to measure (under 30 articles) keep every term, as ``small_corpus_threshold``
            assumes.
        top_terms: Terms reported per cluster (default 8).
        attach_strays: An article average linkage leaves alone joins the cluster of its most
            similar article when that pair is within the cut (default True; see
            :mod:`dedup.strays`): a large event written from many angles keeps the articles
            close to only a few of its members.
    """

    event_threshold: float | None = None
    story_threshold: float | None = None
    event_z: float = 10.0
    story_z: float = 10.0
    small_corpus_threshold: float = 0.8
    height_band: tuple[float, float] = (0.78, 0.86)
    event_window_days: float = 7.0
    title_weight: int = 2
    name_weight: int = 1
    min_df: int = 2
    top_terms: int = 8
    attach_strays: bool = True

    def __post_init__(self) -> None:
        for name in ("event_threshold", "story_threshold"):
            value = getattr(self, name)
            if value is not None:
                _check_range("ClusterConfig", name, value, 0.0, 1.0)
        if (
            self.event_threshold is not None
            and self.story_threshold is not None
            and self.story_threshold < self.event_threshold
        ):
            raise ConfigError(
                "The 'story_threshold' parameter of ClusterConfig must be at least "
                f"event_threshold ({self.event_threshold}). Got {self.story_threshold!r} instead: "
                "stories hold events, so they are cut higher."
            )
        _check_range("ClusterConfig", "event_z", self.event_z, 0.0, 100.0)
        _check_range("ClusterConfig", "story_z", self.story_z, 0.0, 100.0)
        if self.event_z < self.story_z:
            raise ConfigError(
                f"The 'event_z' parameter of ClusterConfig must be at least story_z "
                f"({self.story_z}). Got {self.event_z!r} instead: events are the tighter cut."
            )
        _check_range(
            "ClusterConfig", "small_corpus_threshold", self.small_corpus_threshold, 0.0, 1.0
        )
        low, high = self.height_band
        if not 0.0 <= low <= high <= 1.0:
            raise ConfigError(
                "The 'height_band' parameter of ClusterConfig must be (low, high) with "
                f"0 <= low <= high <= 1. Got {self.height_band!r} instead."
            )
        _check_range("ClusterConfig", "title_weight", self.title_weight, 0, 5)
        _check_range("ClusterConfig", "name_weight", self.name_weight, 0, 5)
        _check_range("ClusterConfig", "min_df", self.min_df, 1, 10**9)


@dataclass(frozen=True, slots=True)
class PipelineConfig:
    """Every setting of a run.

    Attributes:
        norm: Text normalization, shared by all stages.
        shingles: Document shingles and signatures.
        paragraphs: Repeated and boilerplate paragraphs.
        neardup: Near-duplicate documents.
        cluster: Events and stories.
        on_error: ``"fail"`` stops at the first unreadable record; ``"skip"`` counts it and
            keeps it for the rejects file.
        jobs: Worker processes (1 or more); results do not depend on it.
    """

    norm: NormConfig = field(default_factory=NormConfig)
    shingles: ShingleConfig = field(default_factory=ShingleConfig)
    paragraphs: ParagraphConfig = field(default_factory=ParagraphConfig)
    neardup: NearDupConfig = field(default_factory=NearDupConfig)
    cluster: ClusterConfig = field(default_factory=ClusterConfig)
    on_error: str = "fail"
    jobs: int = 1

    def __post_init__(self) -> None:
        if self.on_error not in ("fail", "skip"):
            raise ConfigError(
                f"The 'on_error' parameter of PipelineConfig must be 'fail' or 'skip'. "
                f"Got {self.on_error!r} instead."
            )
        if self.jobs < 1:
            raise ConfigError(
                f"The 'jobs' parameter must be at least 1. Got {self.jobs!r} instead."
            )
