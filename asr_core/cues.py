"""Group timed words into subtitle cues.

The grouping is chosen globally (dynamic programming over every break position) rather than
greedily, so a cue ends at a sentence end, a clause, a conjunction or a pause whenever the limits
allow, instead of wherever a line happens to fill up. Hard limits: a cue fits in ``max_lines`` lines
of ``max_line_width`` columns, speech inside one cue lasts at most ``max_duration_s``, and a pause of
``split_gap_s`` or more always ends a cue. A single word that breaks a limit on its own gets a cue of
its own. Soft costs: each cue, the break it ends on, the best line break inside a two-line cue
(three-line layouts are left to the layout step), a sentence end inside a cue whose other sentence
is cut at the cue's start or end, a cue that cannot be shown for the minimum duration, and reading
time taken away by the next cue following too closely.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, replace
from itertools import accumulate

from asr_core.breaks import boundary_penalties, ends_sentence
from asr_core.cue_layout import layout
from asr_core.cue_timing import timed_cues
from asr_core.options import CueOptions
from asr_core.presets import CueLimits, resolve_limits
from asr_core.textwidth import display_width
from asr_core.types import Cue, Word

logger = logging.getLogger(__name__)

_CUE_COST = 1.0
_STRADDLE_COST = 1.5
_LINE_BREAK_WEIGHT = 0.5
_SHORT_WEIGHT = 2.0
_READING_WEIGHT = 3.0
_MIN_DISPLAY_S = 0.05


@dataclass(frozen=True)
class _Candidate:
    """A possible cue ``words[start:end]`` as the search sees it."""

    start: int
    end: int
    last_end_s: float  # the latest word end (aligner repairs can leave ends out of order)
    reading_chars: float
    sentence_inside: bool
    line_break: float  # penalty of the best break between two lines (0 on one line)


def words_on_screen(words: Sequence[Word], duration_s: float) -> list[Word]:
    """Words with visible text, times clamped into ``[0, duration_s]`` and made non-decreasing.

    Aligner repairs can leave a word starting before its predecessor or ending before it starts;
    subtitles must not go back in time.
    """
    limit = max(duration_s, 0.0)
    result: list[Word] = []
    floor = 0.0
    for word in words:
        if not word.text.strip():
            continue
        start = min(max(word.start_s, floor), limit)
        end = min(max(word.end_s, start), limit)
        floor = start
        result.append(word if (start, end) == (word.start_s, word.end_s) else replace(word, start_s=start, end_s=end))
    return result


class _Segmenter:
    def __init__(self, words: Sequence[Word], penalties: Sequence[float], limits: CueLimits, duration_s: float) -> None:
        self.words = words
        self.limits = limits
        self.duration_s = duration_s
        self.penalties = penalties
        self.widths = [display_width(w.text) for w in words]
        self.bare_widths = [display_width(w.text.strip()) for w in words]
        self.prefix_widths = [0, *accumulate(self.widths)]
        self.sentence_ends = [ends_sentence(w.text) for w in words]

    def line_width(self, start: int, end: int) -> int:
        """Columns of ``words[start:end]`` on one line."""
        return self.bare_widths[start] + self.prefix_widths[end] - self.prefix_widths[start + 1]

    def two_line_break(self, start: int, end: int) -> float:
        """Penalty of the best place to split ``words[start:end]`` into two lines that both fit."""
        max_width = self.limits.max_line_width
        return min(
            (
                self.penalties[cut]
                for cut in range(start + 1, end)
                if self.line_width(start, cut) <= max_width and self.line_width(cut, end) <= max_width
            ),
            default=0.0,
        )

    def candidates(self, start: int) -> list[_Candidate]:
        """Every cue that may start at ``words[start]`` without breaking a hard limit."""
        limits, words = self.limits, self.words
        max_width = limits.max_line_width
        last_end = words[start].end_s
        found = [_Candidate(start, start + 1, last_end, self.bare_widths[start] / limits.columns_per_char, False, 0.0)]
        if self.bare_widths[start] > max_width:
            return found
        lines, line_width, total_width = 1, self.bare_widths[start], self.bare_widths[start]
        sentence_inside = False
        for k in range(start + 1, len(words)):
            if words[k].start_s - words[k - 1].end_s >= limits.split_gap_s:
                break
            if words[k].end_s - words[start].start_s > limits.max_duration_s:
                break
            if line_width + self.widths[k] <= max_width:
                line_width += self.widths[k]
            else:
                lines, line_width = lines + 1, self.bare_widths[k]
                if lines > limits.max_lines or line_width > max_width:
                    break
            total_width += self.widths[k]
            last_end = max(last_end, words[k].end_s)
            sentence_inside = sentence_inside or self.sentence_ends[k - 1]
            line_break = self.two_line_break(start, k + 1) if lines == 2 else 0.0
            reading_chars = total_width / limits.columns_per_char
            found.append(_Candidate(start, k + 1, last_end, reading_chars, sentence_inside, line_break))
        return found

    def cost(self, cue: _Candidate) -> float:
        limits, words = self.limits, self.words
        first, last_end = words[cue.start], cue.last_end_s
        if cue.end < len(words):
            boundary = self.penalties[cue.end]
            room_end = words[cue.end].start_s - limits.min_gap_s
        else:
            boundary, room_end = 0.0, self.duration_s
        cost = _CUE_COST + boundary + _LINE_BREAK_WEIGHT * cue.line_break
        if cue.sentence_inside:
            starts_mid_sentence = cue.start > 0 and not self.sentence_ends[cue.start - 1]
            ends_mid_sentence = cue.end < len(words) and not self.sentence_ends[cue.end - 1]
            cost += _STRADDLE_COST * (starts_mid_sentence + ends_mid_sentence)
        wanted_until = max(last_end + limits.max_linger_s, first.start_s + limits.min_duration_s)
        shown = max(max(min(wanted_until, room_end), last_end) - first.start_s, _MIN_DISPLAY_S)
        if shown < limits.min_duration_s:
            cost += _SHORT_WEIGHT * (limits.min_duration_s - shown) / limits.min_duration_s
        # Only the reading time this boundary takes away counts; fast speech itself cannot be fixed here.
        speed = cue.reading_chars / shown
        best_speed = max(cue.reading_chars / (wanted_until - first.start_s), limits.max_chars_per_s)
        if speed > best_speed:
            cost += _READING_WEIGHT * (speed - best_speed) / limits.max_chars_per_s
        return cost

    def segment(self) -> list[tuple[int, int]]:
        """The cheapest split of all words into cues, as ``(start, end)`` index pairs."""
        count = len(self.words)
        best = [0.0] + [float("inf")] * count
        previous = [0] * (count + 1)
        for start in range(count):
            for cue in self.candidates(start):
                total = best[start] + self.cost(cue)
                if total < best[cue.end]:
                    best[cue.end], previous[cue.end] = total, start
        bounds: list[tuple[int, int]] = []
        end = count
        while end > 0:
            bounds.append((previous[end], end))
            end = previous[end]
        return bounds[::-1]


def group_words(
    words: Sequence[Word], penalties: Sequence[float], limits: CueLimits, duration_s: float
) -> list[tuple[int, int]]:
    """The cheapest split of on-screen words into cues, as ``(start, end)`` index pairs within the hard limits.

    ``penalties[k]`` is the cost of breaking before word k (``breaks.boundary_penalties``); the layout of
    each cue's lines uses the same ones. Timing may still join groups whose words have no time of their own
    (see ``cue_timing``).
    """
    return _Segmenter(words, penalties, limits, duration_s).segment()


def build_cues(words: Sequence[Word], *, language: str, options: CueOptions, duration_s: float) -> list[Cue]:
    """Cues for a file's words: ordered, ``min_gap_s`` apart, each visible, inside ``[0, duration_s]``.

    Every word with visible text lands in exactly one cue; ``Cue.text`` holds ``"\\n"`` between lines.
    """
    visible = words_on_screen(words, duration_s)
    if not visible:
        return []
    limits = resolve_limits(language, options, "".join(w.text for w in visible))
    penalties = boundary_penalties(visible, limits.preset)

    def text_for(start: int, end: int) -> str:
        return layout(visible[start:end], penalties[start:end], limits.max_line_width, limits.max_lines)

    groups = group_words(visible, penalties, limits, duration_s)
    cues = timed_cues(visible, groups, text_for, limits, duration_s)
    logger.debug("%d words -> %d groups -> %d cues (preset %s)", len(visible), len(groups), len(cues), limits.preset)
    return cues
