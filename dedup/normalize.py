"""Text normalization: pure ``str -> str`` steps, applied in one documented order.

Order (each step needs the previous one):

1. Zero-width characters dropped, then NFC, so a letter with its marks is one code point and
   NFD input equals NFC input.
2. Embed codes (``[mecloud]id[/mecloud]``) removed: they are markup, not words.
3. Case folding, so ``Tổng`` and ``tổng`` are one word (Vietnamese ``Đ`` folds to ``đ``).
4. Vietnamese tone placement: the old style, tone on the first vowel of a word-final
   ``oa``, ``oe``, ``uy`` (``hòa``, ``khỏe``, ``thúy``); new-style ``hoà``, ``khoẻ``, ``thuý`` are
   rewritten to it. Runs after case folding so one lower-case table suffices. Text in other
   languages has no such vowel pairs with Vietnamese tone marks, so it passes unchanged.
5. Zero-width characters dropped, every run of white space made one space (newlines kept as
   paragraph breaks when asked).

Diacritics are never stripped: ``má``, ``mà`` and ``mả`` are different words.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

from .config import NormConfig

_ZERO_WIDTH_CHARS = "\u200b\u200c\u200d\u2060\ufeff\u00ad"
_ZERO_WIDTH = dict.fromkeys(map(ord, _ZERO_WIDTH_CHARS), None)
_EMBED = re.compile(r"\[(\w+)\][^\[\]]*\[/\1\]")
_SPACES = re.compile(r"[^\S\n]+")
_NEWLINES = re.compile(r"\s*\n\s*")

# Tone marks as combining characters: grave, acute, hook above, tilde, dot below.
_TONES = "\u0300\u0301\u0309\u0303\u0323"


def _tone_table() -> dict[str, str]:
    """Map each new-style word-final pair (``oà``) to the old style (``òa``)."""
    table = {}
    for first, second in (("o", "a"), ("o", "e"), ("u", "y")):
        for tone in _TONES:
            new = first + unicodedata.normalize("NFC", second + tone)
            old = unicodedata.normalize("NFC", first + tone) + second
            table[new] = old
    return table


_TONE_TABLE = _tone_table()


def _tone_pair_pattern() -> re.Pattern[str]:
    """A new-style pair at the end of a word, not after ``q`` (in ``quý`` the u is a consonant).

    Written as ``o[àá...]|u[ỳý...]`` with the ``q`` test after the pair, so the regex engine
    can skip to an ``o`` or ``u`` instead of trying a look-behind at every character.
    """
    seconds: dict[str, str] = {}
    for pair in sorted(_TONE_TABLE):
        seconds[pair[0]] = seconds.get(pair[0], "") + pair[1]
    pairs = "|".join(f"{first}[{chars}]" for first, chars in seconds.items())
    return re.compile(f"({pairs})(?<!q..)(?!\\w)")


_TONE_PAIR = _tone_pair_pattern()


def _drop_zero_width(text: str) -> str:
    """Remove zero-width characters (a substring test first: ``translate`` is slow)."""
    if any(char in text for char in _ZERO_WIDTH_CHARS):
        return text.translate(_ZERO_WIDTH)
    return text


def _maybe_not_nfc() -> str:
    """A regex (its source) of the characters that may keep a text from being NFC as it stands.

    Those of the BMP with a combining class, or not allowed in NFC, or that may compose with
    the character before them (the second of a canonical pair, Hangul vowels and trailing
    consonants), and every character past the BMP. A text with none of them passes Unicode's
    NFC quick check, so it is NFC; searching for them is several times faster than the quick
    check of ``unicodedata`` (one table lookup a character).
    """
    chars = set()
    for code in range(0x10000):
        char = chr(code)
        if unicodedata.combining(char) or not unicodedata.is_normalized("NFC", char):
            chars.add(char)
        decomposition = unicodedata.decomposition(char).split()
        if len(decomposition) == 2 and not decomposition[0].startswith("<"):
            chars.add(chr(int(decomposition[1], 16)))
    chars.update(map(chr, range(0x1161, 0x1176)))  # Hangul vowels (composed by rule)
    chars.update(map(chr, range(0x11A8, 0x11C3)))  # Hangul trailing consonants
    return _with_astral("".join(sorted(chars)))


def _with_astral(chars: str) -> str:
    """A regex class of ``chars`` (of the BMP) and every character past it.

    One class: the regex engine tests it as one table lookup, twice as fast as an alternation.
    """
    return f"[{re.escape(chars)}\U00010000-\U0010ffff]"


_MAYBE_NOT_NFC = re.compile(_maybe_not_nfc())


def _maybe_not_nfc_folded() -> str:
    """A regex (its source) of the characters that may keep a text or its case folding from NFC.

    Those of :func:`_maybe_not_nfc`, and those whose case folding holds one of them (``İ``
    folds to ``i`` and a combining dot). A text with none of them is NFC, and so is its case
    folding: one search tells both.
    """
    maybe = _MAYBE_NOT_NFC.search
    chars = (chr(code) for code in range(0x10000))
    return _with_astral("".join(c for c in chars if maybe(c) or maybe(c.casefold())))


_MAYBE_NOT_NFC_FOLDED = re.compile(_maybe_not_nfc_folded())
# The old-style pairs tone placement writes (in either case) hold no character that may compose.
_TONES_STAY_NFC = not any(_MAYBE_NOT_NFC.search(old + old.upper()) for old in _TONE_TABLE.values())
_MAYBE_NOT_NFC_RUN = re.compile(f"((?:{_MAYBE_NOT_NFC.pattern})+)")  # one group: kept by split
_MAX_STRETCHES = 32  # more, and one pass over the whole text is faster


def nfc(text: str) -> str:
    """Return ``text`` in Unicode normal form C.

    Text with no character that may change passes as it is. In text with a few (a combining
    mark here and there) only the stretches around them are normalized: each run of such
    characters with the character before it. A character outside the set has combining class
    0 and never composes with what precedes it, so NFC of the text is NFC of the stretches.
    """
    if _MAYBE_NOT_NFC.search(text) is None:  # (a search is several times faster than split)
        return text
    # Text between runs, then runs, alternately (runs are longest: the text between is not empty).
    split = _MAYBE_NOT_NFC_RUN.split(text, maxsplit=_MAX_STRETCHES)
    if len(split) > 2 * _MAX_STRETCHES and _MAYBE_NOT_NFC.search(split[-1]):
        return unicodedata.normalize("NFC", text)
    normalize = unicodedata.normalize
    pieces = []
    for i in range(1, len(split), 2):
        before = split[i - 1]
        pieces += (before[:-1], normalize("NFC", before[-1:] + split[i]))
    pieces.append(split[-1])
    return "".join(pieces)


def strip_embeds(text: str) -> str:
    """Remove embed codes such as ``[mecloud]OHzMHprpEs[/mecloud]``."""
    return _EMBED.sub(" ", text)


def place_tones(text: str) -> str:
    """Rewrite word-final new-style tone placement (``hoà``) to the old style (``hòa``).

    Expects lower-case NFC text.
    """
    return _TONE_PAIR.sub(lambda m: _TONE_TABLE[m.group(1)], text)


def _place_tones_nfc(text: str) -> str:
    """:func:`place_tones` of NFC text, and NFC of the result, normalizing only when needed.

    The pairs written hold no character that may compose (``_TONES_STAY_NFC``), so they
    compose with nothing before them; only a character after a moved pair that may compose
    (``hoà`` + U+0301: ``hòa`` + U+0301 is ``hòá``) can leave the text not NFC.
    """
    followed = False

    def old_style(match: re.Match[str]) -> str:
        nonlocal followed
        followed = followed or _MAYBE_NOT_NFC.match(text, match.end()) is not None
        return _TONE_TABLE[match.group(1)]

    placed, moved = _TONE_PAIR.subn(old_style, text)
    return nfc(placed) if followed or (moved and not _TONES_STAY_NFC) else placed


def clean_whitespace(text: str, *, keep_newlines: bool = False) -> str:
    """Drop zero-width characters and collapse white space to single spaces.

    Args:
        text: Any text.
        keep_newlines: Keep line breaks (one per break) instead of turning them into spaces.
    """
    text = _drop_zero_width(text)
    if keep_newlines:
        return _NEWLINES.sub("\n", _SPACES.sub(" ", text)).strip()
    return " ".join(text.split())


def normalize_text(
    text: str, config: NormConfig | None = None, *, keep_newlines: bool = False
) -> str:
    """Normalize ``text`` for comparison (see the module docstring for the order).

    Args:
        text: Any text.
        config: Which optional steps run; the defaults when None.
        keep_newlines: Keep paragraph breaks.

    Returns:
        Normalized NFC text. The function is idempotent.
    """
    return clean_whitespace(fold(text, config), keep_newlines=keep_newlines)


def fold(text: str, config: NormConfig | None = None, *, is_nfc: bool = False) -> str:
    """Steps 1-4 of :func:`normalize_text` (all but white space): the same word tokens.

    Args:
        text: Any text.
        config: Which optional steps run; the defaults when None.
        is_nfc: The caller knows ``text`` is NFC already (saves a pass over it).

    Returns:
        NFC text without zero-width characters; white space as given.
    """
    config = config or NormConfig()
    # Zero-width characters go before NFC: one between a letter and its mark would otherwise
    # keep them apart until clean_whitespace, leaving non-NFC output (and tone pairs unseen).
    given = len(text)
    text = _drop_zero_width(text)
    # Text with none of these characters is NFC, case folded or not (nor does removing embed
    # codes change that): no NFC step below but the one after moving tones has work to do.
    plain = _MAYBE_NOT_NFC_FOLDED.search(text) is None
    if not plain and not (is_nfc and len(text) == given):  # (dropping a character may not be)
        text = nfc(text)
    if config.strip_embeds:
        text = strip_embeds(text)
    if config.casefold:
        # Case folding can leave decomposed sequences (e.g. "İ"); NFC again keeps the output NFC.
        text = text.casefold() if plain else nfc(text.casefold())
    if config.tone_placement:
        # A combining mark after the moved pair (``hoà`` + U+0301) now composes: NFC again
        # (nothing to do when no pair moved: the text is as the last NFC left it; nor when no
        # moved pair is followed by a character that may compose: see _place_tones_nfc).
        if config.casefold:
            text = _place_tones_nfc(text)
        else:
            text = _place_tones_keep_case(text)
            if not (plain and _TONES_STAY_NFC):
                text = nfc(text)
    return text


def normalize_lines(lines: Sequence[str], config: NormConfig | None = None) -> list[str]:
    """:func:`normalize_text` of each line (see :func:`fold_lines`).

    Args:
        lines: Texts without line breaks (such as paragraphs or name runs).
        config: Which optional steps run; the defaults when None.
    """
    return [" ".join(line.split()) for line in fold_lines(lines, config)]


def fold_lines(lines: Sequence[str], config: NormConfig | None = None) -> list[str]:
    """:func:`fold` of each line, in one pass over all of them when that is the same.

    The steps act on each character and its neighbours within a line, never across a line
    break, so the lines are folded as one text joined by line breaks (one call instead of one per
    line). When that cannot be the same, each line is folded alone: with tone placement that
    keeps case (it decides on the whole text), or when the joined text lost a line break (an
    embed code spanning lines).

    Args:
        lines: Texts without line breaks (such as paragraphs or name runs).
        config: Which optional steps run; the defaults when None.
    """
    return _fold_joined(lines, "\n".join(lines), config or NormConfig(), is_nfc=False)


def nfc_and_fold_lines(
    lines: Sequence[str], config: NormConfig | None = None
) -> tuple[str, list[str]]:
    """:func:`nfc` of the lines joined by line breaks, and :func:`fold_lines` of them.

    A line break composes with nothing and has no combining class, so the NFC of lines joined
    by line breaks is their NFC's joined; folding starts from it instead of normalizing again.

    Args:
        lines: Texts without line breaks (such as paragraphs).
        config: Which optional steps run; the defaults when None.
    """
    joined = nfc("\n".join(lines))
    return joined, fold_nfc_lines(lines, joined, config)


def fold_nfc_lines(
    lines: Sequence[str], joined: str, config: NormConfig | None = None
) -> list[str]:
    """:func:`fold_lines` of ``lines``, given their NFC joined by line breaks (``joined``).

    As :func:`nfc_and_fold_lines` folds them, for a caller that has the NFC already (from
    :func:`nfc_and_unfolded_lines`): no second pass over the text for it.
    """
    return _fold_joined(lines, joined, config or NormConfig(), is_nfc=True)


def nfc_and_unfolded_lines(
    lines: Sequence[str], config: NormConfig | None = None
) -> tuple[str, list[str] | None]:
    """:func:`nfc` of the lines joined by line breaks, and the lines to cut tokens from unfolded.

    Folding is mostly per token: case folding acts on each character alone and never turns a
    word character into another kind, nor any other character into a word character
    (``tests/test_normalize.py`` checks every code point), and tone placement acts on the end
    of a word. So the tokens of the folded lines are the lines' tokens each folded alone
    (:func:`fold`) when the text folds without a new NFC step (it holds no character that
    may leave NFC once folded), holds no zero-width character (dropped first, it may join two
    words) and no embed code (removed whole). Folding each distinct token once, instead of
    the text, is what a token table does (:meth:`dedup.shingle.Hasher.line_rows`).

    Args:
        lines: Texts without line breaks (such as paragraphs).
        config: Which optional steps run; the defaults when None.

    Returns:
        The NFC, and the NFC lines without zero-width characters, whose tokens folded one by
        one are the tokens of :func:`fold_lines` of ``lines``; or None instead of them when
        the whole text must be folded: an embed code, a character that may leave NFC once
        folded, or tone placement that keeps case (it looks at the whole text).
    """
    config = config or NormConfig()
    joined = "\n".join(lines)
    # One search tells that a text is NFC and stays so once folded (the common case).
    plain = _MAYBE_NOT_NFC_FOLDED.search(joined) is None
    normal = joined if plain else nfc(joined)
    if config.tone_placement and not config.casefold:
        return normal, None
    unfolded = _drop_zero_width(normal)  # (plain text stays plain without some characters)
    if not plain and _MAYBE_NOT_NFC_FOLDED.search(unfolded) is not None:
        return normal, None
    if config.strip_embeds and "[/" in unfolded and _EMBED.search(unfolded):
        return normal, None
    return normal, unfolded.split("\n") if lines else []


def _fold_joined(lines: Sequence[str], joined: str, config: NormConfig, is_nfc: bool) -> list[str]:
    """:func:`fold_lines` of ``lines``, given them ``joined`` by line breaks (NFC if ``is_nfc``)."""
    if len(lines) == 1 or (len(lines) > 1 and (config.casefold or not config.tone_placement)):
        folded = fold(joined, config, is_nfc=is_nfc).split("\n")
        if len(folded) == len(lines):
            return folded
    return [fold(line, config) for line in lines]


def _place_tones_keep_case(text: str) -> str:
    """Tone placement for text that keeps its case: decide on the lower-cased copy."""
    lowered = text.lower()
    if len(lowered) != len(text):
        return text
    out = list(text)
    for match in _TONE_PAIR.finditer(lowered):
        start = match.start(1)
        old = _TONE_TABLE[match.group(1)]
        for offset, (orig, repl) in enumerate(zip(text[start : start + 2], old, strict=True)):
            out[start + offset] = repl.upper() if orig.isupper() else repl
    return "".join(out)
