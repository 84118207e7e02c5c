"""Why two articles are near-duplicates: shared paragraphs and passages, and what differs.

The near-duplicate stage keeps only a similarity per pair; the reports recompute the evidence
from the two cleaned texts with :mod:`difflib`, on the same normalized words the pipeline
compares (NFC, case-folded, one tone placement), so ``Hoà`` and ``hòa`` count as equal.
"""

from __future__ import annotations

from dataclasses import dataclass
from difflib import SequenceMatcher

from ..normalize import normalize_text

MIN_PASSAGE_WORDS = 5  # the pipeline's shingle length: shorter runs prove nothing
MAX_WORDS = 6000  # per side: difflib is quadratic in the worst case
MAX_PASSAGES = 3

Segment = tuple[str, bool]  # (text, differs from the other side)


@dataclass(frozen=True, slots=True)
class DiffRow:
    """One row of a side-by-side view.

    Attributes:
        kind: ``same`` (the paragraph is in both), ``changed`` (edited between the two),
            ``removed`` (only in the canonical), ``added`` (only in the copy).
        left: The canonical's paragraph as segments; empty for ``added``.
        right: The copy's paragraph as segments; empty for ``removed``.
    """

    kind: str
    left: tuple[Segment, ...]
    right: tuple[Segment, ...]


@dataclass(frozen=True, slots=True)
class PairExplanation:
    """The evidence behind one near-duplicate pair.

    Attributes:
        shared_paragraphs: Paragraphs of the copy found unchanged in the canonical.
        canonical_paragraphs: Paragraphs of the canonical (cleaned).
        copy_paragraphs: Paragraphs of the copy (cleaned).
        shared_words: Words of the copy inside passages of 5 or more words shared in order.
        copy_words: Words of the copy.
        passages: The longest shared passages (copy's wording), longest first, at most 3.
        rows: The side-by-side view, in paragraph order.
    """

    shared_paragraphs: int
    canonical_paragraphs: int
    copy_paragraphs: int
    shared_words: int
    copy_words: int
    passages: tuple[str, ...]
    rows: tuple[DiffRow, ...]


class _Keys:
    """Normalized comparison keys for words and paragraphs, cached per explanation."""

    def __init__(self) -> None:
        self._cache: dict[str, str] = {}

    def __call__(self, text: str) -> str:
        key = self._cache.get(text)
        if key is None:
            key = self._cache[text] = normalize_text(text)
        return key


def _word_rows(left: str, right: str, keys: _Keys) -> DiffRow:
    """A changed paragraph pair, with the differing words marked on each side."""
    a, b = left.split(), right.split()
    matcher = SequenceMatcher(None, [keys(w) for w in a], [keys(w) for w in b], autojunk=False)
    lsegs: list[Segment] = []
    rsegs: list[Segment] = []
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        differs = op != "equal"
        if i2 > i1:
            lsegs.append((" ".join(a[i1:i2]), differs))
        if j2 > j1:
            rsegs.append((" ".join(b[j1:j2]), differs))
    return DiffRow("changed", tuple(lsegs), tuple(rsegs))


def _paragraph_rows(left: list[str], right: list[str], keys: _Keys) -> list[DiffRow]:
    matcher = SequenceMatcher(None, [keys(p) for p in left], [keys(p) for p in right], False)
    rows: list[DiffRow] = []
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            rows += [DiffRow("same", ((p, False),), ((p, False),)) for p in left[i1:i2]]
            continue
        pairs = min(i2 - i1, j2 - j1)
        rows += [_word_rows(left[i1 + n], right[j1 + n], keys) for n in range(pairs)]
        rows += [DiffRow("removed", ((p, True),), ()) for p in left[i1 + pairs : i2]]
        rows += [DiffRow("added", (), ((p, True),)) for p in right[j1 + pairs : j2]]
    return rows


def _passages(left: str, right: str, keys: _Keys) -> tuple[int, int, tuple[str, ...]]:
    """Shared words, words of the copy, and the longest passages shared in order."""
    a, b = left.split()[:MAX_WORDS], right.split()[:MAX_WORDS]
    matcher = SequenceMatcher(None, [keys(w) for w in a], [keys(w) for w in b], autojunk=False)
    blocks = [m for m in matcher.get_matching_blocks() if m.size >= MIN_PASSAGE_WORDS]
    shared = sum(m.size for m in blocks)
    longest = sorted(blocks, key=lambda m: (-m.size, m.b))[:MAX_PASSAGES]
    return shared, len(right.split()), tuple(" ".join(b[m.b : m.b + m.size]) for m in longest)


def explain_pair(canonical_text: str, copy_text: str) -> PairExplanation:
    """Explain why ``copy_text`` was found to be a near-duplicate of ``canonical_text``.

    Args:
        canonical_text: The canonical article's cleaned text (paragraphs on separate lines).
        copy_text: The copy's cleaned text.

    Returns:
        Shared paragraphs and passages and a side-by-side view of the differences.
    """
    keys = _Keys()
    left = [p for p in canonical_text.split("\n") if p.strip()]
    right = [p for p in copy_text.split("\n") if p.strip()]
    left_keys = {keys(p) for p in left}
    shared_paragraphs = sum(1 for p in right if keys(p) in left_keys)
    shared_words, copy_words, passages = _passages(canonical_text, copy_text, keys)
    return PairExplanation(
        shared_paragraphs=shared_paragraphs,
        canonical_paragraphs=len(left),
        copy_paragraphs=len(right),
        shared_words=shared_words,
        copy_words=copy_words,
        passages=passages,
        rows=tuple(_paragraph_rows(left, right, keys)),
    )
