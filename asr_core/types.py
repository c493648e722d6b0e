"""Values that flow between pipeline stages. Times are float seconds on the file's own timeline."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

SAMPLE_RATE = 16_000


@dataclass(frozen=True)
class MediaInfo:
    """What a quick probe of a media file found, before any decoding."""

    has_audio: bool
    duration_s: float | None = None
    tags: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, eq=False)
class Audio:
    """Decoded 16 kHz mono float32 samples."""

    samples: np.ndarray
    sample_rate: int = SAMPLE_RATE

    @property
    def duration_s(self) -> float:
        return len(self.samples) / self.sample_rate


@dataclass(frozen=True)
class SpeechSpan:
    """A stretch of the file that is transcribed on its own (a VAD span, or the whole file)."""

    start_s: float
    end_s: float

    @property
    def duration_s(self) -> float:
        return self.end_s - self.start_s


@dataclass(frozen=True)
class AlignedUnit:
    """One unit as the forced aligner returns it: letters, digits and ``'`` only, punctuation stripped."""

    text: str
    start_s: float
    end_s: float


@dataclass(frozen=True)
class Recognition:
    """The model's answer for one clip: punctuated text plus the aligner's units (clip-relative times)."""

    language: str
    text: str
    units: tuple[AlignedUnit, ...] = ()


@dataclass(frozen=True)
class Word:
    """A display word with its timing.

    ``text`` keeps the whitespace that preceded it in the transcript and the punctuation attached
    to it, so ``"".join(w.text for w in words)`` restores the punctuated text with its spacing.
    """

    text: str
    start_s: float
    end_s: float


@dataclass(frozen=True)
class Transcript:
    """Everything recognised in one file, words on the file's timeline.

    ``collapsed_words`` counts the words removed as an invented repeated phrase, for the quality report.
    """

    language: str
    text: str
    words: tuple[Word, ...] = ()
    collapsed_words: int = 0


@dataclass(frozen=True)
class Cue:
    """One subtitle event. ``text`` may hold line breaks chosen by the cue builder."""

    start_s: float
    end_s: float
    text: str
    words: tuple[Word, ...] = ()
