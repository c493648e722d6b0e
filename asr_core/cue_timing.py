"""When each cue appears and disappears.

A cue appears with its first word. It stays after its last word only as long as reading needs
(reading speed, minimum duration), at most ``max_linger_s`` beyond the last word, so text never hangs
over silence or music. Exceptions: a cue is always shown for ``min_duration_s`` when the next cue
leaves room, and a gap shorter than ``chain_gap_s`` to the next cue is closed down to ``min_gap_s``
(a flicker of blank screen is worse than a slightly longer cue). A cue never runs into the next one,
never lasts longer than ``max_duration_s`` unless one long word needs it, and never ends after the
audio does.
"""

from __future__ import annotations

from collections.abc import Sequence

from asr_core.presets import CueLimits
from asr_core.types import Cue, Word


def _end_time(
    text: str, words: Sequence[Word], next_start: float | None, limits: CueLimits, duration_s: float
) -> float:
    start = words[0].start_s
    last_end = max(w.end_s for w in words)
    needed = max(limits.min_duration_s, limits.reading_chars(text) / limits.max_chars_per_s)
    end = max(last_end, min(start + needed, last_end + limits.max_linger_s))
    end = max(end, start + limits.min_duration_s)
    if next_start is None:
        limit = duration_s
    else:
        limit = next_start - limits.min_gap_s if next_start - limits.min_gap_s >= start else next_start
        if next_start - end < limits.chain_gap_s:
            end = limit
    end = min(end, max(start + limits.max_duration_s, last_end))
    return max(start, min(end, limit))


def timed_cues(groups: Sequence[tuple[str, Sequence[Word]]], limits: CueLimits, duration_s: float) -> list[Cue]:
    """Cues from ``(text, words)`` groups in order; word times must already lie in ``[0, duration_s]``."""
    cues: list[Cue] = []
    for index, (text, words) in enumerate(groups):
        next_start = groups[index + 1][1][0].start_s if index + 1 < len(groups) else None
        end = _end_time(text, words, next_start, limits, duration_s)
        cues.append(Cue(start_s=words[0].start_s, end_s=end, text=text, words=tuple(words)))
    return cues
