"""Map the forced aligner's units back onto the punctuated ASR text.

The aligner only sees letters, digits and ``'`` (``3.5`` becomes ``35``, ``don’t`` becomes ``dont``)
and splits text its own way (one unit per CJK character, nagisa morphemes for Japanese, soynlp pieces
for Korean). Here the text itself decides what a display word is, and the units only lend their times:

1. The kept characters of the text are matched against the characters of the units one by one; at
   a mismatch both sides skip ahead to where they agree again, so missing or extra units cost only
   their own characters. A unit's time is shared evenly among its characters.
2. The text is cut into atoms that are never split on screen: whitespace-separated tokens, further
   cut between units inside Han/kana runs, at full-width punctuation (``OK。Let``), and where two
   units meet behind ``.``, ``!``, ``?``… inside one token, the trace of English sentences fused at a
   chunk border (``end.Next``), which gets its space back.
3. Each atom becomes a ``Word`` carrying the whitespace before it, opening punctuation before it and
   closing punctuation after it, so joining the words restores the text.
4. Words no unit matched get times interpolated from their neighbours and are ``InterpolatedWord``s,
   which the quality report counts.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from difflib import SequenceMatcher
from itertools import pairwise

from asr_core.textwidth import is_kept_char, is_no_space_char, is_wide_punctuation
from asr_core.types import AlignedUnit, Word

# Nominal duration of one untimed word at either end of a clip, where there is no neighbour to span.
UNTIMED_WORD_S = 0.3
_SENTENCE_MARKS = frozenset(".!?,;:")
_OPENERS = frozenset("¿¡")
_TOKEN = re.compile(r"\S+")
# After a mismatch between text and units, this many equal characters in a row count as agreement again.
_RESYNC_CHARS = 4
_RESYNC_WINDOW = 64


@dataclass(frozen=True)
class InterpolatedWord(Word):
    """A word the aligner gave no time for; its times come from the words around it.

    Shift it with ``dataclasses.replace`` so that it keeps its class on the file timeline.
    """


@dataclass(frozen=True)
class _CharTime:
    unit: int
    start_s: float
    end_s: float


@dataclass(frozen=True)
class _Atom:
    start: int  # index of its first kept character in the text
    end: int  # one past its last kept character
    fused: bool  # glued to the previous atom by a chunk border; needs a space back


def _key(ch: str) -> str:
    return unicodedata.normalize("NFKC", ch).casefold()


def _unit_char_times(units: Sequence[AlignedUnit]) -> list[tuple[str, _CharTime]]:
    chars: list[tuple[str, _CharTime]] = []
    for index, unit in enumerate(units):
        kept = [ch for ch in unit.text if is_kept_char(ch)]
        start, end = unit.start_s, max(unit.start_s, unit.end_s)
        step = (end - start) / max(len(kept), 1)
        for k, ch in enumerate(kept):
            chars.append((_key(ch), _CharTime(index, start + step * k, start + step * (k + 1))))
    return chars


def _resync(a: Sequence[str], b: Sequence[str], i: int, j: int) -> tuple[int, int, int] | None:
    """Where ``a[i:]`` and ``b[j:]`` agree again after a mismatch, as ``(i, j, length)``: the first run of
    a few equal characters within a window that widens until one is found (``None`` if none is)."""
    window = _RESYNC_WINDOW
    while True:
        blocks = SequenceMatcher(None, a[i : i + window], b[j : j + window], autojunk=False).get_matching_blocks()
        for block in blocks:
            reaches_end = i + block.a + block.size == len(a) or j + block.b + block.size == len(b)
            if block.size >= _RESYNC_CHARS or (block.size and reaches_end):
                return i + block.a, j + block.b, block.size
        if i + window >= len(a) and j + window >= len(b):
            return None
        window *= 4


def _matching_pairs(a: Sequence[str], b: Sequence[str], b_units: Sequence[int]) -> list[tuple[int, int]]:
    """Index pairs of equal characters in order; linear while text and units agree, as they normally do.

    At a mismatch inside a unit, the part of that unit matched so far is undone first: in ``two three``
    aligned as ``three``, the ``t`` of ``two`` must not borrow the time of ``three``.
    """
    pairs: list[tuple[int, int]] = []
    settled = 0
    i = j = 0
    while i < len(a) and j < len(b):
        if a[i] == b[j]:
            pairs.append((i, j))
            i, j = i + 1, j + 1
            continue
        while len(pairs) > settled and b_units[pairs[-1][1]] == b_units[j]:
            i, j = pairs.pop()
        found = _resync(a, b, i, j)
        if found is None:
            break
        i, j, size = found
        pairs.extend((i + k, j + k) for k in range(size))
        i, j, settled = i + size, j + size, len(pairs)
    return pairs


def _match_chars(text: str, units: Sequence[AlignedUnit]) -> dict[int, _CharTime]:
    """Text position of each kept character -> the time its matching unit character lends it."""
    positions = [i for i, ch in enumerate(text) if is_kept_char(ch)]
    unit_chars = _unit_char_times(units)
    text_keys = [_key(text[i]) for i in positions]
    unit_keys = [key for key, _ in unit_chars]
    pairs = _matching_pairs(text_keys, unit_keys, [time.unit for _, time in unit_chars])
    return {positions[i]: unit_chars[j][1] for i, j in pairs}


def _splits_between(text: str, left: int, right: int, times: dict[int, _CharTime]) -> tuple[bool, bool]:
    """Whether kept characters ``left`` and ``right`` of one token belong to different atoms, and whether
    the second atom was fused onto the first at a chunk border."""
    between = text[left + 1 : right]
    left_unit = times[left].unit if left in times else None
    right_unit = times[right].unit if right in times else None
    same_unit = left_unit is not None and left_unit == right_unit
    if (is_no_space_char(text[left]) or is_no_space_char(text[right])) and not same_unit:
        return True, False
    if any(is_wide_punctuation(ch) for ch in between):
        return True, False
    fused = (
        left_unit is not None
        and right_unit is not None
        and not same_unit
        and any(ch in _SENTENCE_MARKS for ch in between)
        and text[right].isalpha()
    )
    return fused, fused


def _find_atoms(text: str, times: dict[int, _CharTime]) -> list[_Atom]:
    atoms: list[_Atom] = []
    for token in _TOKEN.finditer(text):
        kept = [i for i in range(token.start(), token.end()) if is_kept_char(text[i])]
        if not kept:
            continue
        start, fused = kept[0], False
        for left, right in pairwise(kept):
            split, fused_next = _splits_between(text, left, right, times)
            if split:
                atoms.append(_Atom(start, left + 1, fused))
                start, fused = right, fused_next
        atoms.append(_Atom(start, kept[-1] + 1, fused))
    return atoms


def _split_gap(gap: str) -> tuple[str, str]:
    """Split the text between two atoms into what closes the left word and what opens the right one."""
    last_space = max((i for i, ch in enumerate(gap) if ch.isspace()), default=-1)
    if last_space >= 0:
        run_start = last_space
        while run_start > 0 and gap[run_start - 1].isspace():
            run_start -= 1
        return gap[:run_start], gap[run_start:]
    for i, ch in enumerate(gap):
        if ch in _OPENERS or unicodedata.category(ch) in ("Ps", "Pi"):
            return gap[:i], gap[i:]
    return gap, ""


def _word_texts(text: str, atoms: Sequence[_Atom]) -> list[str]:
    openings = [text[: atoms[0].start]]
    closings = []
    for left, right in pairwise(atoms):
        closing, opening = _split_gap(text[left.end : right.start])
        closings.append(closing)
        openings.append(" " + opening if right.fused else opening)
    closings.append(text[atoms[-1].end :])
    return [
        opening + text[atom.start : atom.end] + closing
        for atom, opening, closing in zip(atoms, openings, closings, strict=True)
    ]


def _atom_time(atom: _Atom, times: dict[int, _CharTime]) -> tuple[float, float] | None:
    spans = [times[i] for i in range(atom.start, atom.end) if i in times]
    if not spans:
        return None
    return min(t.start_s for t in spans), max(t.end_s for t in spans)


def _weight(atom: _Atom, text: str) -> int:
    return sum(1 for ch in text[atom.start : atom.end] if is_kept_char(ch))


def _interpolate(
    atoms: Sequence[_Atom], text: str, times: list[tuple[float, float] | None]
) -> list[tuple[float, float]]:
    """Fill each run of untimed atoms between its timed neighbours, in proportion to their length."""
    filled: list[tuple[float, float]] = []
    i = 0
    while i < len(atoms):
        known = times[i]
        if known is not None:
            filled.append(known)
            i += 1
            continue
        j = i
        while j < len(atoms) and times[j] is None:
            j += 1
        left = filled[-1][1] if filled else None
        right_time = times[j] if j < len(atoms) else None
        right = right_time[0] if right_time is not None else None
        count = j - i
        if left is None and right is None:
            left, right = 0.0, count * UNTIMED_WORD_S
        elif left is None:
            left = max(0.0, right - count * UNTIMED_WORD_S)
        elif right is None:
            right = left + count * UNTIMED_WORD_S
        right = max(left, right)
        weights = [_weight(atom, text) for atom in atoms[i:j]]
        total, cursor = sum(weights), left
        for weight in weights:
            end = cursor + (right - left) * weight / total
            filled.append((cursor, end))
            cursor = end
        i = j
    return filled


def attach_punctuation(text: str, units: Sequence[AlignedUnit]) -> list[Word]:
    """Display words of ``text`` timed by the aligner's ``units`` (times unchanged, clip timeline).

    ``"".join(w.text for w in words)`` equals ``text``, except that a space is put back between
    sentences the recogniser glued together at a chunk border.
    """
    if not text.strip():
        return []
    times = _match_chars(text, units)
    atoms = _find_atoms(text, times)
    if not atoms:
        at = units[0].start_s if units else 0.0
        return [InterpolatedWord(text, at, at)]
    atom_times = [_atom_time(atom, times) for atom in atoms]
    spans = _interpolate(atoms, text, atom_times)
    words: list[Word] = []
    for word_text, known, (start, end) in zip(_word_texts(text, atoms), atom_times, spans, strict=True):
        word_class = Word if known is not None else InterpolatedWord
        words.append(word_class(word_text, start, end))
    return words
