"""When each cue appears and disappears.

A cue appears with its first word. It stays after its last word only as long as reading needs
(reading speed, minimum duration), at most ``max_linger_s`` beyond the last word, so text never hangs
over silence or music. Exceptions: a cue is always shown for ``min_duration_s`` when the next cue
leaves room, and a gap shorter than ``chain_gap_s`` to the next cue is closed down to ``min_gap_s``
(a flicker of blank screen is worse than a slightly longer cue). A cue never runs into the next one,
never lasts longer than ``max_duration_s`` unless one long word needs it, and never ends after the
audio does.

A cue that the next cue or the audio's end leaves less than ``min_duration_s`` borrows time before
its first word, back to the previous cue's end plus ``min_gap_s`` (never before 0), up to the minimum
duration. Cues left less than two frames each (an aligner that stacks words at one instant, often the
audio's end) share the time before them; cues that find no two frames at all join the cue before
them, or at the very start the cue after them. So every cue can be seen, and no text is lost.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from itertools import groupby

from asr_core.presets import TWO_FRAMES_S, CueLimits
from asr_core.types import Cue, Word


@dataclass(frozen=True)
class _Span:
    """Cue ``words[first:stop]`` shown from ``start_s`` to ``end_s`` (before placement: the latest end)."""

    first: int
    stop: int
    start_s: float
    end_s: float

    def through(self, later: _Span) -> _Span:
        """This cue and every cue up to ``later`` as one, starting with this one and ending with ``later``."""
        return _Span(self.first, later.stop, self.start_s, later.end_s)


def _latest_end(
    text: str, words: Sequence[Word], next_start: float | None, limits: CueLimits, duration_s: float
) -> float:
    """When the cue should end; before its own start when the next cue starts that soon after it."""
    start = words[0].start_s
    last_end = max(w.end_s for w in words)
    needed = max(limits.min_duration_s, limits.reading_chars(text) / limits.max_chars_per_s)
    end = max(last_end, min(start + needed, last_end + limits.max_linger_s))
    end = max(end, start + limits.min_duration_s)
    if next_start is None:
        limit = duration_s
    else:
        limit = next_start - limits.min_gap_s
        if next_start - end < limits.chain_gap_s:
            end = limit
    end = min(end, max(start + limits.max_duration_s, last_end))
    return min(end, limit)


def _runs(drafts: Sequence[_Span], flicker_s: float) -> Iterator[list[_Span]]:
    """Each cue alone, except consecutive cues too crowded to be seen, which come as one run."""
    for crowded, group in groupby(drafts, key=lambda draft: draft.end_s - draft.start_s < flicker_s):
        if crowded:
            yield list(group)
        else:
            yield from ([draft] for draft in group)


def _slots(room_s: float, count: int, flicker_s: float, limits: CueLimits) -> int:
    """How many of ``count`` cues can be seen in ``room_s`` seconds, with the minimum gap between them."""
    if room_s < flicker_s:
        return 0
    return min(count, 1 + int((room_s - flicker_s) // (flicker_s + limits.min_gap_s)))


def _shared(run: Sequence[_Span], slots: int, floor_s: float, limits: CueLimits) -> list[_Span]:
    """``run`` joined into ``slots`` cues placed back to back, ending where the run's last cue must end.

    Each cue gets the minimum duration when the room since ``floor_s`` allows, else an equal share of it.
    """
    count, end_s = len(run), run[-1].end_s
    share_s = min(limits.min_duration_s, (end_s - floor_s - (slots - 1) * limits.min_gap_s) / slots)
    placed: list[_Span] = []
    for slot in range(slots):
        cue = run[slot * count // slots].through(run[(slot + 1) * count // slots - 1])
        end = end_s - (slots - 1 - slot) * (share_s + limits.min_gap_s)
        start = max(floor_s, min(cue.start_s, end - limits.min_duration_s))
        placed.append(_Span(cue.first, cue.stop, start, end))
        floor_s = end + limits.min_gap_s
    return placed


def _absorbed(previous: _Span, run_last: _Span, limits: CueLimits) -> _Span:
    """``previous`` holding the words up to ``run_last`` too, ending later if room and duration allow."""
    end = max(previous.end_s, min(run_last.end_s, previous.start_s + limits.max_duration_s))
    return _Span(previous.first, run_last.stop, previous.start_s, end)


def _placed(drafts: Sequence[_Span], limits: CueLimits) -> list[_Span]:
    """Final spans for ``drafts`` in order: every one visible, ``min_gap_s`` apart, none before 0."""
    flicker_s = min(TWO_FRAMES_S, limits.min_duration_s)
    placed: list[_Span] = []
    waiting: _Span | None = None  # crowded words at the very start, joining the next cue
    for run in _runs(drafts, flicker_s):
        if waiting is not None:
            run, waiting = [waiting.through(run[0]), *run[1:]], None
        floor_s = placed[-1].end_s + limits.min_gap_s if placed else 0.0
        slots = _slots(run[-1].end_s - floor_s, len(run), flicker_s, limits)
        if slots:
            placed.extend(_shared(run, slots, floor_s, limits))
        elif placed:
            placed[-1] = _absorbed(placed[-1], run[-1], limits)
        else:
            waiting = run[0].through(run[-1])
    if waiting is not None:  # audio shorter than two frames: one cue for all of it
        placed.append(_Span(waiting.first, waiting.stop, 0.0, max(waiting.end_s, 0.0)))
    return placed


def timed_cues(
    words: Sequence[Word],
    groups: Sequence[tuple[int, int]],
    text_for: Callable[[int, int], str],
    limits: CueLimits,
    duration_s: float,
) -> list[Cue]:
    """Cues for ``groups`` (``(start, end)`` index pairs into ``words``, in order).

    Word times must already lie in ``[0, duration_s]``. ``text_for(start, end)`` lays out
    ``words[start:end]``; it is also asked for groups joined here.
    """
    texts = {group: text_for(*group) for group in groups}
    drafts = []
    for index, (start, end) in enumerate(groups):
        next_start = words[groups[index + 1][0]].start_s if index + 1 < len(groups) else None
        latest_end = _latest_end(texts[start, end], words[start:end], next_start, limits, duration_s)
        drafts.append(_Span(start, end, words[start].start_s, latest_end))
    cues = []
    for span in _placed(drafts, limits):
        group = (span.first, span.stop)
        text = texts[group] if group in texts else text_for(*group)
        cues.append(Cue(start_s=span.start_s, end_s=span.end_s, text=text, words=tuple(words[span.first : span.stop])))
    return cues
