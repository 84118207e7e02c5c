"""``dedup near --engine spark``: read and validate on the driver, run the stage on Spark."""

from __future__ import annotations

import json
from typing import Any

import click

from . import api
from .cli import _config, check_rejects, field_names
from .io.writers import write_rejects
from .pipeline import unique_documents
from .types import Rejected


def near_with_spark(options: dict[str, Any], master: str) -> str:
    """Run the near-duplicate stage with Spark; return the JSONL text (input order).

    Args:
        options: The parsed options of ``dedup near``.
        master: Spark master URL.
    """
    from .spark_near import spark_near_duplicates, spark_near_files
    from .spark_read import readable_on_executors

    check_rejects(options)
    config = _config(options)
    fields = field_names(options)
    rejected: list[Rejected] = []
    if readable_on_executors(options["inputs"]):  # the driver never holds the corpus
        rows = list(
            spark_near_files(
                options["inputs"], config, fields=fields, master=master, rejected=rejected
            )
        )
    else:  # stdin, folders, CSV, gzip: read and validated here, then shipped
        read = api.read(
            options["inputs"], fields=fields, on_error=config.on_error, rejected=rejected
        )
        documents = unique_documents(read, config, rejected)
        rows = spark_near_duplicates(documents, config, master=master)
    if options["rejects"] is not None:
        write_rejects(options["rejects"], rejected)
    if rejected:
        click.echo(
            f"Skipped {len(rejected)} malformed record(s); see {options['rejects']}.", err=True
        )
    return "".join(
        json.dumps({"id": i, "duplicate_of": d, "similarity": s}, ensure_ascii=False) + "\n"
        for i, d, s in rows
    )
