"""run_batch with prefetching, on programmed stand-ins for decoding and the recogniser (no ffmpeg, no model):
how far ahead it prepares, and that a broken file after the current one changes nothing for it."""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pytest

from asr_core.options import ModelOptions, OutputOptions, PipelineOptions
from asr_core.pipeline import FileResult, FileStatus, PreparedFile
from asr_core.types import AlignedUnit, Audio, Recognition, SpeechSpan
from worker import batch
from worker.batch import LazyModels, run_batch
from worker.scan import PlannedFile

FILE_S = 2.0


class Events:
    """A batch reporter that keeps every event and the index of the file being worked on."""

    def __init__(self) -> None:
        self.log: list[tuple] = []
        self.current = -1
        self.shared_calls: list[tuple[int, dict[int, float]]] = []  # apart from the log: grouping adds them

    def file_started(self, index: int, planned: PlannedFile) -> None:
        self.current = index
        self.log.append(("started", index))

    def stage(self, index: int, stage: str, fraction: float) -> None:
        self.log.append(("stage", index, stage))

    def recognising_together(self, index: int, durations_s: Mapping[int, float]) -> None:
        self.shared_calls.append((index, dict(durations_s)))

    def file_finished(self, index: int, planned: PlannedFile, result: FileResult) -> None:
        self.log.append(("finished", index, result.status))


class FixedRecogniser:
    """Says "hello." for every clip; ``before_each`` runs first, with the index of the file being recognised."""

    def __init__(self, events: Events, before_each=lambda index: None) -> None:
        self._events = events
        self._before_each = before_each

    def recognise(self, clips: Sequence[np.ndarray], on_stage=None) -> list[Recognition]:
        self._before_each(self._events.current)
        return [Recognition("English", "hello.", (AlignedUnit("hello", 0.1, 0.5),)) for _ in clips]


def planned_files(folder: Path, count: int) -> list[PlannedFile]:
    return [PlannedFile(folder / f"{i}.wav", folder / "out" / f"{i}.wav", f"{i}.wav") for i in range(count)]


class StandInDecoder:
    """Replaces decoding + VAD with two seconds of programmed audio; records, for every file it prepares,
    which file the batch was working on at that moment."""

    def __init__(self) -> None:
        self.calls: list[tuple[int, int]] = []
        self.events = Events()
        self.broken: set[int] = set()
        self.prepared_third = threading.Event()

    def __call__(self, source: Path, *, ffmpeg: str, vad, on_progress) -> PreparedFile:
        index = int(source.stem)
        self.calls.append((index, self.events.current))
        if index in self.broken:
            raise RuntimeError(f"decoder crashed on file {index}")
        on_progress("decoding", 0.0)
        audio = Audio(np.full(int(FILE_S * 16_000), 0.1, dtype=np.float32))
        if index == 2:
            self.prepared_third.set()
        return PreparedFile(source, audio, (SpeechSpan(0.0, FILE_S),), vad_used=False)


@pytest.fixture
def decoder(monkeypatch: pytest.MonkeyPatch) -> StandInDecoder:
    stand_in = StandInDecoder()
    monkeypatch.setattr(batch, "prepare_file", stand_in)
    return stand_in


def run(folder: Path, count: int, prefetch: int, events: Events, recogniser_hook=lambda index: None,
        batch_size: int = 1) -> None:
    """One file per recognition call unless ``batch_size`` lets short files share one."""
    models = LazyModels(lambda: FixedRecogniser(events, recogniser_hook), lambda: None)
    options = PipelineOptions(model=ModelOptions(batch_size=batch_size), output=OutputOptions(formats=("srt",)))
    run_batch(planned_files(folder, count), options, models=models, ffmpeg="ffmpeg", reporter=events,
              prefetch=prefetch, prepare_workers=1)


def test_files_are_prepared_at_most_two_ahead(tmp_path, decoder) -> None:
    def wait_for_third(index: int) -> None:
        if index == 0:  # the first file is recognised while the two after it are decoded
            decoder.prepared_third.wait(10)

    run(tmp_path, 6, 2, decoder.events, wait_for_third)

    assert decoder.prepared_third.is_set()
    assert [index for index, _ in decoder.calls] == list(range(6))
    assert max(index - current for index, current in decoder.calls) == 2
    finished = [e for e in decoder.events.log if e[0] == "finished"]
    assert finished == [("finished", i, FileStatus.DONE) for i in range(6)]


def test_prefetch_keeps_the_sequential_event_order(tmp_path, decoder) -> None:
    sequential, pipelined = Events(), Events()
    run(tmp_path / "a", 4, 0, sequential)
    run(tmp_path / "b", 4, 2, pipelined)
    assert pipelined.log == sequential.log
    assert sequential.log[:4] == [("started", 0), ("stage", 0, "loading"), ("stage", 0, "decoding"),
                                  ("finished", 0, FileStatus.DONE)]


def test_a_crashing_prepare_of_the_next_file_leaves_the_current_one_finished(tmp_path, decoder) -> None:
    decoder.broken.add(1)
    with pytest.raises(RuntimeError, match="decoder crashed on file 1"):
        run(tmp_path, 3, 2, decoder.events)
    assert ("finished", 0, FileStatus.DONE) in decoder.events.log
    assert (tmp_path / "out" / "0.srt").read_text(encoding="utf-8").strip().endswith("hello.")
    assert decoder.events.log[-1] == ("started", 1)  # the error surfaces on file 1's turn, not before


@pytest.mark.parametrize(("cores", "workers"), [(None, 2), (1, 2), (2, 2), (6, 3), (8, 4), (64, 4)])
def test_files_are_prepared_by_one_thread_per_two_cores_two_to_four(monkeypatch, cores, workers) -> None:
    monkeypatch.setattr(batch.os, "cpu_count", lambda: cores)
    assert batch.default_prepare_workers() == workers
