"""Clustering features: what an article's TF-IDF vector is made of.

An article contributes its tokens and adjacent token pairs (``shingle.features``), its title's
counted ``title_weight`` more times, and its *name sequences*: runs of capitalised words in the
text as written (``Lindsay Lohan``, ``Betty Ford Center``, ``Nguyễn Quang Huy``), counted
``name_weight`` more times. Names are what tell apart two events of the same kind (one rehab
check-in from another, one earthquake from another), and capitalisation marks them in every
script that has case, with no list of names and no language rule. A capitalised word alone at
the start of a sentence is not a name (it is just the sentence's first word); a run of two or
more is kept wherever it stands.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence

import numpy as np

from .config import NormConfig
from .errors import LINE_BREAKS
from .normalize import fold_lines, nfc
from .shingle import features
from .token_table import word_characters

_WORD_OR_STOP = re.compile(r"\w+|[.!?]")
_WORD = re.compile(r"\w+")
_STOPS = ".!?"
_STOPS_AND_BREAKS = _STOPS + LINE_BREAKS
_ASTRAL = re.compile("[\U00010000-\U0010ffff]")  # characters past the BMP
NAME_PREFIX = "\u2063name:"  # invisible separator: never produced by the tokenizer


def name_sequences(
    text: str, config: NormConfig | None = None, *, is_nfc: bool = False
) -> list[str]:
    """Return the runs of capitalised words of ``text``, normalized, one feature per run.

    Args:
        text: Text as written (case kept); lines are separate sentences.
        config: Normalization applied to each run (the pipeline's).
        is_nfc: The caller knows ``text`` is NFC already (saves a pass over it).

    Returns:
        Features such as ``"<prefix>lindsay lohan"``, in text order, repeats kept.

    Example:
        >>> [n.split(":")[1] for n in name_sequences("Lindsay Lohan checks in. The star left.")]
        ['lindsay lohan']
    """
    runs = _capitalised_runs(text if is_nfc else nfc(text))
    # Words joined by single spaces, and folding makes no white space of a word character:
    # fold_lines leaves them as normalize_lines would (without its pass over the spaces).
    return [NAME_PREFIX + run for run in fold_lines(runs, config)]


@functools.cache
def _runs_pattern() -> re.Pattern[str]:
    """A regex of a run of capitalised words (see :func:`_capitalised_runs`).

    Each word starts with an upper-case letter; between two words stand only characters that
    are neither word characters, nor stops, nor line breaks. Upper-case letters of the Basic
    Multilingual Plane only: a class of them is one table lookup for the regex engine, while
    one holding the other planes is a slow list of ranges (text with such letters goes token
    by token).
    """
    upper = re.escape(_upper_letters())
    gap = f"[^\\w{re.escape(_STOPS + LINE_BREAKS)}]+"
    # (?<!\w.) after the first letter: the word starts there (not inside a word).
    # Group 1: the first word; group 2: the others (empty for a run of one word).
    return re.compile(f"([{upper}](?<!\\w.)\\w*)((?:{gap}[{upper}]\\w*)*)")


@functools.cache
def _upper_letters() -> str:
    """The upper-case letters of the Basic Multilingual Plane that are word characters."""
    word = re.compile(r"\w")
    letters = (chr(code) for code in range(0x10000))
    return "".join(c for c in letters if c.isupper() and word.match(c))


@functools.cache
def _character_classes() -> np.ndarray:
    r"""The class of each BMP character for :func:`dedup.kernels.capitalised_runs` (uint8).

    0 a gap between words, 1 a word character (``\w``) that starts no run, 2 an upper-case
    letter (one of :func:`_upper_letters`), 3 a stop or line break: the classes of the regex.
    """
    classes = word_characters()[:0x10000].astype(np.uint8)
    classes[list(map(ord, _upper_letters()))] = 2
    classes[list(map(ord, _STOPS_AND_BREAKS))] = 3
    return classes


def name_sequences_of_articles(
    articles: Sequence[tuple[str, str]], config: NormConfig | None = None, *, compiled: bool
) -> list[list[str]]:
    """:func:`name_sequences` of the title, then of the text, of each ``(title, NFC text)``.

    With ``compiled`` (numba installed), the runs of all the articles are found in one
    compiled pass (:func:`dedup.kernels.capitalised_runs`) and folded in one call: the same
    features in about half the time of a regex search per text, whose cost is in its match
    objects (about 50 a news article). An article with a character past the BMP is done as
    without ``compiled``.
    """
    if not compiled:
        return [_names_of_article(title, text, config) for title, text in articles]
    from .kernels import capitalised_runs

    # Titles and texts joined by line breaks: a run never spans one, and a text's start is
    # a sentence's start, as a line's is. So the runs of the whole are those of each piece.
    pieces = [piece for title, text in articles for piece in (nfc(title), text)]
    joined = "\n".join(pieces)
    codes = np.frombuffer(joined.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    starts, ends, plain, first_words, word_starts, word_ends = capitalised_runs(
        codes, _character_classes()
    )
    runs = list(map(joined.__getitem__, map(slice, starts.tolist(), ends.tolist())))
    words_end = np.append(first_words[1:], len(word_starts))
    for r in np.flatnonzero(~plain).tolist():  # words apart by more than one space
        first, last = first_words[r], words_end[r]
        spans = zip(word_starts[first:last].tolist(), word_ends[first:last].tolist(), strict=True)
        runs[r] = " ".join([joined[start:end] for start, end in spans])
    folded = list(map(NAME_PREFIX.__add__, fold_lines(runs, config)))
    piece_starts = np.cumsum([0] + [len(piece) + 1 for piece in pieces])
    article_of_run = (np.searchsorted(piece_starts, starts, side="right") - 1) // 2
    bounds = np.searchsorted(article_of_run, np.arange(len(articles) + 1)).tolist()
    found = [folded[bounds[a] : bounds[a + 1]] for a in range(len(articles))]
    astral = np.flatnonzero(codes >= 0x10000)
    for a in np.unique((np.searchsorted(piece_starts, astral, side="right") - 1) // 2).tolist():
        found[a] = _names_of_article(*articles[a], config)
    return found


def _names_of_article(title: str, text: str, config: NormConfig | None) -> list[str]:
    """:func:`name_sequences` of ``title``, then of ``text`` (NFC)."""
    return name_sequences(title, config) + name_sequences(text, config, is_nfc=True)


def _capitalised_runs(text: str) -> list[str]:
    r"""The runs :func:`name_sequences` keeps, as found (words joined by one space).

    The text's tokens are its words (``\w+``) and stops (``.``, ``!``, ``?``), line by line. A
    run is a longest sequence of capitalised tokens; it is kept unless it is a single word
    that starts a sentence (no token before it on its line, or a stop).
    """
    if _ASTRAL.search(text):
        return _capitalised_runs_by_token(text)
    runs = []
    for match in _runs_pattern().finditer(text):
        if match.group(2):
            runs.append(" ".join(_WORD.findall(match.group())))
            continue
        # One word: kept unless the last character before it that is no gap between words
        # (a word character, a stop or a line break) is a stop or a line break, or is none.
        before = match.start() - 1
        while before >= 0:
            char = text[before]
            if char.isalnum() or char == "_" or char in _STOPS_AND_BREAKS:
                break
            before -= 1
        if before >= 0 and text[before] not in _STOPS_AND_BREAKS:
            runs.append(match.group(1))
    return runs


def _capitalised_runs_by_token(text: str) -> list[str]:
    """:func:`_capitalised_runs` token by token (for text with letters past the BMP)."""
    runs: list[list[str]] = []
    for line in text.splitlines():
        run: list[str] = []
        run_starts_sentence = sentence_start = True
        for word in _WORD_OR_STOP.findall(line):
            if word[0].isupper():
                if not run:
                    run_starts_sentence = sentence_start
                run.append(word)
            else:
                if len(run) > 1 or (run and not run_starts_sentence):
                    runs.append(run)
                run = []
            sentence_start = word in _STOPS
        if len(run) > 1 or (run and not run_starts_sentence):
            runs.append(run)
    return [" ".join(run) for run in runs]


def document_features(
    body: Sequence[str],
    title: Sequence[str],
    names: Sequence[str],
    *,
    title_weight: int,
    name_weight: int,
) -> list[str]:
    """The features of one article (see the module docstring).

    Args:
        body: Normalized tokens of the cleaned text.
        title: Normalized tokens of the title (empty when none).
        names: Name-sequence features (:func:`name_sequences` of the title and text).
        title_weight: Extra times the title's features count (0-5).
        name_weight: Extra times each name sequence counts (0-5).
    """
    return [*features(body), *features(title) * title_weight, *names * name_weight]
