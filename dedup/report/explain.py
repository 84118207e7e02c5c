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
MAX_WORDS = 6000  # per side; difflib is quadratic in the worst case
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


class _Rows:
    """Side-by-side rows under construction.

    One row per paragraph of the copy, plus one per whole paragraph of the canonical that the
    copy dropped.
    """

    def __init__(self, left_par: list[int]) -> None:
        self.left_par = left_par
        self.rows: list[tuple[list[tuple[str, bool]], list[tuple[str, bool]]]] = []
        self.by_right: dict[int, int] = {}
        self.current = -1

    def row(self, right_par: int) -> int:
        if right_par not in self.by_right:
            self.by_right[right_par] = len(self.rows)
            self.rows.append(([], []))
        self.current = self.by_right[right_par]
        return self.current

    def left(self, row: int, index: int, word: str, differs: bool) -> None:
        if row < 0:
            row = self.current = len(self.rows)
            self.rows.append(([], []))
        words = self.rows[row][0]
        if words and index and self.left_par[index] != self.left_par[index - 1]:
            word = "¶ " + word  # a paragraph break of the canonical inside this row
        words.append((word, differs))

    def removed(self, paragraph: str) -> None:
        self.rows.append(([(paragraph, True)], []))
        self.current = len(self.rows) - 1

    def build(self) -> list[DiffRow]:
        out = []
        for left, right in self.rows:
            if not right:
                kind = "removed"
            elif not left:
                kind = "added"
            else:
                differs = any(d for _, d in left) or any(d for _, d in right)
                kind = "changed" if differs else "same"
            out.append(DiffRow(kind, _runs(left), _runs(right)))
        return out


def _runs(words: list[tuple[str, bool]]) -> tuple[Segment, ...]:
    """Join consecutive words with the same mark into segments."""
    segments: list[Segment] = []
    for word, differs in words:
        if segments and segments[-1][1] == differs:
            segments[-1] = (segments[-1][0] + " " + word, differs)
        else:
            segments.append((word, differs))
    return tuple(segments)


def _words(paragraphs: list[str]) -> tuple[list[str], list[int]]:
    """Every word, and the index of the paragraph it belongs to."""
    words: list[str] = []
    where: list[int] = []
    for n, paragraph in enumerate(paragraphs):
        split = paragraph.split()
        words += split
        where += [n] * len(split)
    return words, where


def _whole_paragraphs(where: list[int], i1: int, i2: int) -> bool:
    """Whether words ``i1:i2`` are exactly whole paragraphs."""
    starts = i1 == 0 or where[i1 - 1] != where[i1]
    ends = i2 == len(where) or where[i2] != where[i2 - 1]
    return starts and ends


def _side_by_side(
    left: list[str],
    matcher: SequenceMatcher[str],
    a: list[str],
    a_par: list[int],
    b: list[str],
    b_par: list[int],
) -> list[DiffRow]:
    """Rows from the word-level opcodes; ``a_par``/``b_par`` give each word's paragraph."""
    rows = _Rows(a_par)
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "delete" and _whole_paragraphs(a_par, i1, i2):
            for n in sorted(set(a_par[i1:i2])):
                rows.removed(left[n])
            continue
        if op == "equal":
            for k in range(i2 - i1):
                row = rows.row(b_par[j1 + k])
                rows.left(row, i1 + k, a[i1 + k], False)
                rows.rows[row][1].append((b[j1 + k], False))
            continue
        target = rows.row(b_par[j1]) if j2 > j1 else rows.current
        for i in range(i1, i2):
            rows.left(target, i, a[i], True)
        for j in range(j1, j2):
            rows.rows[rows.row(b_par[j])][1].append((b[j], True))
    return rows.build()


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
    a, a_par = _words(left)
    b, b_par = _words(right)
    # Past MAX_WORDS words a side, difflib's popular-word heuristic keeps the run fast.
    matcher = SequenceMatcher(
        None, [keys(w) for w in a], [keys(w) for w in b], autojunk=max(len(a), len(b)) > MAX_WORDS
    )
    blocks = [m for m in matcher.get_matching_blocks() if m.size >= MIN_PASSAGE_WORDS]
    longest = sorted(blocks, key=lambda m: (-m.size, m.b))[:MAX_PASSAGES]
    return PairExplanation(
        shared_paragraphs=sum(1 for p in right if keys(p) in left_keys),
        canonical_paragraphs=len(left),
        copy_paragraphs=len(right),
        shared_words=sum(m.size for m in blocks),
        copy_words=len(b),
        passages=tuple(" ".join(b[m.b : m.b + m.size]) for m in longest),
        rows=tuple(_side_by_side(left, matcher, a, a_par, b, b_par)),
    )
