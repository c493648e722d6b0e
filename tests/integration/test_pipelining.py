"""The pipelined batch (files decoded ahead of the recogniser, short files recognised together) against the
sequential one (one file at a time, one file per recognition call), with the tiny real-architecture models, real
ffmpeg and Silero: same subtitles, same results, same events in the same order."""

from __future__ import annotations

import shutil
from collections.abc import Mapping
from pathlib import Path

import pytest

from asr_core.engine import Engine
from asr_core.media import find_ffmpeg
from asr_core.options import ModelOptions, OutputOptions, PipelineOptions, VadOptions
from asr_core.pipeline import FileResult
from asr_core.vad import load_vad
from tests.media_fixtures import CORRUPT_MP3, SILENCE_WAV, SPEECH_MP3, SPEECH_ZH_MP3, VIDEO_NO_AUDIO_MKV
from worker.batch import LazyModels, run_batch
from worker.scan import PlannedFile, plan_batch

# A mix where decoding ends early for some files, so early results and recognised ones interleave.
CORPUS = {
    "a speech.mp3": SPEECH_MP3,
    "b corrupt.mp3": CORRUPT_MP3,
    "c speech_zh.mp3": SPEECH_ZH_MP3,
    "d silence.wav": SILENCE_WAV,
    "e no audio.mkv": VIDEO_NO_AUDIO_MKV,
    "f speech.mp3": SPEECH_MP3,
}


class RecordingReporter:
    """Keeps every event with paths made relative to the batch's folder, so two batches compare equal."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.events: list[tuple] = []
        self.calls: list[int] = []  # clips per recognition call
        self.vad_models = 0  # VAD models loaded
        self.shared_calls: list[tuple[int, tuple[int, ...]]] = []  # (file, every member), kept apart from events

    def file_started(self, index: int, planned: PlannedFile) -> None:
        self.events.append(("started", index, planned.display_name))

    def stage(self, index: int, stage: str, fraction: float) -> None:
        self.events.append(("stage", index, stage, fraction))

    def recognising_together(self, index: int, durations_s: Mapping[int, float]) -> None:
        self.shared_calls.append((index, tuple(durations_s)))

    def file_finished(self, index: int, planned: PlannedFile, result: FileResult) -> None:
        outputs = tuple(p.relative_to(self.root).as_posix() for p in result.outputs)
        self.events.append(("finished", index, result.status, result.reason, outputs, result.duration_s,
                            result.language, result.cue_count, result.quality))


@pytest.fixture(scope="module")
def loaded(tiny_models) -> Engine:
    options = ModelOptions(asr_checkpoint=str(tiny_models.asr_dir), aligner_checkpoint=str(tiny_models.aligner_dir),
                           device="cpu")
    return Engine.load(options)


class CountingEngine:
    """The real engine, counting the clips of each recognition call."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.calls: list[int] = []

    def recognise(self, clips, on_stage=None):
        self.calls.append(len(clips))
        return self.engine.recognise(clips, on_stage)


def run(root: Path, engine: Engine, prefetch: int, *, vad: bool, batch_size: int = 8, workers: int = 1
        ) -> RecordingReporter:
    inputs = root / "in"
    inputs.mkdir(parents=True)
    for name, source in CORPUS.items():
        shutil.copy(source, inputs / name)
    files = plan_batch([inputs], root / "out")
    counting = CountingEngine(engine)
    vads_loaded: list[object] = []

    def load_detector():
        if vad:
            vads_loaded.append(load_vad(VadOptions(enabled=True)))
            return vads_loaded[-1]
        return None

    reporter = RecordingReporter(root)
    options = PipelineOptions(model=ModelOptions(batch_size=batch_size), output=OutputOptions(formats=("srt", "lrc")))
    run_batch(files, options, models=LazyModels(lambda: counting, load_detector), ffmpeg=find_ffmpeg(),
              reporter=reporter, prefetch=prefetch, prepare_workers=workers)
    reporter.calls = counting.calls
    reporter.vad_models = len(vads_loaded)
    return reporter


def outputs(root: Path) -> dict[str, str]:
    return {p.relative_to(root).as_posix(): p.read_text(encoding="utf-8")
            for p in sorted((root / "out").rglob("*")) if p.is_file()}


@pytest.mark.parametrize("vad", [True, False], ids=["vad", "no-vad"])
def test_pipelined_batch_equals_the_sequential_one(tmp_path, loaded, vad) -> None:
    sequential = run(tmp_path / "sequential", loaded, 0, vad=vad, batch_size=1)
    pipelined = run(tmp_path / "pipelined", loaded, 2, vad=vad)
    parallel = run(tmp_path / "parallel", loaded, 2, vad=vad, workers=3)  # three files prepared at once

    assert len(pipelined.calls) == 1 < len(sequential.calls) == 3  # the three speech files share one call
    assert sum(pipelined.calls) == sum(sequential.calls)
    assert pipelined.events == sequential.events == parallel.events
    assert sequential.shared_calls == [] and pipelined.shared_calls == [(0, (0, 2, 5))]  # the files with speech
    assert outputs(tmp_path / "pipelined") == outputs(tmp_path / "sequential") == outputs(tmp_path / "parallel")
    if vad:  # one model per preparing thread: a model keeps state while it scans a file
        assert sequential.vad_models == pipelined.vad_models == 1
        assert 1 < parallel.vad_models <= 3  # each thread that prepared a file had its own
    finished = [e for e in sequential.events if e[0] == "finished"]
    assert [e[2].value for e in finished] == ["done", "failed", "done", "empty", "empty", "done"]
    assert ("stage", 0, "vad", 0.0) in sequential.events
    assert ("stage", 0, "aligning", 0.0) in sequential.events


def test_same_stem_file_decoded_ahead_is_still_skipped(tmp_path, loaded) -> None:
    inputs = tmp_path / "in"
    inputs.mkdir()
    shutil.copy(SPEECH_MP3, inputs / "talk.mp3")
    shutil.copy(SPEECH_ZH_MP3, inputs / "talk.wav")  # same stem: its subtitles would overwrite the first's
    reporter = RecordingReporter(tmp_path)
    run_batch(plan_batch([inputs], tmp_path / "out"), PipelineOptions(output=OutputOptions(formats=("srt",))),
              models=LazyModels(lambda: loaded, lambda: None), ffmpeg=find_ffmpeg(), reporter=reporter, prefetch=2)
    finished = [e for e in reporter.events if e[0] == "finished"]
    assert [e[2].value for e in finished] == ["done", "skipped"]
    assert "already written by talk.mp3" in finished[1][3]
