"""The index's storage: one SQLite file in WAL mode, its schema, settings and integrity checks.

Why SQLite: it ships with Python, a database is one file a newsroom can copy, and its
transactions are atomic and durable across a crash of the writing process (``kill -9``): in WAL
mode a transaction is in the file only once its commit record is, so a reader after a crash
sees every committed batch and nothing of the batch that was being written. B-tree indexes
give the lookups the index needs in ``O(log n)``: band key -> documents, paragraph hash ->
count, feature -> documents. Nothing is ever unpickled: arrays are stored as raw little-endian
bytes read back with ``numpy.frombuffer`` and everything else as JSON, so an index file handed
over by someone else can at worst hold wrong numbers, never run code.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np

from ..config import (
    ClusterConfig,
    NearDupConfig,
    NormConfig,
    ParagraphConfig,
    PipelineConfig,
    ShingleConfig,
)
from ..errors import ConfigError, DedupError

SCHEMA_VERSION = 1

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS docs (
    rowid INTEGER PRIMARY KEY,          -- order of addition
    id TEXT NOT NULL UNIQUE,
    published TEXT,                     -- ISO date or NULL
    length INTEGER NOT NULL,            -- cleaned text, characters
    grp INTEGER NOT NULL,               -- duplicate group: rowid of its first member
    exact INTEGER,                      -- hash of the shingle set (NULL when empty)
    shingles BLOB NOT NULL,             -- sorted distinct uint64 shingle hashes
    removed TEXT NOT NULL               -- JSON list of removed paragraphs
);
CREATE INDEX IF NOT EXISTS docs_grp ON docs (grp);
CREATE INDEX IF NOT EXISTS docs_exact ON docs (exact) WHERE exact IS NOT NULL;
CREATE TABLE IF NOT EXISTS groups (
    root INTEGER PRIMARY KEY,           -- rowid of the group's first member
    canonical INTEGER NOT NULL,         -- rowid of the canonical member
    event INTEGER NOT NULL,
    story INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS bands (
    key INTEGER NOT NULL, doc INTEGER NOT NULL, PRIMARY KEY (key, doc)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS paragraph_counts (
    source TEXT NOT NULL, hash INTEGER NOT NULL, docs INTEGER NOT NULL,
    PRIMARY KEY (source, hash)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS doc_freq (feature INTEGER PRIMARY KEY, docs INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS vectors (
    doc INTEGER PRIMARY KEY,            -- a document that founded its duplicate group
    event INTEGER NOT NULL,
    story INTEGER NOT NULL,
    day REAL,                           -- days since the epoch, NULL when undated
    features BLOB NOT NULL,             -- sorted uint32 feature hashes
    weights BLOB NOT NULL               -- float16 TF-IDF weights, L2-normalized
);
CREATE INDEX IF NOT EXISTS vectors_story ON vectors (story, doc);
CREATE INDEX IF NOT EXISTS vectors_event ON vectors (event, doc);
CREATE TABLE IF NOT EXISTS postings (
    feature INTEGER NOT NULL, doc INTEGER NOT NULL, PRIMARY KEY (feature, doc)
) WITHOUT ROWID;
"""


class IndexFileError(DedupError):
    """The index file cannot be used (not an index, newer schema, corrupt)."""


def connect(path: Path, *, create: bool) -> sqlite3.Connection:
    """Open (or create) the index at ``path`` in WAL mode with manual transactions.

    Raises:
        IndexFileError: When ``path`` is missing (and ``create`` is false) or not a dedup index.
    """
    if not create and not path.exists():
        raise IndexFileError(
            f"{path}: no index here (create one with 'dedup index add {path} ...')"
        )
    try:
        conn = sqlite3.connect(path, isolation_level=None, timeout=60.0)
        conn.execute("PRAGMA journal_mode=WAL")
        # NORMAL in WAL mode: a crash of this process never loses a commit; a power cut may
        # lose the last ones but never leaves a half-written transaction.
        conn.execute("PRAGMA synchronous=NORMAL")
        # Up to 256 MiB of pages in memory (allocated as used): a batch's random B-tree reads
        # and writes (band keys, postings, frequencies) stay off the disk until its commit.
        conn.execute("PRAGMA cache_size=-262144")
        conn.execute("PRAGMA temp_store=MEMORY")
        conn.execute("PRAGMA foreign_keys=OFF")
        conn.executescript(_SCHEMA)
    except sqlite3.OperationalError as error:  # locked, read-only, missing folder, ...
        raise IndexFileError(f"{path}: {error}") from None
    except sqlite3.DatabaseError as error:
        raise IndexFileError(f"{path}: not a dedup index ({error})") from None
    return conn


def config_to_json(config: PipelineConfig) -> str:
    """The settings an index is built with, as JSON (only values, no code)."""
    data = asdict(config)
    data.pop("on_error")
    data.pop("jobs")
    return json.dumps(data, sort_keys=True)


def config_from_json(text: str, on_error: str) -> PipelineConfig:
    """Rebuild the settings stored by :func:`config_to_json`."""
    data: dict[str, Any] = json.loads(text)
    # An index written before the size floor of the containment rule was built without it.
    data["neardup"].setdefault("min_size_ratio", 0.0)
    return PipelineConfig(
        norm=NormConfig(**data["norm"]),
        shingles=ShingleConfig(**data["shingles"]),
        paragraphs=ParagraphConfig(**data["paragraphs"]),
        neardup=NearDupConfig(**data["neardup"]),
        cluster=ClusterConfig(**data["cluster"]),
        on_error=on_error,
    )


def settle_config(
    conn: sqlite3.Connection, path: Path, requested: PipelineConfig | None, on_error: str
) -> PipelineConfig:
    """Return the index's settings, storing ``requested`` (or the defaults) in a new index.

    Raises:
        ConfigError: When ``requested`` differs from the settings the index was built with
            (mixing thresholds would make the index answer differently for old and new
            articles).
        IndexFileError: When the file was written by a newer schema.
    """
    meta = dict(conn.execute("SELECT key, value FROM meta").fetchall())
    if not meta:
        config = requested or PipelineConfig(on_error=on_error)
        conn.execute("BEGIN IMMEDIATE")
        conn.executemany(
            "INSERT INTO meta VALUES (?, ?)",
            [
                ("schema", str(SCHEMA_VERSION)),
                ("config", config_to_json(config)),
                ("next_event", "1"),
                ("next_story", "1"),
                ("representatives", "1"),
            ],
        )
        conn.execute("COMMIT")
        return config
    if int(meta.get("schema", "0")) != SCHEMA_VERSION:
        raise IndexFileError(
            f"{path}: index schema {meta.get('schema')}, expected {SCHEMA_VERSION}"
        )
    stored = config_from_json(meta["config"], on_error)
    if requested is not None and config_to_json(requested) != config_to_json(stored):
        raise ConfigError(
            f"{path} was built with other settings ({meta['config']}); "
            "leave the tuning options out, or start a new index."
        )
    return stored


def next_id(conn: sqlite3.Connection, counter: str) -> int:
    """Take the next event or story number (inside the caller's transaction)."""
    (value,) = conn.execute("SELECT value FROM meta WHERE key = ?", (counter,)).fetchone()
    conn.execute("UPDATE meta SET value = ? WHERE key = ?", (str(int(value) + 1), counter))
    return int(value)


def uint64s(blob: bytes) -> np.ndarray:
    """A stored uint64 array (raw little-endian bytes; never unpickled)."""
    return np.frombuffer(blob, dtype="<u8").astype(np.uint64)


def problems(conn: sqlite3.Connection) -> list[str]:
    """Check the index's invariants; return what is wrong (empty when consistent)."""
    found = []
    (integrity,) = conn.execute("PRAGMA quick_check").fetchone()
    if integrity != "ok":
        found.append(f"SQLite: {integrity}")
    checks = {
        "documents whose group is missing": (
            "SELECT COUNT(*) FROM docs WHERE grp NOT IN (SELECT root FROM groups)"
        ),
        "groups without their founding document": (
            "SELECT COUNT(*) FROM groups WHERE root NOT IN (SELECT rowid FROM docs)"
        ),
        "groups whose canonical is not a member": (
            "SELECT COUNT(*) FROM groups g LEFT JOIN docs d ON d.rowid = g.canonical "
            "WHERE d.grp IS NOT g.root"
        ),
        "band entries of missing documents": (
            "SELECT COUNT(*) FROM bands WHERE doc NOT IN (SELECT rowid FROM docs)"
        ),
        "vectors of missing documents": (
            "SELECT COUNT(*) FROM vectors WHERE doc NOT IN (SELECT rowid FROM docs)"
        ),
    }
    for label, sql in checks.items():
        (count,) = conn.execute(sql).fetchone()
        if count:
            found.append(f"{count} {label}")
    return found
