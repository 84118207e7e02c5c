"""The Python API: the same jobs as the commands, with no subprocess."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from importlib.resources import files
from pathlib import Path
from typing import Any

from . import pipeline
from .config import PipelineConfig
from .errors import InputError
from .io.dates import parse_date
from .io.readers import FieldNames, read_documents
from .parallel import Progress
from .types import Document, Rejected, Result


def seeds_path() -> Path:
    """The folder of seed articles shipped inside the package."""
    return Path(str(files("dedup") / "seeds"))


def _string(record: Mapping[str, Any], key: str, position: int) -> str | None:
    value = record.get(key)
    if value is None or isinstance(value, str):
        return value
    raise InputError(
        "<records>", position, f"{key!r} must be a string or null, not {type(value).__name__}"
    )


def as_document(record: Document | Mapping[str, Any], position: int = 0) -> Document:
    """Accept a :class:`Document` or a mapping with ``id``, ``text`` and optional fields."""
    if isinstance(record, Document):
        return record
    if "text" not in record or not isinstance(record["text"], str):
        raise InputError("<records>", position, "each record needs a string 'text'")
    doc_id = record.get("id", position)
    date = record.get("date")
    return Document(
        id=str(doc_id),
        text=record["text"],
        title=_string(record, "title", position),
        source=_string(record, "source", position),
        published=parse_date(date) if isinstance(date, str) else None,
        url=_string(record, "url", position),
        fields=dict(record),
        origin=f"<records>:{position}",
    )


def run(
    documents: Iterable[Document | Mapping[str, Any]],
    config: PipelineConfig | None = None,
    *,
    cluster: bool = True,
) -> Result:
    """Run the pipeline on documents (or dicts with ``id``, ``text``, ``title``, ...).

    Args:
        documents: Articles in input order.
        config: Settings; the defaults when None.
        cluster: Run the event/story stage.

    Returns:
        The :class:`~dedup.types.Result`; ``dedup.report.iter_records(result, with_input=True,
        with_text=True)`` gives the same records as ``dedup run --format jsonl --with-input
        --with-text``.
    """
    docs = (as_document(d, i + 1) for i, d in enumerate(documents))
    return pipeline.run(docs, config, cluster=cluster)


def read(
    inputs: Sequence[str | Path],
    *,
    fields: FieldNames | None = None,
    on_error: str = "fail",
    rejected: list[Rejected] | None = None,
) -> Iterator[Document]:
    """Read documents from files, folders or ``-`` (the seed articles when ``inputs`` is empty)."""
    paths = list(inputs) or [seeds_path()]
    return read_documents(
        paths, fields=fields or FieldNames(), on_error=on_error, rejected=rejected
    )


def run_files(
    inputs: Sequence[str | Path],
    config: PipelineConfig | None = None,
    *,
    fields: FieldNames | None = None,
    cluster: bool = True,
    progress: Progress | None = None,
    keep_input: bool = True,
) -> Result:
    """Read ``inputs`` (see :func:`read`) and run the pipeline on them.

    ``keep_input=False`` drops the texts and input fields from the result once they are used
    (see :func:`dedup.pipeline.run`), for callers that write no text.
    """
    config = config or PipelineConfig()
    rejected: list[Rejected] = []
    docs = read(inputs, fields=fields, on_error=config.on_error, rejected=rejected)
    return pipeline.run(
        docs, config, rejected=rejected, cluster=cluster, progress=progress, keep_input=keep_input
    )
