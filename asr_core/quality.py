"""A per-file report of how well the subtitles keep the layout and timing limits.

It measures the product, not the speech: fast speakers make reading-speed violations that no
layout can avoid, so the numbers are for comparing builds and spotting bad files, not pass/fail.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import pairwise

from asr_core.hallucination import REPEATED_PHRASE, collapse_repeats, density_flags
from asr_core.options import CueOptions
from asr_core.presets import resolve_limits
from asr_core.punctuate import InterpolatedWord
from asr_core.textwidth import display_width
from asr_core.types import Cue, Word

# Times are written with millisecond precision; smaller differences are rounding, not violations.
_TOLERANCE_S = 0.001


@dataclass(frozen=True)
class QualityReport:
    """Counts of limit violations in one file's cues; serialise with ``dataclasses.asdict``."""

    preset: str
    cue_count: int
    word_count: int
    line_count: int
    lines_over_width: int
    cues_over_max_lines: int
    too_short_cues: int
    too_long_cues: int
    reading_speed_violations: int
    gap_violations: int
    untimed_words: int
    speech_chars_per_s: float
    hallucination_flags: tuple[str, ...]


def assess(
    cues: Sequence[Cue],
    words: Sequence[Word],
    *,
    language: str,
    options: CueOptions,
    duration_s: float,
    speech_s: float | None = None,
    collapsed_words: int = 0,
) -> QualityReport:
    """Check ``cues`` (and the ``words`` they came from) against the limits their language resolves to.

    ``speech_s`` is the time the voice activity detector found speech in; without it the whole
    ``duration_s`` counts, which makes the density check more lenient. ``collapsed_words`` is how many
    words were already removed as a repeated phrase; a repeat still in ``words`` is flagged too.
    """
    limits = resolve_limits(language, options, "".join(w.text for w in words))
    lines = [line for cue in cues for line in cue.text.split("\n")]
    durations = [cue.end_s - cue.start_s for cue in cues]
    speech = duration_s if speech_s is None else speech_s
    flags = density_flags(words, speech_s=speech, limits=limits)
    if collapsed_words or len(collapse_repeats(words)) < len(words):
        flags = (REPEATED_PHRASE, *flags)
    text_chars = limits.reading_chars("".join(w.text for w in words).strip())
    return QualityReport(
        preset=limits.preset,
        cue_count=len(cues),
        word_count=len(words),
        line_count=len(lines),
        lines_over_width=sum(1 for line in lines if display_width(line) > limits.max_line_width),
        cues_over_max_lines=sum(1 for cue in cues if cue.text.count("\n") + 1 > limits.max_lines),
        too_short_cues=sum(1 for d in durations if d < limits.min_duration_s - _TOLERANCE_S),
        too_long_cues=sum(1 for d in durations if d > limits.max_duration_s + _TOLERANCE_S),
        reading_speed_violations=sum(
            1
            for cue, d in zip(cues, durations, strict=True)
            if limits.reading_chars(cue.text) > (limits.max_chars_per_s + 0.01) * max(d, _TOLERANCE_S)
        ),
        gap_violations=sum(1 for a, b in pairwise(cues) if b.start_s - a.end_s < limits.min_gap_s - _TOLERANCE_S),
        untimed_words=sum(1 for w in words if isinstance(w, InterpolatedWord)),
        speech_chars_per_s=round(text_chars / speech, 2) if speech > 0 else 0.0,
        hallucination_flags=flags,
    )


_VIOLATION_LABELS = {
    "lines_over_width": "lines over the width limit",
    "cues_over_max_lines": "cues with too many lines",
    "too_short_cues": "cues too short",
    "too_long_cues": "cues too long",
    "reading_speed_violations": "cues over the reading speed",
    "gap_violations": "gaps under two frames",
    "untimed_words": "words without timing",
}


def summarize(report: Mapping[str, object]) -> str:
    """A short human line for a report (as ``dataclasses.asdict`` gives it); empty when nothing is wrong."""
    parts = [f"{report[key]} {label}" for key, label in _VIOLATION_LABELS.items() if report.get(key)]
    flags = report.get("hallucination_flags") or ()
    if flags:
        parts.append("suspicious text: " + ", ".join(str(flag) for flag in flags))
    return "; ".join(parts)
