"""Stand-ins for the benchmarks only (never used by the product): a recogniser whose cost is proportional to
audio length, and timing wrappers around the real stages."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

import numpy as np

from asr_core.pipeline import Recogniser, SpeechFinder
from asr_core.types import SAMPLE_RATE, AlignedUnit, Audio, Recognition, SpeechSpan


class ProportionalCostRecogniser:
    """Sleeps ``seconds_per_audio_second`` per second of audio, then says one short sentence per clip.

    Sleeping releases the GIL like a GPU model waiting on its kernels, so the overlap it allows is the one
    a real accelerator allows; the CPU tiny models compete with decoding for the cores instead.
    """

    def __init__(self, seconds_per_audio_second: float) -> None:
        self.seconds_per_audio_second = seconds_per_audio_second

    def recognise(
        self, clips: Sequence[np.ndarray], on_stage: Callable[[str], None] | None = None
    ) -> list[Recognition]:
        if on_stage:
            on_stage("recognising")
        time.sleep(self.seconds_per_audio_second * sum(len(clip) for clip in clips) / SAMPLE_RATE)
        return [Recognition("English", "hello world.", (AlignedUnit("hello", 0.1, 0.5), AlignedUnit("world", 0.6, 1.0)))
                for _ in clips]


class TimedRecogniser:
    """Adds up the wall time spent inside another recogniser."""

    def __init__(self, inner: Recogniser) -> None:
        self.inner = inner
        self.seconds = 0.0

    def recognise(
        self, clips: Sequence[np.ndarray], on_stage: Callable[[str], None] | None = None
    ) -> list[Recognition]:
        start = time.perf_counter()
        try:
            return self.inner.recognise(clips, on_stage)
        finally:
            self.seconds += time.perf_counter() - start


class TimedSpeechFinder:
    """Adds up the wall time spent inside the VAD."""

    def __init__(self, inner: SpeechFinder) -> None:
        self.inner = inner
        self.seconds = 0.0

    def detect(self, audio: Audio) -> list[SpeechSpan]:
        start = time.perf_counter()
        try:
            return self.inner.detect(audio)
        finally:
            self.seconds += time.perf_counter() - start
