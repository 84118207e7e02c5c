"""The paragraph stage: repeated, self-glued, title-echo and boilerplate paragraphs.

A paragraph is a non-blank line of an article. Four kinds are removed (the first copy of
anything stays):

* ``self-repeat``: a paragraph that is a text glued to a copy of itself (``X - Ảnh: ReutersX -
  Ảnh: Reuters``); the second copy goes.
* ``title-echo``: an image placeholder or caption that only repeats the title (the title plus
  at most ``_ECHO_EXTRA_TOKENS`` tokens such as ``ảnh 1``).
* ``repeated``: a copy (Jaccard of word shingles at least ``threshold``) of an earlier
  paragraph of the same article, such as a lead printed twice.
* ``boilerplate``: a paragraph that recurs (MinHash-LSH over paragraph shingles, verified) in
  at least ``boilerplate_min_docs`` articles of one source, when those articles are otherwise
  different: footers, teaser lists, bylines. Articles without a source are never compared
  for boilerplate, since without a source there is no template to share.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from itertools import chain, combinations

import numpy as np

from .config import NormConfig, ParagraphConfig
from .hashsets import distinct, may_repeat, shared_counts
from .normalize import fold, fold_nfc_lines, nfc, nfc_and_unfolded_lines, normalize_text
from .shingle import (
    Hasher,
    Permutations,
    jaccard_containment,
    lsh_candidates,
    shingles_of_runs,
    tokenize,
    two_equal_halves,
)
from .types import CleanedDocument, RemovedParagraph

_ECHO_EXTRA_TOKENS = 3  # "ảnh 1", "- ảnh 2", "photo 1": a caption may add this many tokens
_MIN_ECHO_TITLE_TOKENS = 3  # shorter titles are too generic to call a paragraph an echo
_OVERLAP_SAMPLE = 20  # articles sampled when checking that boilerplate hosts differ
# Longer paragraphs are not checked for being glued to themselves: a glued caption or lead is
# short, and the check normalizes the paragraph 14 times (a 5 MB paragraph would take seconds).
_MAX_SELF_REPEAT_CHARS = 20_000
_WORD = re.compile(r"\w+")
_EMPTY = np.zeros(0, dtype=np.uint64)
_NO_ROWS = np.zeros(0, dtype=np.int64)
# An article's paragraphs: as given, folded or NFC unfolded (one of the two), and their NFC
# joined (ParagraphCleaner._split).
Split = tuple[list[str], list[str] | None, list[str] | None, str]


@dataclass(slots=True)
class Paragraphs:
    """The paragraphs of one article while the stage works on it.

    Attributes:
        doc_id: The document id.
        source: Its source, or None.
        raw: Paragraph texts as given (a self-glued one already cut to one copy).
        tokens: The hasher's rows of the normalized tokens of each paragraph (int64 views of
            ``rows``; :meth:`~dedup.shingle.Hasher.tokens` has their strings).
        shingles: Sorted distinct shingle hashes of each paragraph.
        removed: Index -> removal record of a paragraph removed whole.
        trimmed: Index -> removal record of the second copy cut from a self-glued paragraph
            (the paragraph itself stays).
        hashes: 64-bit token hashes of each paragraph (so later stages need not hash again).
        rows: The hasher's rows (:meth:`~dedup.shingle.Hasher.token_ids`) of the tokens of
            every paragraph, one after the other.
        normal: The NFC of the paragraphs as given (before any cut), joined by line breaks
            (None when not made).
        title: Normalized tokens of the title (empty when none, or not made).
    """

    doc_id: str
    source: str | None
    raw: list[str]
    tokens: list[np.ndarray]
    shingles: list[np.ndarray]
    removed: dict[int, RemovedParagraph] = field(default_factory=dict)
    trimmed: dict[int, RemovedParagraph] = field(default_factory=dict)
    hashes: list[np.ndarray] = field(default_factory=list)
    rows: np.ndarray = field(default_factory=lambda: _NO_ROWS)
    normal: str | None = None
    title: list[str] = field(default_factory=list)

    def kept(self) -> list[int]:
        """Indices of the paragraphs still kept."""
        return [i for i in range(len(self.raw)) if i not in self.removed]

    def kept_rows(self, kept: list[int]) -> np.ndarray:
        """The token rows of the paragraphs ``kept`` (from :meth:`kept`), one after the other."""
        if len(kept) == len(self.raw):
            return self.rows
        paragraph_kept = np.zeros(len(self.raw), dtype=bool)
        paragraph_kept[kept] = True
        return self.rows[np.repeat(paragraph_kept, [len(t) for t in self.tokens])]

    def nfc_text(self, kept: list[int]) -> str:
        """``nfc`` of the cleaned text (the paragraphs ``kept`` joined by line breaks)."""
        if self.normal is None:
            return nfc("\n".join([self.raw[i] for i in kept]))
        if not self.trimmed and len(kept) == len(self.raw):
            return self.normal
        # The NFC of lines joined is their NFC's joined (see nfc_and_fold_lines).
        lines = self.normal.split("\n")
        return "\n".join([nfc(self.raw[i]) if i in self.trimmed else lines[i] for i in kept])


def split_paragraphs(text: str) -> list[str]:
    """Return the non-blank lines of ``text``, stripped, in order."""
    return [line.strip() for line in text.splitlines() if line.strip()]


def split_self_repeat(
    paragraph: str, *, normalized: str | None = None, letters: str | None = None
) -> tuple[str, str] | None:
    """Split a paragraph that is a text glued to a copy of itself.

    Args:
        paragraph: One paragraph as given.
        normalized: ``normalize_text(paragraph)`` when the caller has it (saves work).
        letters: Its tokens (``tokenize(normalize_text(paragraph))``) joined without spaces,
            when the caller has them (saves more).

    Returns:
        ``(kept, removed)`` when the paragraph is ``X`` + ``X`` (white space between allowed,
        compared after normalization), else None; None too for a paragraph longer than
        ``_MAX_SELF_REPEAT_CHARS`` (20,000 characters), which is never a glued caption.
    """
    text = paragraph.strip()
    half = len(text) // 2
    if half < 8 or len(text) > _MAX_SELF_REPEAT_CHARS:
        return None
    # Fast rejection: a glued paragraph's word characters, once normalized, are two equal halves.
    if letters is None:
        letters = "".join(_WORD.findall(normalize_text(text) if normalized is None else normalized))
    if not two_equal_halves(letters):
        return None
    for cut in range(max(1, half - 3), min(len(text) - 1, half + 4)):
        first, second = text[:cut].strip(), text[cut:].strip()
        if first and normalize_text(first) == normalize_text(second):
            return first, second
    return None


class ParagraphCleaner:
    """Finds and removes repeated and boilerplate paragraphs over a whole corpus.

    Args:
        config: Thresholds (see :class:`~dedup.config.ParagraphConfig`).
        norm: Text normalization shared with the other stages.
        hasher: Token hasher shared with the other stages.
    """

    def __init__(
        self,
        config: ParagraphConfig | None = None,
        *,
        norm: NormConfig | None = None,
        hasher: Hasher | None = None,
    ) -> None:
        self.config = config or ParagraphConfig()
        self.norm = norm or NormConfig()
        self.hasher = hasher if hasher is not None else Hasher()  # (an empty one is falsy)

    def prepare(
        self, doc_id: str, text: str, *, title: str | None, source: str | None
    ) -> Paragraphs:
        """Split one article and remove what can be seen inside it alone."""
        return self.prepare_many([(doc_id, text, title, source)])[0]

    def prepare_many(
        self, articles: Sequence[tuple[str, str, str | None, str | None]], *, compiled: bool = False
    ) -> list[Paragraphs]:
        """:meth:`prepare` each ``(id, text, title, source)``, hashing them all at once.

        The token rows, hashes and paragraph shingles of all the articles come from one pass
        (numpy's cost per call, paid per article, is a large share of a news article's time);
        with ``compiled`` (numba), the tokens are cut and numbered in one compiled loop
        (:meth:`~dedup.shingle.Hasher.line_rows`) and the shingles found by another: the same
        rows and shingles.
        """
        split = [self._split(text) for _, text, _, _ in articles]
        rows, lengths, halves = self._line_rows(split, compiled)
        trims, cut = self._cut_self_repeats(split, halves)
        if cut:  # a self-glued paragraph's tokens are those of the copy kept
            rows, lengths = _with_lines_replaced(rows, lengths, cut)
        bounds = np.concatenate(([0], np.cumsum(lengths))).tolist()
        flat = self.hasher.hashes_of(rows)
        shingles = shingles_of_runs(flat, lengths, self.config.k, compiled=compiled)
        counts = [len(s[0]) for s in split]
        repeats_possible = may_repeat(shingles, counts, self.config.threshold)
        prepared = []
        first = 0
        for n, ((doc_id, _, title, source), (raw, _, _, normal)) in enumerate(
            zip(articles, split, strict=True)
        ):
            last = first + len(raw)
            tokens = [rows[bounds[i] : bounds[i + 1]] for i in range(first, last)]
            hashes = [flat[bounds[i] : bounds[i + 1]] for i in range(first, last)]
            doc = Paragraphs(
                doc_id, source, raw, tokens, shingles[first:last], trimmed=trims[n],
                hashes=hashes, rows=rows[bounds[first] : bounds[last]], normal=normal,
            )  # fmt: skip
            self._mark_title_echoes(doc, title)
            if repeats_possible[n]:
                self._mark_repeats(doc)
            prepared.append(doc)
            first = last
        return prepared

    def _split(self, text: str) -> Split:
        """Paragraphs as given, their tokens' lines, and their NFC joined by line breaks.

        The tokens' lines are either the paragraphs folded (:func:`~dedup.normalize.fold`)
        or, when their tokens each folded alone are the same, the paragraphs as NFC
        (:func:`~dedup.normalize.nfc_and_unfolded_lines`): ``(raw, folded, None, normal)`` or
        ``(raw, None, unfolded, normal)``.
        """
        raw = split_paragraphs(text)
        normal, unfolded = nfc_and_unfolded_lines(raw, self.norm)
        if unfolded is not None:
            return raw, None, unfolded, normal
        return raw, fold_nfc_lines(raw, normal, self.norm), None, normal

    def _line_rows(
        self, split: list[Split], compiled: bool
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """:meth:`~dedup.shingle.Hasher.line_rows` of every paragraph of every article."""
        folded = [lines for _, lines, _, _ in split if lines is not None]
        unfolded = [lines for _, _, lines, _ in split if lines is not None]
        line_rows = self.hasher.line_rows
        if not folded:
            return line_rows(list(chain.from_iterable(unfolded)), compiled=compiled, norm=self.norm)
        if not unfolded:
            return line_rows(list(chain.from_iterable(folded)), compiled=compiled)
        # A few articles had to be folded whole: their lines are numbered apart.
        by_token = np.repeat([s[1] is None for s in split], [len(s[0]) for s in split])
        return _interleaved(
            line_rows(list(chain.from_iterable(unfolded)), compiled=compiled, norm=self.norm),
            line_rows(list(chain.from_iterable(folded)), compiled=compiled),
            by_token,
        )

    def _cut_self_repeats(
        self, split: list[Split], halves: np.ndarray
    ) -> tuple[list[dict[int, RemovedParagraph]], dict[int, np.ndarray]]:
        """Cut each self-glued paragraph of each article to its first copy (in place).

        Args:
            split: Each article's paragraphs and their tokens' lines (:meth:`_split`).
            halves: Per paragraph (all articles' one after the other), whether its tokens
                joined are two equal halves (:meth:`~dedup.shingle.Hasher.line_rows`).

        Returns:
            Per article the cuts made (paragraph index -> record of the copy removed), and
            per paragraph cut (numbered as in ``halves``) the token rows of the copy kept.
        """
        default_norm = self.norm == NormConfig()
        trims: list[dict[int, RemovedParagraph]] = []
        cut: dict[int, np.ndarray] = {}
        line = 0
        for raw, folded, _, _ in split:
            trimmed: dict[int, RemovedParagraph] = {}
            for i, paragraph in enumerate(raw):
                # The halves settle it for most paragraphs (split_self_repeat's first test).
                if not default_norm or halves[line + i]:
                    line_folded = folded[i] if folded is not None else fold(paragraph, self.norm)
                    letters = "".join(tokenize(line_folded)) if default_norm else None
                    glued = split_self_repeat(paragraph, letters=letters)
                    if glued is not None:
                        raw[i] = glued[0]
                        cut[line + i] = self.hasher.token_ids(tokenize(fold(glued[0], self.norm)))
                        trimmed[i] = RemovedParagraph(i, "self-repeat", glued[1], f"paragraph {i}")
            trims.append(trimmed)
            line += len(raw)
        return trims, cut

    def _mark_title_echoes(self, doc: Paragraphs, title: str | None) -> None:
        """Keep the title's tokens; mark paragraphs that are the title plus at most a few tokens."""
        if not title:
            return
        title_tokens = doc.title = tokenize(normalize_text(title, self.norm))
        if len(title_tokens) < _MIN_ECHO_TITLE_TOKENS:
            return
        n = len(title_tokens)
        strings = self.hasher.tokens()
        for i, rows in enumerate(doc.tokens):
            echo = n <= len(rows) <= n + _ECHO_EXTRA_TOKENS  # (the strings only then)
            if echo and [strings[row] for row in rows[:n].tolist()] == title_tokens:
                doc.removed[i] = RemovedParagraph(i, "title-echo", doc.raw[i], "title")

    def _mark_repeats(self, doc: Paragraphs) -> None:
        """Mark later copies of earlier paragraphs of the same article.

        A paragraph is a copy of the first earlier kept paragraph whose shingle Jaccard reaches
        ``threshold``. Candidates come from prefix filtering, which is exact: two sets with
        Jaccard ``t`` or more share a hash among the ``len - ceil(t * len) + 1`` smallest hashes
        of each. So an article of 100,000 distinct short paragraphs costs about linear time,
        not the 5 * 10^9 comparisons of every pair.
        """
        threshold = self.config.threshold
        index: dict[int, list[int]] = defaultdict(list)  # prefix hash -> kept paragraphs
        for j, shingles in enumerate(doc.shingles):
            if j in doc.removed or not len(doc.tokens[j]):
                continue
            prefix = shingles[: len(shingles) - math.ceil(threshold * len(shingles) - 1e-9) + 1]
            keys = prefix.tolist()
            candidates = sorted({i for key in keys for i in index.get(key, ())})
            for i in candidates:
                same = np.array_equal(doc.tokens[i], doc.tokens[j]) or (
                    jaccard_containment(doc.shingles[i], shingles)[0] >= threshold
                )
                if same:
                    doc.removed[j] = RemovedParagraph(j, "repeated", doc.raw[j], f"paragraph {i}")
                    break
            else:
                for key in keys:
                    index[key].append(j)

    def mark_boilerplate(self, docs: Sequence[Paragraphs], *, compiled: bool = False) -> None:
        """Mark paragraphs that recur across otherwise different articles of one source.

        With ``compiled`` (numba installed), the paragraphs' signatures are hashed by a compiled
        loop (the same ones).
        """
        by_source: dict[str, list[Paragraphs]] = defaultdict(list)
        for doc in docs:
            if doc.source:
                by_source[doc.source].append(doc)
        for source in sorted(by_source):
            group = by_source[source]
            if len(group) >= self.config.boilerplate_min_docs:
                self._mark_source(source, group, compiled)

    def _mark_source(self, source: str, docs: list[Paragraphs], compiled: bool) -> None:
        """Find boilerplate among the articles of one source."""
        # Distinct paragraphs (by their token rows), each with every place it occurs.
        number: dict[bytes, int] = {}
        places: list[list[tuple[int, int]]] = []
        for d, doc in enumerate(docs):
            for i in doc.kept():
                if len(doc.tokens[i]):
                    k = number.setdefault(doc.tokens[i].tobytes(), len(places))
                    if k == len(places):
                        places.append([(d, i)])
                    else:
                        places[k].append((d, i))
        del number
        shingles = [docs[d].shingles[i] for (d, i), *_ in places]
        parent = list(range(len(places)))

        def find(x: int) -> int:
            while parent[x] != x:
                parent[x] = parent[parent[x]]
                x = parent[x]
            return x

        signatures = Permutations.cached(self.config.num_perm, 1).signatures(
            shingles, compiled=compiled
        )
        for other, k in lsh_candidates(signatures, self.config.threshold).tolist():
            if jaccard_containment(shingles[k], shingles[other])[0] >= self.config.threshold:
                parent[find(k)] = find(other)
        clusters: dict[int, list[int]] = defaultdict(list)
        for k in range(len(places)):
            clusters[find(k)].append(k)
        members_of_doc: dict[int, set[int]] = defaultdict(set)
        for root, members in clusters.items():
            for k in members:
                for d, _ in places[k]:
                    members_of_doc[d].add(root)
        words: dict[int, np.ndarray] = {}  # host -> every shingle of its text, built when needed

        def text_overlaps(sample: Sequence[int]) -> list[list[int]]:
            for d in sample:
                if d not in words:
                    words[d] = distinct(np.concatenate([_EMPTY, *docs[d].shingles]))
            return shared_counts([words[d] for d in sample])

        min_docs = self.config.boilerplate_min_docs
        overlaps: dict[tuple[int, ...], float] = {}  # sample -> overlap (footers share hosts)
        for members in clusters.values():
            if len(members) == 1 and len(places[members[0]]) < min_docs:
                continue  # one paragraph in fewer places than needed (the common case)
            hosts = sorted({d for k in members for d, _ in places[k]})
            if len(hosts) < min_docs:
                continue
            sample = tuple(hosts[:: max(1, len(hosts) // _OVERLAP_SAMPLE)][:_OVERLAP_SAMPLE])
            if sample not in overlaps:
                overlaps[sample] = self._hosts_overlap(sample, members_of_doc, text_overlaps)
            if overlaps[sample] >= self.config.boilerplate_max_overlap:
                continue
            note = f"{len(hosts)} articles of {source}"
            for k in members:
                for d, i in places[k]:
                    docs[d].removed[i] = RemovedParagraph(i, "boilerplate", docs[d].raw[i], note)

    @staticmethod
    def _hosts_overlap(
        sample: tuple[int, ...],
        members_of_doc: dict[int, set[int]],
        text_overlaps: Callable[[Sequence[int]], list[list[int]]],
    ) -> float:
        """How much a sample of the host articles (at most ``_OVERLAP_SAMPLE``) are alike, 0-1.

        The larger of two means over pairs of hosts: the Jaccard of their sets of paragraphs,
        and the containment of their word shingles. Edited copies of one article (a few words
        changed in most paragraphs) share few identical paragraphs but most of their words, so
        the second mean keeps their content from passing for boilerplate.
        """
        pairs = list(combinations(sample, 2))
        paragraphs = [
            len(members_of_doc[a] & members_of_doc[b]) / len(members_of_doc[a] | members_of_doc[b])
            for a, b in pairs
        ]
        # Shingles shared by each pair of the sample, over the smaller set (as jaccard_containment).
        shared = text_overlaps(sample)
        size = [row[i] for i, row in enumerate(shared)]
        where = {d: i for i, d in enumerate(sample)}
        texts = []
        for a, b in pairs:
            smaller = min(size[where[a]], size[where[b]])
            texts.append(shared[where[a]][where[b]] / smaller if smaller else 0.0)
        return float(max(np.mean(paragraphs), np.mean(texts)))

    @staticmethod
    def result(doc: Paragraphs) -> CleanedDocument:
        """The cleaned document: kept paragraphs and the removal records in paragraph order."""
        return CleanedDocument(
            doc.doc_id,
            tuple(doc.raw[i] for i in doc.kept()),
            ParagraphCleaner.removal_records(doc),
        )

    @staticmethod
    def removal_records(doc: Paragraphs) -> tuple[RemovedParagraph, ...]:
        """The removal records of :meth:`result`, in paragraph order (without the text)."""
        records = {**doc.trimmed, **doc.removed}  # a paragraph removed whole reports that
        return tuple(records[i] for i in sorted(records))


def _interleaved(
    first: tuple[np.ndarray, np.ndarray, np.ndarray],
    second: tuple[np.ndarray, np.ndarray, np.ndarray],
    in_first: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The ``(rows, counts, halves)`` of two groups of lines, put back in line order.

    Args:
        first: ``line_rows`` of the lines where ``in_first`` is True, in order.
        second: ``line_rows`` of the others, in order.
        in_first: Per line (all of them), whether it is in the first group.
    """
    counts = np.empty(len(in_first), dtype=np.int64)
    halves = np.empty(len(in_first), dtype=bool)
    counts[in_first], halves[in_first] = first[1], first[2]
    counts[~in_first], halves[~in_first] = second[1], second[2]
    starts = np.cumsum(counts) - counts  # where each line's tokens go
    rows = np.empty(int(counts.sum()), dtype=np.int64)
    for (group_rows, group_counts, _), lines in ((first, in_first), (second, ~in_first)):
        moved = starts[lines] - (np.cumsum(group_counts) - group_counts)  # per line of the group
        rows[np.repeat(moved, group_counts) + np.arange(len(group_rows))] = group_rows
    return rows, counts, halves


def _with_lines_replaced(
    rows: np.ndarray, lengths: np.ndarray, replaced: dict[int, np.ndarray]
) -> tuple[np.ndarray, np.ndarray]:
    """``rows`` (the tokens of lines of ``lengths`` tokens) with some lines' tokens replaced.

    Args:
        rows: Token rows of all lines, one after the other.
        lengths: Tokens of each line.
        replaced: Line number -> its new token rows.
    """
    bounds = np.concatenate(([0], np.cumsum(lengths)))
    pieces, after = [], 0  # after: the first line not yet taken
    for line in sorted(replaced):
        pieces += [rows[bounds[after] : bounds[line]], replaced[line]]
        after = line + 1
    pieces.append(rows[bounds[after] :])
    lengths = lengths.copy()
    lengths[list(replaced)] = [len(new) for new in replaced.values()]
    return np.concatenate(pieces), lengths
