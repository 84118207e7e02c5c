"""The command line: parse options, build a config, call the library, render.

No algorithm lives here. Every :class:`~dedup.errors.DedupError` becomes one line
``Error: ...`` and exit status 1.
"""

from __future__ import annotations

import functools
import json
import os
import sys
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import click

from . import api
from .config import ClusterConfig, NearDupConfig, PipelineConfig
from .errors import INTERRUPTED, DedupError
from .io.readers import FieldNames
from .io.writers import atomic_output, write_rejects
from .memory import collector_held_off, fit_memory_to_corpora
from .progress import ProgressPrinter, wanted
from .report import iter_json, iter_records, to_markdown, to_text
from .types import Result

_FORMATS = ("text", "markdown", "json", "jsonl", "html")


def _fail_cleanly(command: Callable[..., Any]) -> Callable[..., Any]:
    """Turn library errors into ``Error: ...`` lines (exit 1) instead of tracebacks."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except DedupError as error:
            raise click.ClickException(str(error)) from None
        except KeyboardInterrupt:
            click.echo(INTERRUPTED, err=True)
            sys.exit(130)

    return wrapper


def input_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """Inputs, field names and the bad-input policy, shared by every command that reads."""
    options = [
        click.argument("inputs", nargs=-1, type=click.Path(allow_dash=True, path_type=str)),
        click.option(
            "--id-field", default="id", show_default=True, help="JSONL/CSV field of the id."
        ),
        click.option(
            "--text-field", default="text", show_default=True, help="Field of the body text."
        ),
        click.option(
            "--title-field", default="title", show_default=True, help="Field of the title."
        ),
        click.option(
            "--source-field", default="source", show_default=True, help="Field of the outlet."
        ),
        click.option("--date-field", default="date", show_default=True, help="Field of the date."),
        click.option("--url-field", default="url", show_default=True, help="Field of the URL."),
        click.option(
            "--on-error",
            type=click.Choice(["fail", "skip"]),
            default="fail",
            show_default=True,
            help="On a malformed record: stop with an error, or skip it (needs --rejects).",
        ),
        click.option(
            "--rejects",
            type=click.Path(dir_okay=False, path_type=Path),
            help="With --on-error skip: write skipped records here, untouched.",
        ),
        click.option(
            "-j",
            "--jobs",
            type=click.IntRange(1),
            default=1,
            show_default=True,
            help="Worker processes; the output is the same for any number.",
        ),
        click.option("-q", "--quiet", is_flag=True, help="No progress line on standard error."),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def output_options(formats: tuple[str, ...], default: str) -> Callable[..., Any]:
    """``--format`` and ``-o/--output``."""

    def decorate(command: Callable[..., Any]) -> Callable[..., Any]:
        command = click.option(
            "-o",
            "--output",
            type=click.Path(dir_okay=False, allow_dash=True, path_type=str),
            help="Write here (atomically) instead of standard output; '-' is standard output.",
        )(command)
        return click.option(
            "--format",
            "fmt",
            type=click.Choice(formats),
            default=default,
            show_default=True,
            help="Output format.",
        )(command)

    return decorate


def tuning_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """Thresholds of the near-duplicate and clustering stages."""
    defaults_near, defaults_cluster = NearDupConfig(), ClusterConfig()
    options = [
        click.option(
            "--near-threshold",
            type=click.FloatRange(0.05, 1.0),
            default=defaults_near.threshold,
            show_default=True,
            help="Jaccard of word 5-gram shingles at which two articles are duplicates.",
        ),
        click.option(
            "--containment",
            type=click.FloatRange(0.05, 1.0),
            default=defaults_near.containment,
            show_default=True,
            help="Share of the shorter article's shingles found in the longer: truncated copies.",
        ),
        click.option(
            "--min-size-ratio",
            type=click.FloatRange(0.0, 1.0),
            default=defaults_near.min_size_ratio,
            show_default=True,
            help="--containment counts when the shorter has this share of the longer's size.",
        ),
        click.option(
            "--event-threshold",
            type=click.FloatRange(0.0, 1.0),
            default=defaults_cluster.event_threshold,
            show_default=True,
            help="Cosine distance (0-1) at which the event clustering is cut "
            "[default: derived from the corpus' similarity distribution].",
        ),
        click.option(
            "--story-threshold",
            type=click.FloatRange(0.0, 1.0),
            default=defaults_cluster.story_threshold,
            show_default=True,
            help="Cosine distance (0-1) at which the story clustering is cut "
            "[default: derived from the corpus' similarity distribution].",
        ),
        click.option(
            "--event-window-days",
            type=click.FloatRange(0.0),
            default=defaults_cluster.event_window_days,
            show_default=True,
            help="Dated articles further apart never share an event (0: off).",
        ),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def _config(options: dict[str, Any]) -> PipelineConfig:
    """Build the pipeline config from parsed options (the one translation point)."""
    return PipelineConfig(
        neardup=NearDupConfig(
            threshold=options.get("near_threshold", NearDupConfig().threshold),
            containment=options.get("containment", NearDupConfig().containment),
            min_size_ratio=options.get("min_size_ratio", NearDupConfig().min_size_ratio),
        ),
        cluster=ClusterConfig(
            event_threshold=options.get("event_threshold", ClusterConfig().event_threshold),
            story_threshold=options.get("story_threshold", ClusterConfig().story_threshold),
            event_window_days=options.get("event_window_days", ClusterConfig().event_window_days),
        ),
        on_error=options["on_error"],
        jobs=options.get("jobs", 1),
    )


def check_rejects(options: dict[str, Any]) -> None:
    """Refuse ``--on-error skip`` without ``--rejects``: nothing may be lost silently."""
    if options["on_error"] == "skip" and options["rejects"] is None:
        raise click.UsageError("--on-error skip needs --rejects PATH, so no record is lost.")


def field_names(options: dict[str, Any]) -> FieldNames:
    """The input field names given by the ``--*-field`` options."""
    return FieldNames(
        id=options["id_field"],
        text=options["text_field"],
        title=options["title_field"],
        source=options["source_field"],
        date=options["date_field"],
        url=options["url_field"],
    )


def _run(options: dict[str, Any], *, cluster: bool = True, keep_input: bool = True) -> Result:
    """Read the inputs and run the pipeline (see api.run_files); write rejects when skipping."""
    check_rejects(options)
    if options["on_error"] == "fail" and options["rejects"] is not None:
        click.echo("Warning: --rejects has no effect without --on-error skip.", err=True)
    fields = field_names(options)
    progress = ProgressPrinter() if wanted(options.get("quiet", False)) else None
    steps: dict[str, Any] = {"cluster": cluster, "progress": progress, "keep_input": keep_input}
    result = api.run_files(options["inputs"], _config(options), fields=fields, **steps)
    if options["rejects"] is not None:
        write_rejects(options["rejects"], result.rejected)
    if result.rejected:
        click.echo(
            f"Skipped {len(result.rejected)} malformed record(s); see {options['rejects']}.",
            err=True,
        )
    if options.get("stats_path") is not None:
        _write(json.dumps(dict(result.stats), sort_keys=True) + "\n", str(options["stats_path"]))
    return result


def _write(text: str | Iterable[str], output: str | None) -> None:
    """Write ``text`` (or its pieces, one by one) to ``output`` (atomically) or standard output."""
    with atomic_output(output) as stream, collector_held_off():  # pieces made: no cycle
        stream.writelines([text] if isinstance(text, str) else text)


def _use_color(output: str | None, color: bool | None) -> bool:
    if color is not None:
        return color
    if os.environ.get("NO_COLOR") or os.environ.get("TERM") == "dumb":  # no-color.org
        return False
    return output in (None, "-") and sys.stdout.isatty()


def _jsonl(result: Result, **flags: bool) -> Iterator[str]:  # lines: no copy of the whole output
    return (json.dumps(r, ensure_ascii=False) + "\n" for r in iter_records(result, **flags))


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(package_name="dedup")
def cli() -> None:
    """Find duplicate news articles and boilerplate; group articles into events and stories.

    \b
    Examples:
      dedup run                               # the embedded seed articles
      dedup run articles.jsonl --format jsonl -o annotated.jsonl
      dedup run news/ --format markdown -o report.md
    """
    fit_memory_to_corpora()  # a large corpus gives freed memory back (dedup/memory.py)


@cli.command()
@input_options
@output_options(_FORMATS, "text")
@tuning_options
@click.option("--with-input", is_flag=True, help="JSONL: start each record from its input fields.")
@click.option("--with-text", is_flag=True, help="JSONL: add clean_text, the text after cleaning.")
@click.option("--drop-duplicates", is_flag=True, help="JSONL: leave out articles that are copies.")
@click.option(
    "--stats",
    "stats_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also write the run's counts and per-stage seconds here, as JSON.",
)
@click.option(
    "--color/--no-color",
    default=None,
    help="Colour the text report (default: on a terminal, unless NO_COLOR is set).",
)
@_fail_cleanly
def run(fmt: str, output: str | None, color: bool | None, **options: Any) -> None:
    """Run the whole pipeline: paragraphs, near-duplicates, events and stories.

    INPUTS are JSONL, CSV or TSV files, folders of .txt articles, or '-' for JSONL on standard
    input. With none, the seed articles shipped with dedup are used.

    \b
    JSONL output: one object per input article, in input order, with id, duplicate_of,
    similarity, event, story and removed. --with-input starts each record from the input
    record; an input field named like one of these annotations is kept as input_<name>.
    """
    flags = {k: options.pop(k) for k in ("with_input", "with_text", "drop_duplicates")}
    text_shown = fmt not in ("json", "jsonl") or flags["with_input"] or flags["with_text"]
    result = _run(options, keep_input=bool(text_shown))  # without, the texts are freed early
    if fmt != "jsonl" and any(flags.values()):
        click.echo(
            "Warning: --with-input, --with-text and --drop-duplicates need --format jsonl.",
            err=True,
        )
    if fmt == "jsonl":
        _write(_jsonl(result, **flags), output)
    elif fmt == "json":
        _write(iter_json(result), output)
    elif fmt == "markdown":
        _write(to_markdown(result), output)
    elif fmt == "html":
        from .report.html import to_html

        _write(to_html(result), output)
    else:
        _write(to_text(result, color=_use_color(output, color)), output)


@cli.command()
@input_options
@output_options(("jsonl", "text"), "jsonl")
@tuning_options
@click.option(
    "--engine",
    type=click.Choice(["local", "spark"]),
    default="local",
    show_default=True,
    help="Run here, or as a PySpark job (pip install 'dedup[spark]'); same groups.",
)
@click.option("--spark-master", default="local[*]", show_default=True, help="Spark master URL.")
@_fail_cleanly
def near(fmt: str, output: str | None, engine: str, spark_master: str, **options: Any) -> None:
    """Find near-duplicate articles only (no clustering).

    Writes, per article in input order, id, duplicate_of and similarity.
    """
    if engine == "spark":
        from .cli_spark import near_with_spark

        if fmt != "jsonl":
            raise click.UsageError("--engine spark writes --format jsonl only.")
        _write(near_with_spark(options, spark_master), output)
        return
    result = _run(options, cluster=False, keep_input=fmt == "text")
    if fmt == "text":
        _write(to_text(result), output)
        return
    lines = (
        json.dumps(
            {"id": a.id, "duplicate_of": a.duplicate_of, "similarity": a.similarity},
            ensure_ascii=False,
        )
        + "\n"
        for a in result.articles
    )
    _write(lines, output)


@cli.command()
@input_options
@output_options(("jsonl", "text"), "jsonl")
@_fail_cleanly
def paragraphs(fmt: str, output: str | None, **options: Any) -> None:
    """Remove repeated and boilerplate paragraphs; write the cleaned text.

    JSONL: each input record with 'text' replaced by the cleaned text and 'removed' added.
    Text: the cleaned articles, separated by blank lines.
    """
    result = _run(options, cluster=False)
    if fmt == "text":
        _write("\n\n".join(a.cleaned_text for a in result.articles) + "\n", output)
        return
    records = []
    for doc, article in zip(result.documents, result.articles, strict=True):
        record = {**doc.fields, "id": doc.id, "text": article.cleaned_text}
        record["removed"] = [
            {"paragraph": r.paragraph, "reason": r.reason, "text": r.text} for r in article.removed
        ]
        records.append(json.dumps(record, ensure_ascii=False) + "\n")
    _write("".join(records), output)


@cli.command()
@input_options
@output_options(("jsonl", "text", "markdown", "json"), "jsonl")
@tuning_options
@_fail_cleanly
def cluster(fmt: str, output: str | None, **options: Any) -> None:
    """Group articles into events and stories (copies join their original's)."""
    result = _run(options, keep_input=fmt not in ("jsonl", "json"))
    if fmt == "jsonl":
        lines = (
            json.dumps({"id": a.id, "event": a.event, "story": a.story}, ensure_ascii=False) + "\n"
            for a in result.articles
        )
        _write(lines, output)
    elif fmt == "json":
        _write(iter_json(result), output)
    elif fmt == "markdown":
        _write(to_markdown(result), output)
    else:
        _write(to_text(result), output)


from .cli_eval import evaluate  # noqa: E402 (registered after the shared option helpers exist)
from .cli_index import index  # noqa: E402 (registered after the shared option helpers exist)

cli.add_command(index)
cli.add_command(evaluate)
