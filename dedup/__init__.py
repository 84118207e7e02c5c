"""dedup: near-duplicate news articles, boilerplate paragraphs, events and stories.

Example:
    >>> import dedup
    >>> article = {"id": "a", "text": "Một bài báo."}
    >>> result = dedup.run([article, {**article, "id": "b"}])
    >>> result.articles[1].duplicate_of
    'a'
"""

from __future__ import annotations

import logging

from .api import read, run, run_files, seeds_path
from .config import (
    ClusterConfig,
    NearDupConfig,
    NormConfig,
    ParagraphConfig,
    PipelineConfig,
    ShingleConfig,
)
from .errors import ConfigError, DedupError, InputError, OutputError
from .types import ArticleResult, Cluster, Document, DupGroup, RemovedParagraph, Result

__all__ = [
    "ArticleResult",
    "Cluster",
    "ClusterConfig",
    "ConfigError",
    "DedupError",
    "Document",
    "DupGroup",
    "InputError",
    "NearDupConfig",
    "NormConfig",
    "OutputError",
    "ParagraphConfig",
    "PipelineConfig",
    "RemovedParagraph",
    "Result",
    "ShingleConfig",
    "read",
    "run",
    "run_files",
    "seeds_path",
]

logging.getLogger(__name__).addHandler(logging.NullHandler())
