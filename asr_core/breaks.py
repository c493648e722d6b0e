"""How good a place between two words is for ending a cue or a line.

Professional subtitles break after punctuation and before conjunctions, and never between an article
and its noun, a preposition and its object, a pronoun and its verb, or a number and its unit. Words
themselves are never split: a ``Word`` is the smallest piece the cue builder moves. A pause in the
speech makes any break better, because the viewer hears the boundary too.
"""

from __future__ import annotations

from collections.abc import Sequence

from asr_core.textwidth import is_no_space_char
from asr_core.types import Word

SENTENCE_END = 0.0
CLAUSE_END = 0.5
BEFORE_CONJUNCTION = 1.0
PLAIN = 3.0
BAD = 6.0

_CLOSERS = "\"'”’」』）)]】》〉»›"
_SENTENCE_MARKS = frozenset(".!?。！？‼⁉♪")
_CLAUSE_MARKS = frozenset(",;:，、；：…—–-~～")

_EN_ABBREVIATIONS = frozenset({"mr.", "mrs.", "ms.", "dr.", "prof.", "st.", "vs.", "e.g.", "i.e.", "no."})
_EN_CONJUNCTIONS = frozenset(
    (
        "and", "but", "or", "nor", "so", "yet", "because", "although", "though", "while", "whereas", "if",
        "unless", "until", "when", "whenever", "where", "which", "who", "whom", "whose", "that", "since", "as",
        "than", "then", "after", "before",
    )
)  # fmt: skip
_EN_PREPOSITIONS = frozenset(
    (
        "about", "above", "across", "against", "along", "among", "around", "at", "behind", "below", "beneath",
        "beside", "between", "beyond", "by", "during", "for", "from", "in", "inside", "into", "like", "near",
        "of", "off", "on", "onto", "over", "through", "to", "toward", "towards", "under", "upon", "with",
        "within", "without",
    )
)  # fmt: skip
_EN_NO_BREAK_AFTER = _EN_PREPOSITIONS | _EN_CONJUNCTIONS | frozenset(
    (
        "a", "an", "the", "my", "your", "his", "her", "its", "our", "their", "this", "these", "those", "i", "he",
        "she", "we", "they", "not", "very",
    )
)  # fmt: skip
_ZH_CONJUNCTIONS = (
    "但是", "可是", "因为", "所以", "而且", "然后", "如果", "虽然", "不过", "或者", "并且", "于是", "因此", "但", "而",
)  # fmt: skip
_ZH_NO_BREAK_AFTER = frozenset("的地得这那一个些每几")
_JA_PARTICLES = frozenset(
    (
        "は", "が", "を", "に", "へ", "で", "と", "も", "から", "まで",
        "より", "けど", "けれど", "ので", "のに", "ね", "よ", "か", "て",
    )
)  # fmt: skip
_JA_CONJUNCTIONS = ("でも", "しかし", "だから", "そして", "それで", "けれども", "ところで", "それから")
_JA_NO_BREAK_AFTER = frozenset({"お", "ご", "の"})
_KO_CONJUNCTIONS = ("그리고", "그런데", "하지만", "그래서", "그러나", "그러면", "또는", "근데")


def _is_hiragana(ch: str) -> bool:
    return "\u3041" <= ch <= "\u309f"


def _core(text: str) -> str:
    return text.strip().rstrip(_CLOSERS)


def _punctuation_penalty(left: str) -> float | None:
    core = _core(left)
    if not core:
        return None
    if core[-1] in _SENTENCE_MARKS:
        return BAD if core.lower().split()[-1] in _EN_ABBREVIATIONS else SENTENCE_END
    if core[-1] in _CLAUSE_MARKS:
        return CLAUSE_END
    return None


def _word_penalty(left: str, right: str, preset: str) -> float:
    last = left.strip().lower()
    head = right.lstrip().lower()
    if last[-1:].isdigit() and head[:1] and (is_no_space_char(head[0]) or head[0] in "%％"):
        return BAD
    if preset == "latin":
        first = head.split(maxsplit=1)[0].strip(",.;:!?\"'()") if head else ""
        if last in _EN_NO_BREAK_AFTER:
            return BAD
        if first in _EN_CONJUNCTIONS:
            return BEFORE_CONJUNCTION
        if first in _EN_PREPOSITIONS:
            return (BEFORE_CONJUNCTION + PLAIN) / 2
    elif preset == "chinese":
        if last[-1:] in _ZH_NO_BREAK_AFTER:
            return BAD
        if head.startswith(_ZH_CONJUNCTIONS):
            return BEFORE_CONJUNCTION
    elif preset == "japanese":
        if last in _JA_NO_BREAK_AFTER:
            return BAD
        if last in _JA_PARTICLES or head.startswith(_JA_CONJUNCTIONS):
            return BEFORE_CONJUNCTION
        if _is_hiragana(head[:1]):
            return BAD  # a particle, auxiliary or inflection that belongs to the word before it
    elif preset == "korean" and head.startswith(_KO_CONJUNCTIONS):
        return BEFORE_CONJUNCTION
    return PLAIN


def break_penalty(left: str, right: str, gap_s: float, preset: str) -> float:
    """Cost of breaking between the word ``left`` and the text ``right`` that follows it (0 = ideal).

    ``right`` should hold a few following words so that multi-character conjunctions are recognised
    in scripts where every character is its own word.
    """
    penalty = _punctuation_penalty(left)
    if penalty is None:
        penalty = _word_penalty(left, right, preset)
    pause_factor = max(0.2, 1.0 - max(gap_s, 0.0))
    return penalty * pause_factor


def boundary_penalties(words: Sequence[Word], preset: str, lookahead: int = 4) -> list[float]:
    """``result[k]`` is the cost of breaking just before ``words[k]`` (``result[0]`` is 0)."""
    penalties = [0.0]
    for k in range(1, len(words)):
        right = "".join(w.text for w in words[k : k + lookahead])
        gap = words[k].start_s - words[k - 1].end_s
        penalties.append(break_penalty(words[k - 1].text, right, gap, preset))
    return penalties


def ends_sentence(text: str) -> bool:
    """True when ``text`` closes a sentence (an abbreviation such as ``Mr.`` does not)."""
    return _punctuation_penalty(text) == SENTENCE_END
