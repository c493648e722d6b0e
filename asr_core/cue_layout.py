"""Lay the words of one cue out on at most ``max_lines`` lines of at most ``max_line_width`` columns.

A cue stays on one line whenever it fits. Otherwise it uses as few lines as possible, breaking where
the break penalty is lowest while keeping lines of similar width, slightly preferring a bottom line
that is longer than the top one (the "pyramid" shape readers scan fastest). Words that need more lines
than allowed, or hold a word too wide for any line (only cues joined because their words had no time
of their own do), are filled line by line instead: the width holds wherever the words allow it.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from itertools import pairwise

from asr_core.textwidth import display_width
from asr_core.types import Word

_BALANCE_WEIGHT = 2.0
_TOP_HEAVY_COST = 0.2


def line_text(words: Sequence[Word]) -> str:
    """One line of words: their own spacing, without the whitespace that preceded the first."""
    return "".join(w.text for w in words).strip()


def _filled_lines(words: Sequence[Word], max_width: int) -> list[Sequence[Word]]:
    """``words`` filled line by line, each line as full as the width allows (the fewest lines possible)."""
    lines: list[Sequence[Word]] = []
    first, width = 0, display_width(words[0].text.strip())
    for index in range(1, len(words)):
        if width + display_width(words[index].text) <= max_width:
            width += display_width(words[index].text)
        else:
            lines.append(words[first:index])
            first, width = index, display_width(words[index].text.strip())
    lines.append(words[first:])
    return lines


def _balanced_cuts(
    words: Sequence[Word], penalties: Sequence[float], max_width: int, line_count: int
) -> tuple[int, ...] | None:
    """Where to break ``words`` into ``line_count`` fitting lines of similar width; None when they cannot fit."""
    target = display_width(line_text(words)) / line_count

    def width(start: int, end: int) -> int:
        return display_width(line_text(words[start:end]))

    @cache
    def best(start: int, lines_left: int) -> tuple[float, tuple[int, ...]]:
        if lines_left == 1:
            last = width(start, len(words))
            return (float("inf") if last > max_width else _BALANCE_WEIGHT * abs(last - target) / max_width), ()
        options: list[tuple[float, tuple[int, ...]]] = []
        for cut in range(start + 1, len(words) - lines_left + 2):
            first = width(start, cut)
            if first > max_width:
                break
            rest_cost, rest_cuts = best(cut, lines_left - 1)
            shape = _TOP_HEAVY_COST if first > width(cut, len(words)) else 0.0
            cost = penalties[cut] + _BALANCE_WEIGHT * abs(first - target) / max_width + shape + rest_cost
            options.append((cost, (cut, *rest_cuts)))
        return min(options, default=(float("inf"), ()))

    cost, cuts = best(0, line_count)
    return None if cost == float("inf") else cuts


def layout(words: Sequence[Word], penalties: Sequence[float], max_width: int, max_lines: int) -> str:
    """The cue text with ``"\\n"`` between lines; ``penalties[k]`` is the cost of breaking before word k."""
    if display_width(line_text(words)) <= max_width or len(words) == 1:
        return line_text(words)
    lines = _filled_lines(words, max_width)
    cuts = _balanced_cuts(words, penalties, max_width, len(lines)) if len(lines) <= max_lines else None
    if cuts is not None:
        lines = [words[a:b] for a, b in pairwise((0, *cuts, len(words)))]
    return "\n".join(line_text(line) for line in lines)
