"""Per-script subtitle limits (after the Netflix Timed Text Style Guide) and how a language picks one.

Line widths are display columns (see ``textwidth``): Latin 42 characters = 42 columns; Chinese and
Korean 16 full-width characters = 32 columns; Japanese 13 full-width characters = 26 columns.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace

from asr_core.options import CUE_PRESETS, CueOptions
from asr_core.textwidth import display_width, script_counts

TWO_FRAMES_S = 2 / 24


@dataclass(frozen=True)
class CueLimits:
    """The limits one file's cues are built and judged against, every value resolved."""

    preset: str
    max_line_width: int
    max_lines: int = 2
    min_duration_s: float = 5 / 6
    max_duration_s: float = 7.0
    max_chars_per_s: float = 20.0
    min_gap_s: float = TWO_FRAMES_S
    chain_gap_s: float = 0.5
    max_linger_s: float = 0.5
    split_gap_s: float = 1.0
    columns_per_char: int = 1
    max_speech_chars_per_s: float = 40.0

    def __post_init__(self) -> None:
        if self.min_duration_s > self.max_duration_s:
            raise ValueError(
                f"minimum cue duration {self.min_duration_s} s exceeds the maximum {self.max_duration_s} s"
            )

    def reading_chars(self, text: str) -> float:
        """Characters a viewer reads; in CJK presets a half-width character counts half."""
        return display_width(text.replace("\n", "")) / self.columns_per_char


PRESETS: dict[str, CueLimits] = {
    "latin": CueLimits("latin", max_line_width=42, max_chars_per_s=20.0, max_speech_chars_per_s=40.0),
    "chinese": CueLimits(
        "chinese", max_line_width=32, max_chars_per_s=9.0, columns_per_char=2, max_speech_chars_per_s=18.0
    ),
    # Japanese reading speed (4 chars/s) is far below speaking speed, so density is judged separately.
    "japanese": CueLimits(
        "japanese", max_line_width=26, max_chars_per_s=4.0, columns_per_char=2, max_speech_chars_per_s=16.0
    ),
    "korean": CueLimits(
        "korean", max_line_width=32, max_chars_per_s=12.0, columns_per_char=2, max_speech_chars_per_s=24.0
    ),
}

_LANGUAGE_PRESETS = {
    "chinese": "chinese",
    "cantonese": "chinese",
    "zh": "chinese",
    "yue": "chinese",
    "japanese": "japanese",
    "ja": "japanese",
    "korean": "korean",
    "ko": "korean",
}


def _script_scores(text: str) -> dict[str, int]:
    """Display columns of ``text`` that each preset's script accounts for."""
    counts = script_counts(text)
    return {
        "latin": counts["other"],
        "chinese": 2 * counts["han"],
        "japanese": 2 * (counts["han"] + counts["kana"]) if counts["kana"] else 0,
        "korean": 2 * counts["hangul"],
    }


def preset_name_for(language: str, text: str = "") -> str:
    """Preset for a Qwen language name, a merged name like ``"Chinese,English"``, or ``""`` (detect).

    A single language decides alone; for merged or unknown languages the script that covers most of
    ``text`` wins among the candidates.
    """
    names = [part.strip().lower() for part in language.split(",") if part.strip()]
    candidates = list(dict.fromkeys(_LANGUAGE_PRESETS.get(name, "latin") for name in names))
    if len(candidates) == 1:
        return candidates[0]
    candidates = candidates or list(CUE_PRESETS)
    scores = _script_scores(text)
    return max(candidates, key=lambda name: scores[name])


def resolve_limits(language: str, options: CueOptions, text: str = "") -> CueLimits:
    """The preset chosen by ``options.preset`` or the language, with every option override applied."""
    base = PRESETS[options.preset or preset_name_for(language, text)]
    overrides = {
        f.name: getattr(options, f.name)
        for f in fields(CueOptions)
        if f.name != "preset" and getattr(options, f.name) is not None
    }
    return replace(base, **overrides)
