"""``python -m dedup`` runs the command line."""

from .cli import cli

cli()
