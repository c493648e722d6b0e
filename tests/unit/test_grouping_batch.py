"""Short files recognised together (worker.grouping) through run_batch, with programmed stand-ins for decoding
and the recogniser: which files share a call, that each file still gets its own text, events and outputs in
order, and that a failing shared call fails only the file that caused it."""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from asr_core.errors import RecognitionError
from asr_core.options import ModelOptions, OutputOptions, PipelineOptions
from asr_core.pipeline import FileResult, FileStatus, PreparedFile
from asr_core.types import SAMPLE_RATE, AlignedUnit, Audio, Recognition, SpeechSpan
from tests.unit.test_prefetch_batch import Events
from worker import batch
from worker.batch import LazyModels, run_batch
from worker.scan import PlannedFile

SPAN_S = 2.0


class CodedDecoder:
    """Prepares file ``i`` as ``spans[i]`` spans of 2 s whose samples all equal ``i / 1000``, so the
    recogniser can tell which file each clip came from. Files in ``silent`` have no speech, files in
    ``broken`` fail to decode."""

    def __init__(self, spans: Sequence[int], events: Events) -> None:
        self.spans = list(spans)
        self.events = events
        self.calls: list[tuple[int, int]] = []  # (file prepared, file being worked on then)
        self.silent: set[int] = set()
        self.broken: set[int] = set()
        self.ready: defaultdict[int, threading.Event] = defaultdict(threading.Event)  # set once prepared

    def __call__(self, source: Path, *, ffmpeg: str, vad, on_progress) -> PreparedFile | FileResult:
        index = int(source.stem)
        self.calls.append((index, self.events.current))
        on_progress("decoding", 0.0)
        if index in self.broken:
            return FileResult(source, FileStatus.FAILED, reason="ffmpeg could not decode the file")
        count = 0 if index in self.silent else self.spans[index]
        audio = Audio(np.full(int(max(count, 1) * SPAN_S * SAMPLE_RATE), index / 1000, dtype=np.float32))
        spans = tuple(SpeechSpan(k * SPAN_S, (k + 1) * SPAN_S) for k in range(count))
        self.ready[index].set()
        return PreparedFile(source, audio, spans, vad_used=True, reason="" if spans else "no speech found")


class CodedRecogniser:
    """Says "file <i> part <k>." for the k-th clip of file i; fails a whole call that holds a clip of a
    file in ``poison``. Keeps the files of every call it gets."""

    def __init__(self) -> None:
        self.calls: list[list[int]] = []
        self.poison: set[int] = set()
        self.before_each = lambda files: None

    def recognise(self, clips: Sequence[np.ndarray], on_stage=None) -> list[Recognition]:
        files = [round(float(clip[0]) * 1000) for clip in clips]
        self.calls.append(files)
        self.before_each(files)
        if on_stage:
            on_stage("recognising")
        if self.poison.intersection(files):
            raise RecognitionError("recognition failed: RuntimeError: CUDA out of memory")
        results, seen = [], {}
        for file in files:
            part = seen[file] = seen.get(file, -1) + 1
            results.append(Recognition("English", f"file {file} part {part}.",
                                       (AlignedUnit("file", 0.1, 0.4), AlignedUnit(str(file), 0.5, 0.8),
                                        AlignedUnit("part", 0.9, 1.2), AlignedUnit(str(part), 1.3, 1.6))))
        return results


class Scenario:
    def __init__(self, folder: Path, spans: Sequence[int], monkeypatch: pytest.MonkeyPatch) -> None:
        self.folder = folder
        self.events = Events()
        self.decoder = CodedDecoder(spans, self.events)
        self.recogniser = CodedRecogniser()
        self.files = [PlannedFile(folder / f"{i}.wav", folder / "out" / f"{i}.wav", f"{i}.wav")
                      for i in range(len(spans))]
        monkeypatch.setattr(batch, "prepare_file", self.decoder)

    def run(self, batch_size: int, prefetch: int = 2) -> None:
        options = PipelineOptions(model=ModelOptions(batch_size=batch_size), output=OutputOptions(formats=("srt",)))
        run_batch(self.files, options, models=LazyModels(lambda: self.recogniser, lambda: None), ffmpeg="ffmpeg",
                  reporter=self.events, prefetch=prefetch, prepare_workers=1)

    def srt(self, index: int) -> str:
        return (self.folder / "out" / f"{index}.srt").read_text(encoding="utf-8")

    def finished(self) -> list[tuple]:
        return [e for e in self.events.log if e[0] == "finished"]


def test_single_span_files_share_calls_up_to_the_batch_size(tmp_path, monkeypatch) -> None:
    scenario = Scenario(tmp_path, [1] * 10, monkeypatch)
    scenario.run(batch_size=4)

    assert scenario.recogniser.calls == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
    assert scenario.events.shared_calls == [(0, dict.fromkeys(range(4), SPAN_S)),
                                            (4, dict.fromkeys(range(4, 8), SPAN_S)), (8, {8: SPAN_S, 9: SPAN_S})]
    for index in range(10):
        assert f"file {index} part 0." in scenario.srt(index)
        assert all(f"file {other} " not in scenario.srt(index) for other in range(10) if other != index)
    assert scenario.finished() == [("finished", i, FileStatus.DONE) for i in range(10)]


def test_grouping_changes_no_event_and_no_output(tmp_path, monkeypatch) -> None:
    spans = [1, 3, 1, 2, 1, 1, 6, 1]
    alone = Scenario(tmp_path / "alone", spans, monkeypatch)
    alone.run(batch_size=1)
    grouped = Scenario(tmp_path / "grouped", spans, monkeypatch)
    grouped.run(batch_size=4)

    assert len(grouped.recogniser.calls) < len(alone.recogniser.calls) == len(spans)
    assert grouped.events.log == alone.events.log
    assert alone.events.shared_calls == [] and grouped.events.shared_calls
    for index in range(len(spans)):
        assert grouped.srt(index) == alone.srt(index)
        assert f"file {index} part {spans[index] - 1}." in grouped.srt(index)


def test_a_file_with_many_spans_is_topped_up_to_whole_batch_steps(tmp_path, monkeypatch) -> None:
    scenario = Scenario(tmp_path, [5, 1, 1, 1, 1, 2], monkeypatch)
    scenario.run(batch_size=4)
    # 5 windows start two batch steps (8 windows): three single-span files join, the 4th would need a ninth.
    assert scenario.recogniser.calls == [[0] * 5 + [1, 2, 3], [4, 5, 5]]


def test_a_file_too_long_to_join_waits_for_its_turn_and_is_decoded_once(tmp_path, monkeypatch) -> None:
    scenario = Scenario(tmp_path, [1, 1, 7, 1], monkeypatch)
    scenario.run(batch_size=4)
    assert scenario.recogniser.calls == [[0, 1], [2] * 7 + [3]]
    assert sorted(index for index, _ in scenario.decoder.calls) == [0, 1, 2, 3]


def test_failing_shared_call_is_retried_file_by_file(tmp_path, monkeypatch) -> None:
    scenario = Scenario(tmp_path, [1, 1, 1, 1], monkeypatch)
    scenario.recogniser.poison.add(2)
    scenario.run(batch_size=4)

    assert scenario.recogniser.calls == [[0, 1, 2, 3], [0], [1], [2], [3]]
    finished = scenario.finished()
    assert [e[2] for e in finished] == [FileStatus.DONE, FileStatus.DONE, FileStatus.FAILED, FileStatus.DONE]
    assert not (tmp_path / "out" / "2.srt").exists()
    assert "file 3 part 0." in scenario.srt(3)


def test_failing_call_reports_its_reason_for_that_file(tmp_path, monkeypatch) -> None:
    class Reasons(Events):
        def file_finished(self, index: int, planned: PlannedFile, result: FileResult) -> None:
            self.log.append(("finished", index, result.status, result.reason))

    scenario = Scenario(tmp_path, [1, 1], monkeypatch)
    scenario.events = scenario.decoder.events = Reasons()
    scenario.recogniser.poison.add(1)
    scenario.run(batch_size=4)
    assert scenario.events.log[-1] == ("finished", 1, FileStatus.FAILED,
                                       "recognition failed: RuntimeError: CUDA out of memory")


def test_silent_broken_and_existing_files_are_passed_over(tmp_path, monkeypatch) -> None:
    scenario = Scenario(tmp_path, [1, 1, 1, 1, 1, 1], monkeypatch)
    scenario.decoder.silent.add(1)
    scenario.decoder.broken.add(2)
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "3.srt").write_text("kept\n", encoding="utf-8")  # exists: skipped, never decoded
    scenario.run(batch_size=4)

    assert scenario.recogniser.calls == [[0, 4, 5]]
    assert 3 not in [index for index, _ in scenario.decoder.calls]
    assert [e[2] for e in scenario.finished()] == [FileStatus.DONE, FileStatus.EMPTY, FileStatus.FAILED,
                                                  FileStatus.SKIPPED, FileStatus.DONE, FileStatus.DONE]
    assert (tmp_path / "out" / "3.srt").read_text(encoding="utf-8") == "kept\n"


def test_files_writing_the_same_subtitles_never_share_a_call(tmp_path, monkeypatch) -> None:
    scenario = Scenario(tmp_path, [1, 1, 1], monkeypatch)
    first = scenario.files[0]
    # file 1 writes where file 0 does (same stem, other extension): it is skipped once file 0 is written
    scenario.files[1] = PlannedFile(tmp_path / "1.wav", first.output_base, "1.wav")
    scenario.run(batch_size=4)

    assert scenario.recogniser.calls == [[0], [2]]
    assert [e[2] for e in scenario.finished()] == [FileStatus.DONE, FileStatus.SKIPPED, FileStatus.DONE]


def test_a_file_recognised_in_a_group_reports_the_recognition_stages_on_its_turn(tmp_path, monkeypatch) -> None:
    scenario = Scenario(tmp_path, [1, 1], monkeypatch)
    scenario.run(batch_size=4)
    assert scenario.events.log[scenario.events.log.index(("started", 1)):] == [
        ("started", 1), ("stage", 1, "decoding"), ("stage", 1, "recognising"), ("finished", 1, FileStatus.DONE)]


@pytest.mark.parametrize("prefetch", [0, 2])
def test_files_are_prepared_at_most_two_groups_ahead(tmp_path, monkeypatch, prefetch) -> None:
    scenario = Scenario(tmp_path, [1] * 20, monkeypatch)
    scenario.run(batch_size=4, prefetch=prefetch)
    assert sorted(index for index, _ in scenario.decoder.calls) == list(range(20))
    assert max(index - current for index, current in scenario.decoder.calls) <= 2 * 4


def test_a_crash_preparing_a_group_member_surfaces_on_that_files_turn(tmp_path, monkeypatch) -> None:
    scenario = Scenario(tmp_path, [1, 1, 1], monkeypatch)

    def crash(source: Path, **kwargs):
        if source.stem == "1":
            raise RuntimeError("decoder crashed on file 1")  # a bug, not a bad file: it stops the batch
        return scenario.decoder(source, **kwargs)

    monkeypatch.setattr(batch, "prepare_file", crash)
    with pytest.raises(RuntimeError, match="decoder crashed on file 1"):
        scenario.run(batch_size=4)
    assert ("finished", 0, FileStatus.DONE) in scenario.events.log
    assert "file 0 part 0." in scenario.srt(0)
    assert scenario.events.log[-1] == ("started", 1)


def test_the_next_group_is_decoded_while_one_is_recognised(tmp_path, monkeypatch) -> None:
    scenario = Scenario(tmp_path, [1] * 8, monkeypatch)
    next_group_ready: list[bool] = []

    def wait_for_next_group(files: list[int]) -> None:
        if files[0] == 0:
            next_group_ready.append(scenario.decoder.ready[7].wait(10))

    scenario.recogniser.before_each = wait_for_next_group
    scenario.run(batch_size=4)
    assert next_group_ready == [True]
    assert scenario.recogniser.calls == [[0, 1, 2, 3], [4, 5, 6, 7]]
