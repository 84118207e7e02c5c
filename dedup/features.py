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

import re
from collections.abc import Sequence

from .config import NormConfig
from .normalize import nfc, normalize_text
from .shingle import features

_WORD_OR_STOP = re.compile(r"\w+|[.!?]")
NAME_PREFIX = "\u2063name:"  # invisible separator: never produced by the tokenizer


def name_sequences(text: str, config: NormConfig | None = None) -> list[str]:
    """Return the runs of capitalised words of ``text``, normalized, one feature per run.

    Args:
        text: Text as written (case kept); lines are separate sentences.
        config: Normalization applied to each run (the pipeline's).

    Returns:
        Features such as ``"<prefix>lindsay lohan"``, in text order, repeats kept.

    Example:
        >>> [n.split(":")[1] for n in name_sequences("Lindsay Lohan checks in. The star left.")]
        ['lindsay lohan']
    """
    runs: list[list[str]] = []
    for line in nfc(text).splitlines():
        run: list[str] = []
        run_starts_sentence = sentence_start = True
        for match in _WORD_OR_STOP.finditer(line):
            word = match.group()
            capitalised = word[0].isupper()
            if capitalised:
                if not run:
                    run_starts_sentence = sentence_start
                run.append(word)
            else:
                if len(run) > 1 or (run and not run_starts_sentence):
                    runs.append(run)
                run = []
            sentence_start = word in ".!?"
        if len(run) > 1 or (run and not run_starts_sentence):
            runs.append(run)
    return [NAME_PREFIX + normalize_text(" ".join(run), config) for run in runs]


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
