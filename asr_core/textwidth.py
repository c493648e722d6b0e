"""Display width and script classes of characters.

Subtitle line limits are measured in terminal-style columns: a full-width character (CJK ideographs,
kana, Hangul, full-width punctuation, most emoji) takes 2 columns, combining marks take none and
everything else takes 1. This is what makes one limit work for Latin, CJK and mixed text alike.
"""

from __future__ import annotations

import unicodedata

_WIDE = frozenset({"W", "F"})
_ZERO_WIDTH_CATEGORIES = frozenset({"Mn", "Me", "Cf"})

# Ranges of scripts written without spaces between words: the aligner (nagisa for Japanese, one unit
# per ideograph otherwise) is the only source of word boundaries there.
_NO_SPACE_RANGES = (
    (0x3005, 0x3007),  # 々 〆 〇
    (0x3040, 0x309F),  # Hiragana
    (0x30A0, 0x30FF),  # Katakana
    (0x31F0, 0x31FF),  # Katakana phonetic extensions
    (0x3400, 0x4DBF),  # CJK extension A
    (0x4E00, 0x9FFF),  # CJK unified ideographs
    (0xF900, 0xFAFF),  # CJK compatibility ideographs
    (0xFF66, 0xFF9F),  # half-width Katakana
    (0x20000, 0x2FA1F),  # CJK extensions B-F and compatibility supplement
)
_HAN_RANGES = ((0x3400, 0x4DBF), (0x4E00, 0x9FFF), (0xF900, 0xFAFF), (0x20000, 0x2FA1F))
_KANA_RANGES = ((0x3040, 0x30FF), (0x31F0, 0x31FF), (0xFF66, 0xFF9F))
_HANGUL_RANGES = ((0x1100, 0x11FF), (0x3130, 0x318F), (0xAC00, 0xD7AF))


def _in_ranges(ch: str, ranges: tuple[tuple[int, int], ...]) -> bool:
    code = ord(ch)
    return any(low <= code <= high for low, high in ranges)


def char_width(ch: str) -> int:
    """Columns one character takes on screen."""
    if unicodedata.category(ch) in _ZERO_WIDTH_CATEGORIES:
        return 0
    return 2 if unicodedata.east_asian_width(ch) in _WIDE else 1


def display_width(text: str) -> int:
    """Columns a single line of text takes on screen."""
    return sum(char_width(ch) for ch in text)


def is_kept_char(ch: str) -> bool:
    """The aligner's own rule: only letters, digits and ASCII ``'`` survive its normalisation."""
    return ch == "'" or unicodedata.category(ch)[0] in "LN"


def is_no_space_char(ch: str) -> bool:
    """True for Han and kana: scripts whose words are not separated by spaces."""
    return _in_ranges(ch, _NO_SPACE_RANGES)


def is_wide_punctuation(ch: str) -> bool:
    """Full-width punctuation such as ``。，「`` never sits inside a word, unlike ``.`` in ``3.5``."""
    return not is_kept_char(ch) and not ch.isspace() and unicodedata.east_asian_width(ch) in _WIDE


def joins_without_space(left: str, right: str) -> bool:
    """True when text ending in character ``left`` runs on into ``right`` with no space between them
    (Han or kana, or full-width punctuation, on either side)."""

    def closed(ch: str) -> bool:
        return is_no_space_char(ch) or is_wide_punctuation(ch)

    return closed(left) or closed(right)


def script_counts(text: str) -> dict[str, int]:
    """How many characters of ``text`` belong to each script class relevant to subtitle layout."""
    counts = {"han": 0, "kana": 0, "hangul": 0, "other": 0}
    for ch in text:
        if not is_kept_char(ch):
            continue
        if _in_ranges(ch, _KANA_RANGES):
            counts["kana"] += 1
        elif _in_ranges(ch, _HAN_RANGES):
            counts["han"] += 1
        elif _in_ranges(ch, _HANGUL_RANGES):
            counts["hangul"] += 1
        else:
            counts["other"] += 1
    return counts
