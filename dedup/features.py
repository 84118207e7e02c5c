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

from .config import NormConfig
from .errors import LINE_BREAKS
from .normalize import fold_lines, nfc
from .shingle import features

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
    word = re.compile(r"\w")
    letters = (chr(code) for code in range(0x10000))
    upper = re.escape("".join(c for c in letters if c.isupper() and word.match(c)))
    gap = f"[^\\w{re.escape(_STOPS + LINE_BREAKS)}]+"
    # (?<!\w.) after the first letter: the word starts there (not inside a word).
    # Group 1: the first word; group 2: the others (empty for a run of one word).
    return re.compile(f"([{upper}](?<!\\w.)\\w*)((?:{gap}[{upper}]\\w*)*)")


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
