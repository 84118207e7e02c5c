"""``dedup eval``: score a run's JSONL output against gold labels."""

from __future__ import annotations

from pathlib import Path

import click

from .cli import _fail_cleanly


@click.command("eval")
@click.argument("pred", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.argument("gold", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--level",
    type=click.Choice(["story", "event", "duplicates"]),
    default="story",
    show_default=True,
    help="Score stories, events, or duplicate groups (connected components of duplicate_of).",
)
@click.option(
    "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True
)
@_fail_cleanly
def evaluate(pred: Path, gold: Path, level: str, fmt: str) -> None:
    """Score PRED (dedup's JSONL output) against GOLD (JSONL with gold labels).

    \b
    Clusters: B-cubed precision, recall and F1, ARI and NMI.
    Duplicates: pairwise precision, recall and F1.
    """
    import json
    from dataclasses import asdict

    from .evaluate import evaluate as score

    scores = score(pred, gold, level=level)
    if fmt == "json":
        click.echo(json.dumps({"level": level, **asdict(scores)}))
        return
    for key, value in asdict(scores).items():
        click.echo(f"{key:18} {value:.4f}" if isinstance(value, float) else f"{key:18} {value}")
