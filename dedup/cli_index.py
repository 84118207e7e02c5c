"""``dedup index add|query|stats|export``: the persistent incremental index on the command line.

Registered on the main group by :mod:`dedup.cli`; like every command, it only parses, calls the
library (:class:`dedup.index.ArticleIndex`) and renders.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import click

from . import api
from .cli import (
    _config,
    _fail_cleanly,
    check_rejects,
    field_names,
    input_options,
    output_options,
    tuning_options,
)
from .index import ArticleIndex
from .io.writers import atomic_output, write_rejects
from .report.records import article_record
from .types import ArticleResult, Document, Rejected

_INDEX = click.argument("index_path", metavar="INDEX", type=click.Path(path_type=Path))
_TUNING = ("near_threshold", "containment", "min_size_ratio", "event_threshold", "story_threshold")


def _read(options: dict[str, Any], rejected: list[Rejected]) -> Iterable[Document]:
    """Read the inputs as ``dedup run`` does (the seed articles when there are none)."""
    check_rejects(options)
    fields = field_names(options)
    return api.read(
        options["inputs"], fields=fields, on_error=options["on_error"], rejected=rejected
    )


def _write_records(articles: Iterable[ArticleResult], output: str | None) -> int:
    """Stream the JSONL records to ``output`` (atomically); return how many were written."""
    count = 0
    with atomic_output(output) as stream:
        for article in articles:
            record = article_record(Document(article.id, ""), article)
            stream.write(json.dumps(record, ensure_ascii=False) + "\n")
            count += 1
    return count


def _report_rejects(options: dict[str, Any], rejected: list[Rejected]) -> None:
    if options["rejects"] is not None:
        write_rejects(options["rejects"], rejected)
    if rejected:
        click.echo(
            f"Skipped {len(rejected)} record(s); see {options['rejects']}.",
            err=True,
        )


@click.group()
def index() -> None:
    """A persistent index: match new articles against everything already seen.

    \b
    Examples:
      dedup index add news.idx monday.jsonl -o monday.dedup.jsonl
      dedup index query news.idx draft.jsonl
      dedup index export news.idx -o all.jsonl
      dedup index stats news.idx
    """


@index.command()
@_INDEX
@input_options
@output_options(("jsonl",), "jsonl")
@tuning_options
@click.option(
    "--batch-size",
    type=click.IntRange(1),
    default=1000,
    show_default=True,
    help="Articles per transaction: a crash loses at most the batch being written.",
)
@click.pass_context
@_fail_cleanly
def add(
    ctx: click.Context,
    index_path: Path,
    fmt: str,
    output: str | None,
    batch_size: int,
    **options: Any,
) -> None:
    """Add articles to INDEX (created when missing) and write each one's record.

    Each record is the one 'dedup run --format jsonl' writes: duplicate_of may point to any
    article added before (in an earlier call or earlier in this input), and event and story
    ids are the index's, stable across calls. Tuning options only apply to a new index.
    """
    given = any(
        ctx.get_parameter_source(name) == click.core.ParameterSource.COMMANDLINE for name in _TUNING
    )
    config = _config(options) if given else None
    rejected: list[Rejected] = []
    jobs = options["jobs"]
    with ArticleIndex(index_path, config, on_error=options["on_error"], jobs=jobs) as store:
        documents = _read(options, rejected)
        _write_records(store.add(documents, batch_size=batch_size, rejected=rejected), output)
    _report_rejects(options, rejected)


@index.command()
@_INDEX
@input_options
@output_options(("jsonl",), "jsonl")
@_fail_cleanly
def query(index_path: Path, fmt: str, output: str | None, **options: Any) -> None:
    """Match articles against INDEX without adding them; write each one's record."""
    rejected: list[Rejected] = []
    with ArticleIndex.open(index_path, on_error=options["on_error"], jobs=options["jobs"]) as store:
        _write_records(store.query(_read(options, rejected), rejected=rejected), output)
    _report_rejects(options, rejected)


@index.command()
@_INDEX
@click.option(
    "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True
)
@_fail_cleanly
def stats(index_path: Path, fmt: str) -> None:
    """Counts, settings and a consistency check of INDEX."""
    with ArticleIndex.open(index_path) as store:
        figures = store.stats()
    if fmt == "json":
        click.echo(json.dumps(figures, sort_keys=True))
        return
    for key, value in figures.items():
        if key == "problems":
            value = "; ".join(value) if value else "none (consistent)"
        elif key == "config":
            value = json.dumps(value, sort_keys=True)
        click.echo(f"{key:18} {value}")


@index.command()
@_INDEX
@output_options(("jsonl",), "jsonl")
@_fail_cleanly
def export(index_path: Path, fmt: str, output: str | None) -> None:
    """Write the current record of every article in INDEX, in order of addition.

    Duplicate groups are as of now: when a later article joined two groups, their members
    are one group, with one canonical.
    """
    with ArticleIndex.open(index_path) as store:
        _write_records(store.export(), output)
