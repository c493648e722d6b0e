"""Guards against text the recogniser invents (over music, silence or intros). Pure functions.

Recognisers fed with music or silence tend to loop one phrase, to pack far more text into a stretch
than anyone can speak, or to place words where the voice activity detector heard no speech.
"""

from __future__ import annotations

from collections.abc import Sequence

from asr_core.presets import CueLimits
from asr_core.textwidth import is_kept_char
from asr_core.types import SpeechSpan, Word

REPEATED_PHRASE = "repeated_phrase"
DENSE_TEXT = "dense_text"
CRAMMED_WORDS = "crammed_words"

_MIN_CRAMMED_WORDS = 4


def _key(word: Word) -> str:
    return "".join(ch for ch in word.text.casefold() if is_kept_char(ch))


def _repeat_count(keys: Sequence[str], start: int, size: int) -> int:
    phrase = keys[start : start + size]
    count = 1
    while keys[start + count * size : start + (count + 1) * size] == phrase:
        count += 1
    return count


def _longest_loop(keys: Sequence[str], start: int, max_phrase_words: int) -> tuple[int, int]:
    """``(phrase size, repeats)`` of the loop at ``start`` that covers the most words."""
    best = (1, 1)
    for size in range(1, min(max_phrase_words, (len(keys) - start) // 2) + 1):
        if not all(keys[start : start + size]):
            continue
        repeats = _repeat_count(keys, start, size)
        if repeats * size > best[0] * best[1]:
            best = (size, repeats)
    return best


def collapse_repeats(
    words: Sequence[Word], *, min_repeats: int = 6, min_run_chars: int = 16, max_phrase_words: int = 12
) -> list[Word]:
    """Keep one copy of a phrase repeated at least ``min_repeats`` times in a row.

    Punctuation and case are ignored when comparing. Short runs (fewer than ``min_run_chars``
    letters in all) stay, so "la la la" in a song or a burst of laughter is not touched.
    """
    keys = [_key(w) for w in words]
    kept: list[Word] = []
    i = 0
    while i < len(words):
        size, repeats = _longest_loop(keys, i, max_phrase_words)
        run_chars = sum(len(key) for key in keys[i : i + size * repeats])
        if repeats >= min_repeats and run_chars >= min_run_chars:
            kept.extend(words[i : i + size])
            i += size * repeats
        else:
            kept.append(words[i])
            i += 1
    return kept


def density_flags(
    words: Sequence[Word], *, speech_s: float, limits: CueLimits, window_s: float = 1.0
) -> tuple[str, ...]:
    """Flags for text too dense to have been spoken.

    ``dense_text``: over the whole file, more characters per second of speech than
    ``limits.max_speech_chars_per_s``. ``crammed_words``: some ``window_s`` stretch holds at least four
    words and more than twice that rate (typical of invented text squeezed into a clip's end).
    """
    if not words:
        return ()
    flags: list[str] = []
    total = limits.reading_chars("".join(w.text for w in words).strip())
    if speech_s <= 0 or total / speech_s > limits.max_speech_chars_per_s:
        flags.append(DENSE_TEXT)
    chars = [limits.reading_chars(w.text.strip()) for w in words]
    burst_limit = 2 * limits.max_speech_chars_per_s * window_s
    end = 0
    for start in range(len(words)):
        end = max(end, start)
        while end + 1 < len(words) and words[end + 1].start_s - words[start].start_s <= window_s:
            end += 1
        if end - start + 1 >= _MIN_CRAMMED_WORDS and sum(chars[start : end + 1]) > burst_limit:
            flags.append(CRAMMED_WORDS)
            break
    return tuple(flags)


def drop_words_outside_speech(
    words: Sequence[Word], spans: Sequence[SpeechSpan], *, tolerance_s: float = 0.25
) -> list[Word]:
    """Words that overlap some speech span (widened by ``tolerance_s``); the rest were never spoken."""
    return [
        word
        for word in words
        if any(word.start_s <= span.end_s + tolerance_s and word.end_s >= span.start_s - tolerance_s for span in spans)
    ]
