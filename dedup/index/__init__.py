"""A persistent, incremental index of articles (``dedup index add|query|stats|export``)."""

from .core import ArticleIndex
from .store import IndexFileError

__all__ = ["ArticleIndex", "IndexFileError"]
