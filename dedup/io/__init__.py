"""Reading articles in and writing results out: the first and last steps of the pipeline.

Example:
    >>> from dedup.io import read_documents
    >>> docs = list(read_documents(["articles.jsonl"]))  # doctest: +SKIP
"""

from dedup.io.dates import find_date_line, parse_date
from dedup.io.readers import FieldNames, read_documents
from dedup.io.writers import atomic_output, write_rejects

__all__ = [
    "FieldNames",
    "atomic_output",
    "find_date_line",
    "parse_date",
    "read_documents",
    "write_rejects",
]
