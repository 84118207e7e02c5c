"""What every human-readable report shows, computed once: stories > events > articles."""

from __future__ import annotations

from dataclasses import dataclass

from ..types import ArticleResult, Cluster, Document, Result


@dataclass(frozen=True, slots=True)
class ArticleLine:
    """One article as a report lists it."""

    id: str
    title: str
    source: str
    date: str
    duplicate_of: str | None
    similarity: float | None


@dataclass(frozen=True, slots=True)
class EventView:
    """An event with its articles (earliest first) and date span."""

    cluster: Cluster
    articles: tuple[ArticleLine, ...]
    span: str


@dataclass(frozen=True, slots=True)
class StoryView:
    """A story with its events (earliest first)."""

    cluster: Cluster
    events: tuple[EventView, ...]
    span: str


def _line(doc: Document, article: ArticleResult) -> ArticleLine:
    title = doc.title or (
        article.cleaned_text.split("\n", 1)[0][:80] if article.cleaned_text else ""
    )
    date = doc.published.strftime("%Y-%m-%d %H:%M") if doc.published else ""
    return ArticleLine(
        doc.id,
        title or "(untitled)",
        doc.source or "",
        date.replace(" 00:00", ""),
        article.duplicate_of,
        article.similarity,
    )


def _span(lines: tuple[ArticleLine, ...]) -> str:
    dates = sorted(line.date[:10] for line in lines if line.date)
    if not dates:
        return ""
    return dates[0] if dates[0] == dates[-1] else f"{dates[0]} .. {dates[-1]}"


def _sort_key(line: ArticleLine) -> tuple[bool, str]:
    return (not line.date, line.date)


def outline(result: Result) -> tuple[StoryView, ...]:
    """Stories, largest first, each holding its events, largest first (ties keep input order)."""
    lines = {d.id: _line(d, a) for d, a in zip(result.documents, result.articles, strict=True)}
    events = {e.id: e for e in result.events}
    views = []
    for story in result.stories:
        event_views = []
        for event_id in story.children:
            event = events[event_id]
            members = tuple(sorted((lines[m] for m in event.members), key=_sort_key))
            event_views.append(EventView(event, members, _span(members)))
        event_views.sort(key=lambda v: -len(v.articles))
        all_lines = tuple(line for v in event_views for line in v.articles)
        views.append(StoryView(story, tuple(event_views), _span(all_lines)))
    views.sort(key=lambda v: -len(v.cluster.members))
    return tuple(views)


def titles(result: Result) -> dict[str, str]:
    """Id -> title (or the start of the text) for every article."""
    return {d.id: _line(d, a).title for d, a in zip(result.documents, result.articles, strict=True)}
