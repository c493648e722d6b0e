"""Stand-ins for the benchmarks only (never used by the product): a recogniser whose cost is proportional to
audio length, and timing wrappers around the real stages."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager

import numpy as np

from asr_core.pipeline import Recogniser, SpeechFinder, SpeechSearch
from asr_core.types import SAMPLE_RATE, AlignedUnit, Recognition, SpeechSpan


class ProportionalCostRecogniser:
    """Sleeps ``seconds_per_audio_second`` per second of audio, then says one short sentence per clip.

    With ``batch_size`` above 1 it works like a GPU model: clips go in steps of up to ``batch_size``, and a
    step costs as much as its longest clip (the batch is decoded in parallel), so a step with one short clip
    costs the same as a full one. Sleeping releases the GIL like a GPU model waiting on its kernels, so the
    overlap it allows is the one a real accelerator allows; the CPU tiny models compete with decoding for the
    cores instead.
    """

    def __init__(self, seconds_per_audio_second: float, batch_size: int = 1) -> None:
        self.seconds_per_audio_second = seconds_per_audio_second
        self.batch_size = batch_size

    def recognise(
        self, clips: Sequence[np.ndarray], on_stage: Callable[[str], None] | None = None
    ) -> list[Recognition]:
        if on_stage:
            on_stage("recognising")
        steps = [clips[first : first + self.batch_size] for first in range(0, len(clips), self.batch_size)]
        time.sleep(self.seconds_per_audio_second * sum(max(len(c) for c in step) for step in steps) / SAMPLE_RATE)
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
    """Adds up the wall time spent inside the VAD: its scans' feeding and finishing, not the decoding
    they run alongside."""

    def __init__(self, inner: SpeechFinder) -> None:
        self.inner = inner
        self.seconds = 0.0

    def scan(self) -> SpeechSearch:
        return _TimedSearch(self.inner.scan(), self)

    @contextmanager
    def timing(self) -> Iterator[None]:
        start = time.perf_counter()
        try:
            yield
        finally:
            self.seconds += time.perf_counter() - start


class _TimedSearch:
    def __init__(self, inner: SpeechSearch, finder: TimedSpeechFinder) -> None:
        self.inner = inner
        self.finder = finder

    @property
    def peak(self) -> float:
        return self.inner.peak

    def feed(self, block: np.ndarray) -> None:
        with self.finder.timing():
            self.inner.feed(block)

    def finish(self) -> list[SpeechSpan]:
        with self.finder.timing():
            return self.inner.finish()
