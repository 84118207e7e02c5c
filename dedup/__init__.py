"""dedup: near-duplicate news articles, boilerplate paragraphs, events and stories.

Example:
    >>> import dedup
    >>> article = {"id": "a", "text": "Một bài báo."}
    >>> result = dedup.run([article, {**article, "id": "b"}])
    >>> result.articles[1].duplicate_of
    'a'
"""

from __future__ import annotations

import importlib
import logging
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
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

# Each public name and its module, imported on first use: ``import dedup`` (and so the command
# line's entry point, see ``__main__``) stays quick until numpy and scikit-learn are needed.
_MODULE_OF = {
    **dict.fromkeys(("read", "run", "run_files", "seeds_path"), "api"),
    **dict.fromkeys(
        (
            "ClusterConfig",
            "NearDupConfig",
            "NormConfig",
            "ParagraphConfig",
            "PipelineConfig",
            "ShingleConfig",
        ),
        "config",
    ),
    **dict.fromkeys(("ConfigError", "DedupError", "InputError", "OutputError"), "errors"),
    **dict.fromkeys(
        ("ArticleResult", "Cluster", "Document", "DupGroup", "RemovedParagraph", "Result"),
        "types",
    ),
}

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


def __getattr__(name: str) -> Any:
    """The public name ``name``, imported from its module on first use (PEP 562)."""
    if name not in _MODULE_OF:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{_MODULE_OF[name]}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    """The module's names, the public ones included before their first use."""
    return sorted({*globals(), *__all__})
