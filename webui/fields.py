"""Every setting the WebUI remembers: its key in webui_config.json, its default and the values it accepts.

One list drives three things, so they cannot drift apart: the defaults of a fresh install, the
validation of a saved file (an older or hand-edited file may hold anything), and the autosave wiring.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from asr_core.languages import SUPPORTED_LANGUAGES
from asr_core.options import ATTN_IMPLEMENTATIONS, BACKENDS, CUE_PRESETS, DTYPES, VAD_SOURCES, CueOptions
from worker.cli import DEFAULT_FORMATS
from worker.settings import Settings

INPUT_MODES = ("folder", "upload")
AUTO_LANGUAGE = "auto"
LANGUAGE_CHOICES = (AUTO_LANGUAGE, *SUPPORTED_LANGUAGES)
AUTO_PRESET = "auto"
PRESET_CHOICES = (AUTO_PRESET, *CUE_PRESETS)
# The CueOptions limits the WebUI offers (the command line's layout options), with their number type.
CUE_LIMITS: dict[str, type] = {
    "max_line_width": int,
    "max_lines": int,
    "max_chars_per_s": float,
    "min_duration_s": float,
    "max_duration_s": float,
    "max_linger_s": float,
}


def cue_key(option: str) -> str:
    """The remembered setting of a CueOptions limit: ``max_lines`` -> ``cue_max_lines``."""
    return f"cue_{option}"


@dataclass(frozen=True)
class Field:
    """One remembered setting. The default's type is the type every saved value must have, except for an
    ``optional_number``: an int or float that may also be blank (None, its default)."""

    key: str
    default: Any
    choices: tuple[Any, ...] | None = None
    optional_number: type | None = None
    check: Callable[[Any], object] | None = None  # raises ValueError for a value of the right type out of range

    def coerce(self, value: Any) -> Any:
        """The value in the field's type, or ValueError when it cannot be one of this field's values."""
        typed = self._typed(value)
        if self.check is not None and typed is not None:
            try:
                self.check(typed)
            except ValueError as exc:
                raise ValueError(f"{self.key}: {exc}") from exc
        return typed

    def _typed(self, value: Any) -> Any:
        if self.optional_number is not None:
            return None if value is None else self._number(value, self.optional_number)
        default = self.default
        if isinstance(default, bool):
            if not isinstance(value, bool):
                raise ValueError(f"{self.key} must be true or false")
            return value
        if isinstance(default, tuple):
            if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) for v in value):
                raise ValueError(f"{self.key} must be a list of names")
            self._check_choices(value)
            if self.choices is None:
                return tuple(dict.fromkeys(value))
            return tuple(c for c in self.choices if c in value)  # one order, so equal selections compare equal
        if isinstance(default, (int, float)):
            return self._number(value, type(default))
        if not isinstance(value, str):
            raise ValueError(f"{self.key} must be text")
        self._check_choices((value,))
        return value

    def _number(self, value: Any, kind: type) -> int | float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValueError(f"{self.key} must be a number")
        if kind is int:
            if not float(value).is_integer():
                raise ValueError(f"{self.key} must be a whole number")
            return int(value)
        return float(value)

    def _check_choices(self, items: Iterable[Any]) -> None:
        if self.choices is None:
            return
        unknown = [item for item in items if item not in self.choices]
        if unknown:
            raise ValueError(f"{self.key}: {', '.join(map(str, unknown))} is not one of {', '.join(self.choices)}")


def _cue_limit(option: str, kind: type) -> Field:
    """Blank takes the preset's value; the range is CueOptions' own, so a saved value and a job agree."""
    return Field(cue_key(option), None, optional_number=kind, check=lambda value: CueOptions(**{option: value}))


def webui_fields(settings: Settings, formats: Sequence[str]) -> tuple[Field, ...]:
    """The remembered settings; defaults that depend on the environment come from ``settings``."""
    return (
        # input
        Field("input_mode", "folder", INPUT_MODES),
        Field("input_dir", ""),
        Field("extensions", ""),
        Field("include_subfolders", True),
        # output
        Field("output_dir", str(settings.output_dir)),
        Field("save_next_to_source", False),
        Field("formats", tuple(f for f in formats if f in DEFAULT_FORMATS) or tuple(formats[:1]), tuple(formats)),
        Field("overwrite", False),
        Field("touch_album_root", False),
        # subtitle layout: the automatic preset and blank limits come from the language, as on the command line
        Field("cue_preset", AUTO_PRESET, PRESET_CHOICES),
        *(_cue_limit(option, kind) for option, kind in CUE_LIMITS.items()),
        Field("lrc_header_tags", False),
        # model
        Field("asr_checkpoint", settings.asr_checkpoint),
        Field("aligner_checkpoint", settings.aligner_checkpoint),
        Field("backend", "transformers", BACKENDS),
        Field("device", "auto"),
        Field("dtype", "auto", DTYPES),
        Field("attn_implementation", "auto", ATTN_IMPLEMENTATIONS),
        Field("batch_size", 8),
        Field("max_new_tokens", 1024),
        Field("gpu_memory_utilization", 0.8),
        Field("language", AUTO_LANGUAGE, LANGUAGE_CHOICES),
        Field("context", ""),
        # VAD
        Field("vad_enabled", False),
        Field("vad_source", "package", VAD_SOURCES),
        Field("vad_repo_dir", settings.vad_repo_dir or ""),
        Field("vad_threshold", 0.5),
        Field("vad_min_speech_ms", 250),
        Field("vad_min_silence_ms", 500),
        Field("vad_speech_pad_ms", 200),
        Field("vad_max_span_s", 30.0),
        # job
        Field("clear_on_cancel", False),
        Field("clear_on_start", False),
    )


def defaults(fields: Iterable[Field]) -> dict[str, Any]:
    return {f.key: f.default for f in fields}


def by_key(fields: Iterable[Field]) -> Mapping[str, Field]:
    return {f.key: f for f in fields}
