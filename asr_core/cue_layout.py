"""Lay the words of one cue out on at most ``max_lines`` lines of at most ``max_line_width`` columns.

A cue stays on one line whenever it fits. Otherwise it uses as few lines as possible, breaking where
the break penalty is lowest while keeping lines of similar width, slightly preferring a bottom line
that is longer than the top one (the "pyramid" shape readers scan fastest).
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


def lines_needed(words: Sequence[Word], max_width: int) -> int:
    """Fewest lines that hold ``words`` in order (greedy filling is optimal for this)."""
    lines, width = 1, display_width(words[0].text.strip())
    for word in words[1:]:
        if width + display_width(word.text) <= max_width:
            width += display_width(word.text)
        else:
            lines, width = lines + 1, display_width(word.text.strip())
    return lines


def layout(words: Sequence[Word], penalties: Sequence[float], max_width: int, max_lines: int) -> str:
    """The cue text with ``"\\n"`` between lines; ``penalties[k]`` is the cost of breaking before word k."""
    if display_width(line_text(words)) <= max_width or len(words) == 1:
        return line_text(words)
    line_count = min(lines_needed(words, max_width), max_lines, len(words))
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
    if cost == float("inf"):
        return line_text(words)
    bounds = (0, *cuts, len(words))
    return "\n".join(line_text(words[a:b]) for a, b in pairwise(bounds))
