"""Score dedup's output against gold labels.

Clusters (level ``story`` or ``event``) get B-cubed precision, recall and F1 (Bagga and Baldwin
1998), the adjusted Rand index and normalized mutual information; duplicates get pairwise
precision, recall and F1 over the pairs of articles sharing a duplicate group. Every score comes
from a sparse contingency table of gold against predicted labels: O(n), no loop over pairs.

Conventions: a ``None`` predicted label (or gold duplicate group) makes the item its own
singleton; a ``None`` gold cluster label drops the item (the corpus has no such level for it).
"""

from __future__ import annotations

import json
from collections.abc import Hashable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy import sparse
from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

from dedup.errors import ConfigError, InputError

LEVELS = ("story", "event", "duplicates")
"""The levels :func:`evaluate` can score."""

_Codes = npt.NDArray[np.int64]


@dataclass(frozen=True, slots=True)
class ClusterScores:
    """How well predicted clusters match gold clusters at one level.

    Attributes:
        level: The level scored (``story`` or ``event``).
        n_items: Number of items scored (ids with a gold label that are also predicted).
        n_gold: Number of gold clusters among the scored items.
        n_pred: Number of predicted clusters among the scored items.
        bcubed_precision: Mean over items of |pred ∩ gold cluster| / |pred cluster|, in (0, 1].
        bcubed_recall: Mean over items of |pred ∩ gold cluster| / |gold cluster|, in (0, 1].
        bcubed_f1: Harmonic mean of ``bcubed_precision`` and ``bcubed_recall``, in (0, 1].
        ari: Adjusted Rand index, in [-0.5, 1]; 0 is chance level, 1 a perfect match.
        nmi: Normalized mutual information (arithmetic mean normalization), in [0, 1].
    """

    level: str
    n_items: int
    n_gold: int
    n_pred: int
    bcubed_precision: float
    bcubed_recall: float
    bcubed_f1: float
    ari: float
    nmi: float


@dataclass(frozen=True, slots=True)
class PairScores:
    """How well predicted duplicate groups match gold ones, counted over pairs of items.

    Attributes:
        n_items: Number of items scored (ids present on both sides).
        gold_pairs: Pairs of scored items in the same gold group.
        pred_pairs: Pairs of scored items in the same predicted group.
        true_pairs: Pairs in the same group on both sides.
        precision: ``true_pairs / pred_pairs`` in [0, 1]; 1.0 when nothing is predicted.
        recall: ``true_pairs / gold_pairs`` in [0, 1]; 1.0 when the gold has no pairs.
        f1: Harmonic mean of precision and recall in [0, 1]; 0.0 when both are 0.
    """

    n_items: int
    gold_pairs: int
    pred_pairs: int
    true_pairs: int
    precision: float
    recall: float
    f1: float


def _codes(labels: Sequence[Hashable]) -> _Codes:
    """Map labels to dense codes 0..k-1 in order of first appearance; each ``None`` is new."""
    index: dict[Hashable, int] = {}
    out = np.empty(len(labels), dtype=np.int64)
    n_codes = 0
    for i, label in enumerate(labels):
        code = n_codes if label is None else index.setdefault(label, n_codes)
        if code == n_codes:
            n_codes += 1
        out[i] = code
    return out


def _contingency(gold: _Codes, pred: _Codes) -> sparse.coo_matrix:
    """Count items per (gold code, predicted code) cell; duplicate entries are summed."""
    shape = (int(gold.max()) + 1, int(pred.max()) + 1) if len(gold) else (0, 0)
    ones = np.ones(len(gold), dtype=np.int64)
    table = sparse.coo_matrix((ones, (gold, pred)), shape=shape)
    table.sum_duplicates()
    return table


def _harmonic(precision: float, recall: float) -> float:
    """Harmonic mean of two scores in [0, 1]; 0.0 when both are 0."""
    return 2.0 * precision * recall / (precision + recall) if precision + recall > 0 else 0.0


def _bcubed_codes(gold: _Codes, pred: _Codes) -> tuple[float, float, float]:
    """B-cubed precision, recall and F1 of two equal-length, non-empty code arrays."""
    table, n = _contingency(gold, pred), len(gold)
    # An item in cell (i, j) scores n_ij / |pred_j| and n_ij / |gold_i|; the cell holds n_ij items.
    squares = table.data.astype(np.float64) ** 2
    precision = float(np.sum(squares / np.bincount(pred)[table.col]) / n)
    recall = float(np.sum(squares / np.bincount(gold)[table.row]) / n)
    return precision, recall, _harmonic(precision, recall)


def bcubed(gold: Sequence[Hashable], pred: Sequence[Hashable]) -> tuple[float, float, float]:
    """B-cubed precision, recall and F1 of a clustering.

    Per item, precision is ``|pred cluster ∩ gold cluster| / |pred cluster|`` and recall is the
    same overlap over ``|gold cluster|``; both are averaged over items and F1 is the harmonic mean
    of the two averages. Computed from a contingency table in O(n).

    Args:
        gold: Gold cluster label of each item (any hashable; ``None`` is a singleton).
        pred: Predicted cluster label of the same items, in the same order.

    Returns:
        ``(precision, recall, f1)``, each in (0, 1].

    Raises:
        ValueError: The sequences differ in length or are empty.
    """
    if len(gold) != len(pred) or not gold:
        raise ValueError(f"need two equal, non-empty lengths; got {len(gold)} and {len(pred)}")
    return _bcubed_codes(_codes(gold), _codes(pred))


def score_clusters(
    gold: Mapping[str, Hashable], pred: Mapping[str, Hashable], *, level: str
) -> ClusterScores:
    """Score predicted clusters against gold clusters.

    The items scored are the ids of ``gold`` whose label is not ``None`` and that ``pred`` also
    holds; ids only in ``pred`` are ignored.

    Args:
        gold: Gold label per id; ``None`` drops the id.
        pred: Predicted label per id; ``None`` makes the id a singleton.
        level: Name of the level scored, copied into the result (``story`` or ``event``).

    Returns:
        The scores; see :class:`ClusterScores`.

    Raises:
        ValueError: No id has both a gold label and a prediction.
    """
    ids = [doc_id for doc_id, label in gold.items() if label is not None and doc_id in pred]
    gold_labels = [gold[doc_id] for doc_id in ids]
    pred_labels = [pred[doc_id] for doc_id in ids]
    if not ids:
        raise ValueError("no id has both a gold label and a prediction")
    gold_codes, pred_codes = _codes(gold_labels), _codes(pred_labels)
    precision, recall, f1 = _bcubed_codes(gold_codes, pred_codes)
    return ClusterScores(
        level=level,
        n_items=len(ids),
        n_gold=int(gold_codes.max()) + 1,
        n_pred=int(pred_codes.max()) + 1,
        bcubed_precision=precision,
        bcubed_recall=recall,
        bcubed_f1=f1,
        ari=float(adjusted_rand_score(gold_codes, pred_codes)),
        nmi=float(normalized_mutual_info_score(gold_codes, pred_codes)),
    )


def duplicate_components(duplicate_of: Mapping[str, str | None]) -> dict[str, str]:
    """Group ids into the connected components of their ``duplicate_of`` edges (union-find).

    Chains are followed transitively: ``a -> b`` and ``c -> b`` make one group ``{a, b, c}``.

    Args:
        duplicate_of: Per id, the id it duplicates, or ``None``. A target that is not itself a key
            is still a member of its component; a self-reference counts as ``None``.

    Returns:
        Every key and every target, mapped to its component's representative: the member whose
        ``duplicate_of`` is ``None`` (the canonical copy) when there is one, else the smallest id
        (a cycle). Singletons map to themselves.
    """
    parent = {node: node for edge in duplicate_of.items() for node in edge if node is not None}

    def find(node: str) -> str:
        root = node
        while parent[root] != root:
            root = parent[root]
        while parent[node] != root:  # path compression
            parent[node], node = root, parent[node]
        return root

    for doc_id, target in duplicate_of.items():
        if target is not None:
            a, b = find(doc_id), find(target)
            if a != b:  # the smaller id becomes the root: the result is order-independent
                parent[max(a, b)] = min(a, b)
    # Each id has at most one outgoing edge, so a component holds at most one sink.
    sinks = [node for node in parent if duplicate_of.get(node) in (None, node)]
    canonical = {find(node): node for node in sinks}
    return {node: canonical.get(find(node), find(node)) for node in parent}


def _pairs(sizes: npt.NDArray[np.int64]) -> int:
    """Number of unordered pairs within groups of the given sizes: the sum of C(size, 2)."""
    return int(np.sum(sizes * (sizes - 1) // 2))


def score_pairs(
    gold_groups: Mapping[str, Hashable], pred_groups: Mapping[str, Hashable]
) -> PairScores:
    """Pairwise precision, recall and F1 of predicted duplicate groups.

    A pair is two items that share a group. Pairs are counted per group as C(n, 2) and the pairs
    both sides agree on through a contingency table, never enumerated. The items scored are the
    ids present in both mappings.

    Args:
        gold_groups: Gold group per id (for instance from :func:`duplicate_components`); ``None``
            makes the id a singleton.
        pred_groups: Predicted group per id; ``None`` makes the id a singleton.

    Returns:
        The scores; see :class:`PairScores` for the conventions when there are no pairs.
    """
    ids = [doc_id for doc_id in gold_groups if doc_id in pred_groups]
    gold_codes = _codes([gold_groups[doc_id] for doc_id in ids])
    pred_codes = _codes([pred_groups[doc_id] for doc_id in ids])
    gold_pairs = _pairs(np.bincount(gold_codes))
    pred_pairs = _pairs(np.bincount(pred_codes))
    true_pairs = _pairs(_contingency(gold_codes, pred_codes).data)
    precision = true_pairs / pred_pairs if pred_pairs else 1.0
    recall = true_pairs / gold_pairs if gold_pairs else 1.0
    return PairScores(
        n_items=len(ids),
        gold_pairs=gold_pairs,
        pred_pairs=pred_pairs,
        true_pairs=true_pairs,
        precision=precision,
        recall=recall,
        f1=_harmonic(precision, recall),
    )


_JSON_TYPES = {type(None): "null", bool: "a boolean", int: "a number", float: "a number"}
_JSON_TYPES |= {str: "a string", list: "an array", dict: "an object"}


def _iter_records(path: str | Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """Yield ``(line_no, record)`` per non-blank line of a JSONL file (1-based line numbers)."""
    try:
        handle = open(path, "rb")  # noqa: SIM115 (closed by the ``with`` below)
    except OSError as exc:
        raise InputError(path, 0, f"cannot open: {exc.strerror}") from exc
    with handle:
        for line_no, raw in enumerate(handle, start=1):
            try:
                text = raw.decode("utf-8-sig" if line_no == 1 else "utf-8")
            except UnicodeDecodeError as exc:
                raise InputError(path, line_no, "not valid UTF-8") from exc
            if not text.strip():
                continue
            try:
                record = json.loads(text.rstrip("\r\n"))  # columns then stay on this line
            except json.JSONDecodeError as exc:
                reason = f"invalid JSON: {exc.msg} (column {exc.colno})"
                raise InputError(path, line_no, reason) from exc
            if not isinstance(record, dict):
                reason = f"expected a JSON object, got {_JSON_TYPES[type(record)]}"
                raise InputError(path, line_no, reason)
            yield line_no, record


def _missing(name: str, record: Mapping[str, Any]) -> str:
    """Reason for a record that lacks a field, naming the fields it has."""
    fields = ", ".join(repr(key) for key in sorted(record)) or "no fields"
    return f"missing field {name!r}; the record has {fields}"


def load_jsonl_labels(path: str | Path, key: str) -> dict[str, Hashable]:
    """Read one label per record of a JSONL file.

    Blank lines are skipped. Integer ids are converted to strings, as the readers do.

    Args:
        path: The JSONL file (UTF-8; a leading BOM is allowed).
        key: The field to read, for instance ``story``, ``event`` or ``duplicate_of``.

    Returns:
        ``id -> value of key`` in file order; the value is a string, number, boolean or ``None``.

    Raises:
        InputError: The file cannot be opened, or a line is not a JSON object, lacks ``id`` or
            ``key``, has an id that is not a string or integer, has an array or object under
            ``key``, or repeats an earlier id.
    """
    labels: dict[str, Hashable] = {}
    first_line: dict[str, int] = {}
    for line_no, record in _iter_records(path):
        if "id" not in record:
            raise InputError(path, line_no, _missing("id", record))
        raw_id = record["id"]
        if isinstance(raw_id, bool) or not isinstance(raw_id, (str, int)):
            reason = f"field 'id' must be a string or an integer, got {_JSON_TYPES[type(raw_id)]}"
            raise InputError(path, line_no, reason)
        doc_id = str(raw_id)
        if key not in record:
            raise InputError(path, line_no, _missing(key, record))
        value = record[key]
        if isinstance(value, (list, dict)):
            reason = (
                f"field {key!r} must be a string, number or null, got {_JSON_TYPES[type(value)]}"
            )
            raise InputError(path, line_no, reason)
        if doc_id in first_line:
            raise InputError(path, line_no, f"id {doc_id!r} already on line {first_line[doc_id]}")
        first_line[doc_id] = line_no
        labels[doc_id] = value
    return labels


def _components_of_file(path: str | Path) -> dict[str, Hashable]:
    """Duplicate group per id of a file, from the components of its ``duplicate_of`` field."""
    targets = load_jsonl_labels(path, "duplicate_of")
    edges = {doc_id: None if t is None else str(t) for doc_id, t in targets.items()}
    components = duplicate_components(edges)
    return {doc_id: components[doc_id] for doc_id in targets}  # drop targets outside the file


def _evaluate_duplicates(pred_path: str | Path, gold_path: str | Path) -> PairScores:
    """Pairwise duplicate scores of a predictions file against a gold file."""
    line_no, record = next(_iter_records(gold_path), (0, {}))
    if "duplicate_of" in record:
        gold_groups = _components_of_file(gold_path)
    elif "dup_group" in record:
        gold_groups = load_jsonl_labels(gold_path, "dup_group")
    else:
        reason = "no field 'duplicate_of' (id or null) or 'dup_group' to score duplicates"
        raise InputError(gold_path, line_no, reason)
    pred_groups = _components_of_file(pred_path)
    if not any(doc_id in pred_groups for doc_id in gold_groups):
        raise InputError(pred_path, 0, f"no id in common with the gold file {str(gold_path)!r}")
    return score_pairs(gold_groups, pred_groups)


def evaluate(
    pred_path: str | Path, gold_path: str | Path, *, level: str
) -> ClusterScores | PairScores:
    """Score a dedup JSONL output file against a gold JSONL file.

    At level ``story`` or ``event`` the items are the gold ids whose label at that level is not
    null, and every one of them must be predicted. At level ``duplicates`` the gold groups are the
    connected components of the gold file's ``duplicate_of`` field when its first record has one,
    otherwise its ``dup_group`` field (null: a singleton); the predicted groups are the components
    of the predictions' ``duplicate_of``; the items are the ids in both files.

    Args:
        pred_path: dedup's ``--format jsonl`` output (``id`` plus the level's field).
        gold_path: Gold file (``id`` plus ``story``/``event``, or ``duplicate_of``/``dup_group``).
        level: ``story``, ``event`` or ``duplicates``.

    Returns:
        :class:`ClusterScores` for ``story`` and ``event``, :class:`PairScores` for ``duplicates``.

    Raises:
        ConfigError: ``level`` is not one of :data:`LEVELS`.
        InputError: A file is unreadable or malformed (see :func:`load_jsonl_labels`), the gold
            file has no label at that level, gold ids are missing from the predictions, or (for
            duplicates) the files have no id in common.
    """
    if level not in LEVELS:
        allowed = ", ".join(repr(name) for name in LEVELS)
        raise ConfigError(f"level must be one of {allowed}; got {level!r}")
    if level == "duplicates":
        return _evaluate_duplicates(pred_path, gold_path)
    labels = load_jsonl_labels(gold_path, level)
    gold = {doc_id: label for doc_id, label in labels.items() if label is not None}
    if not gold:
        reason = f"no gold {level!r} labels: the field is null or the file is empty"
        raise InputError(gold_path, 0, reason)
    pred = load_jsonl_labels(pred_path, level)
    missing = [doc_id for doc_id in gold if doc_id not in pred]
    if missing:
        reason = f"{len(missing)} gold ids missing from the predictions, e.g. {missing[0]!r}"
        raise InputError(pred_path, 0, reason)
    return score_clusters(gold, pred, level=level)
