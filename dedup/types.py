"""The records that flow between the pipeline's stages.

Every record is a frozen dataclass keyed by the document id, so stages never
mutate what an earlier stage produced and the same input gives the same output.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True, slots=True)
class Document:
    """One input article, as read.

    Attributes:
        id: Unique identifier (a string; numbers are converted).
        text: Body text as given; paragraphs are its non-blank lines.
        title: Headline, or None.
        source: Outlet or domain, or None when unknown.
        published: Publication time, or None when unknown. Naive times are local to the source.
        url: Address, or None.
        fields: Every field of the input record as read (JSON value types), for pass-through.
        origin: Where it came from, as ``FILE:LINE`` (for messages).
    """

    id: str
    text: str
    title: str | None = None
    source: str | None = None
    published: datetime | None = None
    url: str | None = None
    fields: Mapping[str, Any] = field(default_factory=dict)
    origin: str = ""


@dataclass(frozen=True, slots=True)
class RemovedParagraph:
    """A paragraph (or part of one) that the paragraph stage removed.

    Attributes:
        paragraph: Index of the paragraph among the article's non-blank lines (0-based).
        reason: ``repeated`` (copy of an earlier paragraph of the same article),
            ``self-repeat`` (text glued to a copy of itself; one copy is kept),
            ``title-echo`` (an image placeholder or caption repeating the title),
            ``boilerplate`` (recurs across several unrelated articles of the source).
        text: The removed text as given.
        repeats: What it repeats: ``"paragraph 2"``, ``"title"``, or for boilerplate the number
            of articles of the source holding it (``"14 articles of vnexpress.net"``).
    """

    paragraph: int
    reason: str
    text: str
    repeats: str = ""

    def __reduce__(self) -> tuple[type[RemovedParagraph], tuple[int, str, str, str]]:
        # Pickled as a constructor call: a frozen dataclass with slots is otherwise pickled
        # through a state that lists its fields on every load (the paragraph stage sends a
        # million and more records from its workers: 2.8x faster to dump, 1.3x to load).
        return RemovedParagraph, (self.paragraph, self.reason, self.text, self.repeats)


@dataclass(frozen=True, slots=True)
class CleanedDocument:
    """A document after the paragraph stage.

    Attributes:
        id: The document id.
        paragraphs: The kept paragraphs, as given (not normalized).
        removed: What was removed, in paragraph order.
    """

    id: str
    paragraphs: tuple[str, ...]
    removed: tuple[RemovedParagraph, ...]

    @property
    def text(self) -> str:
        """The cleaned text: kept paragraphs joined by newlines."""
        return "\n".join(self.paragraphs)


@dataclass(frozen=True, slots=True)
class DupGroup:
    """A group of near-duplicate documents.

    Attributes:
        canonical: Id of the member kept (earliest, then longest, then smallest id).
        members: Every member id, canonical included, in input order.
        similarity: For each non-canonical member, its similarity to the canonical
            (0-1; the larger of Jaccard and containment of their shingle sets).
    """

    canonical: str
    members: tuple[str, ...]
    similarity: Mapping[str, float]


@dataclass(frozen=True, slots=True)
class Cluster:
    """An event or a story: a group of canonical documents.

    Attributes:
        id: ``e1``, ``e2``, ... for events, ``s1``, ... for stories (numbered by first member
            in input order).
        members: Ids of every document in it (duplicates included), in input order.
        terms: The terms that hold it together (highest centroid TF-IDF weight first).
        children: For a story, the ids of its events.
    """

    id: str
    members: tuple[str, ...]
    terms: tuple[str, ...] = ()
    children: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ArticleResult:
    """Everything dedup decided about one article.

    Attributes:
        id: The document id.
        duplicate_of: Id of the canonical copy, or None when the article is canonical or unique.
        similarity: Similarity to the canonical copy (0-1), or None.
        event: Event id.
        story: Story id.
        removed: Paragraphs removed by the paragraph stage.
        cleaned_text: Text after the paragraph stage.
    """

    id: str
    duplicate_of: str | None
    similarity: float | None
    event: str
    story: str
    removed: tuple[RemovedParagraph, ...]
    cleaned_text: str


@dataclass(frozen=True, slots=True)
class Rejected:
    """An input record that could not be read and was skipped (``on_error="skip"``).

    Attributes:
        origin: ``FILE:LINE``.
        reason: What is wrong with it.
        raw: The record exactly as read (text of the line or file), for the rejects file.
    """

    origin: str
    reason: str
    raw: str


@dataclass(frozen=True, slots=True)
class Result:
    """The whole outcome of a run.

    Attributes:
        documents: The documents read, in input order.
        articles: One result per document, in input order.
        dup_groups: Near-duplicate groups with two or more members, by first member.
        events: Event clusters, by first member.
        stories: Story clusters, by first member.
        rejected: Records skipped as unreadable.
        stats: Counts and per-stage timings (seconds), for the report.
    """

    documents: tuple[Document, ...]
    articles: tuple[ArticleResult, ...]
    dup_groups: tuple[DupGroup, ...]
    events: tuple[Cluster, ...]
    stories: tuple[Cluster, ...]
    rejected: tuple[Rejected, ...] = ()
    stats: Mapping[str, float] = field(default_factory=dict)
