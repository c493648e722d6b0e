"""What every subtitle writer renders from, and the shape of a writer."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from asr_core.options import WriterOptions
from asr_core.textwidth import joins_without_space
from asr_core.types import Cue


@dataclass(frozen=True)
class SubtitleDocument:
    """One file's cues plus what some formats put in a header (tags, duration)."""

    cues: tuple[Cue, ...]
    duration_s: float
    language: str = ""
    tags: Mapping[str, str] = field(default_factory=dict)
    options: WriterOptions = field(default_factory=WriterOptions)


@dataclass(frozen=True)
class Writer:
    """One subtitle format: its registry name, the sidecar extension and the renderer."""

    name: str
    extension: str
    render: Callable[[SubtitleDocument], str]


def cue_lines(cue: Cue) -> list[str]:
    """The cue's visible lines; blank lines are dropped because they end a cue in SRT and WebVTT."""
    return [line.strip() for line in cue.text.splitlines() if line.strip()]


def one_line(cue: Cue) -> str:
    """The cue as a single line, for formats without line breaks (LRC, plain text).

    The words' own spacing is used when the cue has words; otherwise lines are joined by a space,
    or by nothing where CJK text meets.
    """
    if cue.words:
        return " ".join("".join(w.text for w in cue.words).split())
    text = ""
    for line in cue_lines(cue):
        text += line if not text or joins_without_space(text[-1], line[0]) else " " + line
    return text


def visible_cues(document: SubtitleDocument) -> list[Cue]:
    """Cues with something to show, in order; an empty cue would be an invalid block in most formats."""
    return [cue for cue in document.cues if cue_lines(cue)]
