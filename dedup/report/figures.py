"""Corpus figures for the human-readable reports: boilerplate share, duplicates by source."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from ..paragraphs import split_paragraphs
from ..types import Result

NO_SOURCE = "(no source)"


@dataclass(frozen=True, slots=True)
class SourceFigures:
    """What happened to one source's articles.

    Attributes:
        source: Outlet name, or ``(no source)``.
        articles: Articles read from it.
        copies: Its articles that are near-duplicates of an earlier (canonical) article.
        copied: Its canonical articles that at least one other article copies.
        removed: Paragraphs removed from its articles.
    """

    source: str
    articles: int
    copies: int
    copied: int
    removed: int


@dataclass(frozen=True, slots=True)
class CorpusFigures:
    """Corpus-wide figures.

    Attributes:
        characters: Characters of paragraph text read (non-blank lines, stripped).
        removed_characters: Characters of the paragraphs removed.
        removed_by_reason: Reason -> paragraphs removed for it, most frequent first.
        sources: Per-source figures, most articles first, then by name.
        copy_flows: ``(copy's source, canonical's source, count)``: who copied whom, most first.
    """

    characters: int
    removed_characters: int
    removed_by_reason: tuple[tuple[str, int], ...]
    sources: tuple[SourceFigures, ...]
    copy_flows: tuple[tuple[str, str, int], ...]

    @property
    def boilerplate_share(self) -> float:
        """Share of the text (0-1, by characters) that the paragraph stage removed."""
        return self.removed_characters / self.characters if self.characters else 0.0


def corpus_figures(result: Result) -> CorpusFigures:
    """Compute the corpus figures of ``result`` (a pure function; deterministic order)."""
    source_of = {d.id: d.source or NO_SOURCE for d in result.documents}
    characters = sum(len(p) for d in result.documents for p in split_paragraphs(d.text))
    removed_characters = sum(len(r.text) for a in result.articles for r in a.removed)
    reasons = Counter(r.reason for a in result.articles for r in a.removed)
    articles = Counter(source_of.values())
    copies = Counter(source_of[a.id] for a in result.articles if a.duplicate_of)
    copied = Counter(source_of[g.canonical] for g in result.dup_groups)
    removed: Counter[str] = Counter()
    for article in result.articles:
        removed[source_of[article.id]] += len(article.removed)
    flows = Counter(
        (source_of[a.id], source_of[a.duplicate_of]) for a in result.articles if a.duplicate_of
    )
    sources = tuple(
        SourceFigures(name, count, copies[name], copied[name], removed[name])
        for name, count in sorted(articles.items(), key=lambda item: (-item[1], item[0]))
    )
    return CorpusFigures(
        characters=characters,
        removed_characters=removed_characters,
        removed_by_reason=tuple(sorted(reasons.items(), key=lambda item: (-item[1], item[0]))),
        sources=sources,
        copy_flows=tuple(
            (copy, original, n)
            for (copy, original), n in sorted(flows.items(), key=lambda i: (-i[1], i[0]))
        ),
    )
