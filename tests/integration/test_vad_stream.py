"""Streamed VAD (decoded blocks fed as they arrive) against silero's own scan of the whole array, with the real
model and real ffmpeg: same spans for any block size, the right peak, fresh model state per file, torch's
thread count left alone for the ONNX model and restored for the TorchScript one."""

from __future__ import annotations

import importlib.util
import subprocess
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
import torch
from silero_vad import get_speech_timestamps

from asr_core import media, vad
from asr_core.errors import CorruptMedia
from asr_core.options import VadOptions
from asr_core.pipeline import SILENCE_PEAK, FileResult, PreparedFile, prepare_file
from asr_core.types import SAMPLE_RATE, Audio, SpeechSpan
from tests.media_fixtures import (
    CORRUPT_MP3,
    FFMPEG,
    HAS_ONNXRUNTIME,
    SHORT_WAV,
    SILENCE_WAV,
    SPEECH_MP3,
    SPEECH_ZH_MP3,
)

# Short spans, so every file gives several and a wrong window anywhere shows.
OPTIONS = VadOptions(enabled=True, max_span_s=5.0)
# Not multiples of the 512-sample window, a second and a bit, and one smaller than a window.
BLOCK_SIZES = [1000, 16_000, SAMPLE_RATE + 37, 300]


def lavfi(target: Path, *args: str) -> Path:
    subprocess.run(
        [FFMPEG, "-hide_banner", "-nostdin", "-loglevel", "error", *args, "-ac", "1", str(target)], check=True
    )
    return target


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Files the corpus lacks: pink noise, speech over noise longer than one 30 s decode block, and speech
    turned down below the digital-silence level."""
    folder = tmp_path_factory.mktemp("generated")
    noise = lavfi(
        folder / "noise.wav",
        "-f",
        "lavfi",
        "-i",
        "anoisesrc=color=pink:sample_rate=16000:amplitude=0.2:duration=12:seed=3",
    )
    noisy_speech = lavfi(
        folder / "speech over noise.wav",
        "-stream_loop",
        "3",
        "-i",
        str(SPEECH_MP3),
        "-f",
        "lavfi",
        "-i",
        "anoisesrc=color=pink:sample_rate=16000:amplitude=0.02:seed=5",
        "-filter_complex",
        "[0:a][1:a]amix=inputs=2:duration=first",
        "-ar",
        "16000",
    )
    faint = lavfi(folder / "faint speech.wav", "-i", str(SPEECH_MP3), "-af", "volume=-75dB", "-c:a", "pcm_f32le")
    return {"noise": noise, "speech over noise": noisy_speech, "faint speech": faint}


@pytest.fixture(scope="module")
def detector() -> vad.SpeechDetector:
    return vad.load_vad(OPTIONS)


@pytest.fixture
def torchscript_detector(monkeypatch: pytest.MonkeyPatch) -> vad.SpeechDetector:
    """The detector a machine without onnxruntime loads."""
    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *args: None if name == "onnxruntime" else real_find_spec(name, *args)
    )
    loaded = vad.load_vad(OPTIONS)
    assert "(jit)" in loaded.origin
    return loaded


def decoded(source: Path) -> np.ndarray:
    return media.decode(source, FFMPEG).samples


def whole_array_spans(detector: vad.SpeechDetector, samples: np.ndarray) -> list[SpeechSpan]:
    """What VAD gave before it was streamed: silero's scan of the whole array, then the same grouping."""
    options = detector.options
    found = get_speech_timestamps(
        torch.from_numpy(samples.copy()), detector.model, threshold=options.threshold, sampling_rate=SAMPLE_RATE,
        min_speech_duration_ms=options.min_speech_ms, min_silence_duration_ms=options.min_silence_ms,
        speech_pad_ms=options.speech_pad_ms, max_speech_duration_s=options.max_span_s,
    )  # fmt: skip
    segments = [SpeechSpan(s["start"] / SAMPLE_RATE, s["end"] / SAMPLE_RATE) for s in found]
    return vad.group_segments(segments, options.max_span_s, len(samples) / SAMPLE_RATE)


def streamed(detector: vad.SpeechDetector, samples: np.ndarray, block: int) -> tuple[list[SpeechSpan], float]:
    """Spans and peak from feeding read-only blocks of ``block`` samples, as the decoder hands them over."""
    samples = samples.copy()
    samples.flags.writeable = False
    scan = detector.scan()
    for start in range(0, len(samples), block):
        scan.feed(samples[start : start + block])
    return scan.finish(), scan.peak


CORPUS = {"speech": SPEECH_MP3, "zh speech": SPEECH_ZH_MP3, "silence": SILENCE_WAV, "tone": SHORT_WAV}
SPEECH_FILES = {"speech", "zh speech", "speech over noise"}


@pytest.mark.parametrize("block", BLOCK_SIZES)
@pytest.mark.parametrize("name", [*CORPUS, "noise", "speech over noise"])
def test_streamed_spans_and_peak_equal_a_scan_of_the_whole_array(detector, generated, name: str, block: int):
    samples = decoded(CORPUS.get(name) or generated[name])
    expected = whole_array_spans(detector, samples)
    assert bool(expected) == (name in SPEECH_FILES)  # speech is found, so the comparison means something
    spans, peak = streamed(detector, samples, block)
    assert spans == expected
    assert peak == float(np.abs(samples).max())


def test_detect_equals_a_scan_of_the_whole_array(detector):
    samples = decoded(SPEECH_MP3)
    assert detector.detect(Audio(samples)) == whole_array_spans(detector, samples)


def test_the_torchscript_model_streams_the_same_spans(torchscript_detector, generated):
    samples = decoded(generated["speech over noise"])
    assert streamed(torchscript_detector, samples, 1000)[0] == whole_array_spans(torchscript_detector, samples)


def test_an_empty_file_has_no_spans_and_no_peak(detector):
    scan = detector.scan()
    scan.feed(np.zeros(0, dtype=np.float32))
    assert scan.finish() == []
    assert scan.peak == 0.0


def test_a_100_sample_file_is_scored_as_one_padded_window(detector):
    samples = decoded(SPEECH_MP3)[SAMPLE_RATE : SAMPLE_RATE + 100]
    spans, peak = streamed(detector, samples, 100)
    assert spans == whole_array_spans(detector, samples)
    assert peak == float(np.abs(samples).max()) > 0.0


def test_each_scan_starts_from_a_fresh_model_state(detector):
    # Begins inside a word, so the first windows' probabilities depend on the state the scan starts from:
    # with the state another file left behind (a scan that ends mid-speech) the span would start 32 ms earlier.
    options = VadOptions(enabled=True, threshold=0.7, speech_pad_ms=0, max_span_s=5.0)
    strict = vad.SpeechDetector(detector.model, options, detector.origin)
    speech = decoded(SPEECH_MP3)
    mid_word, ends_mid_speech = speech[int(0.6 * SAMPLE_RATE) :], speech[SAMPLE_RATE : 2 * SAMPLE_RATE]
    first = streamed(strict, mid_word, SAMPLE_RATE)
    streamed(strict, ends_mid_speech, SAMPLE_RATE)
    assert streamed(strict, mid_word, SAMPLE_RATE) == first
    assert first[0] == whole_array_spans(strict, mid_word)


class ThreadCountSpy:
    """Records every torch.set_num_threads call while passing it on."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.calls: list[int] = []
        self._real = torch.set_num_threads
        monkeypatch.setattr(torch, "set_num_threads", self)

    def __call__(self, count: int) -> None:
        self.calls.append(count)
        self._real(count)


@pytest.mark.skipif(not HAS_ONNXRUNTIME, reason="onnxruntime is not installed")
def test_the_onnx_scan_never_touches_torchs_thread_count(detector, monkeypatch: pytest.MonkeyPatch):
    assert "(onnx)" in detector.origin
    spy = ThreadCountSpy(monkeypatch)
    spans, _ = streamed(detector, decoded(SPEECH_MP3), 16_000)
    assert spans and spy.calls == []


def test_the_torchscript_scan_runs_on_one_thread_and_gives_the_count_back(
    torchscript_detector, monkeypatch: pytest.MonkeyPatch
):
    before = torch.get_num_threads()
    torch.set_num_threads(3)
    try:
        spy = ThreadCountSpy(monkeypatch)
        spans, _ = streamed(torchscript_detector, decoded(SPEECH_MP3), 16_000)
        assert spans and torch.get_num_threads() == 3
        assert spy.calls[0] == 1 and spy.calls[-1] == 3
    finally:
        torch.set_num_threads(before)


def test_torchscript_scans_on_several_threads_give_the_count_back_and_the_same_spans(torchscript_detector):
    second = vad.load_vad(OPTIONS)  # one model per thread, as a batch preparing files at once loads them
    samples = decoded(SPEECH_MP3)
    expected, _ = streamed(torchscript_detector, samples, 16_000)
    before = torch.get_num_threads()
    torch.set_num_threads(3)
    try:

        def scan_twice(detector: vad.SpeechDetector) -> list[list[SpeechSpan]]:
            return [streamed(detector, samples, 1000)[0] for _ in range(2)]

        # Each thread scans with its own model, as the product's preparing threads do: a model keeps state.
        with ThreadPoolExecutor(max_workers=2) as pool:
            scans = list(pool.map(scan_twice, [torchscript_detector, second]))
        assert torch.get_num_threads() == 3  # no thread restored a count another one had set
        assert scans == [[expected] * 2] * 2
    finally:
        torch.set_num_threads(before)


def prepared(source: Path, finder: vad.SpeechDetector | None) -> PreparedFile:
    result = prepare_file(source, ffmpeg=FFMPEG, vad=finder)
    assert isinstance(result, PreparedFile)
    return result


def test_prepare_file_streams_a_multi_block_file_to_the_same_spans(detector, generated):
    source = generated["speech over noise"]
    samples = decoded(source)
    assert len(samples) > 30 * SAMPLE_RATE  # decoded in more than one block
    result = prepared(source, detector)
    assert np.array_equal(result.audio.samples, samples)
    assert list(result.spans) == whole_array_spans(detector, samples) != []
    assert result.vad_used and result.reason == ""


@pytest.mark.parametrize("with_vad", [True, False], ids=["vad", "no-vad"])
def test_audio_below_the_silence_peak_gives_no_spans(detector, generated, with_vad: bool):
    source = generated["faint speech"]
    assert 0.0 < float(np.abs(decoded(source)).max()) < SILENCE_PEAK
    for quiet in (source, SILENCE_WAV):
        result = prepared(quiet, detector if with_vad else None)
        assert result.spans == () and result.reason == "no speech found"


def test_without_vad_the_whole_file_is_one_span(generated):
    source = generated["noise"]
    result = prepared(source, None)
    assert result.spans == (SpeechSpan(0.0, result.audio.duration_s),) and not result.vad_used


def test_an_undecodable_file_fails_the_same_with_vad_on_or_off(detector):
    on, off = (prepare_file(CORRUPT_MP3, ffmpeg=FFMPEG, vad=finder) for finder in (detector, None))
    assert isinstance(on, FileResult) and isinstance(off, FileResult)
    assert on.reason == off.reason != ""
    with pytest.raises(CorruptMedia):
        media.decode(CORRUPT_MP3, FFMPEG, on_block=lambda block: None)


class RecordingSearch:
    """A stand-in VAD that keeps which thread saw which block, and fails on request."""

    def __init__(self, fail_on_block: int | None = None) -> None:
        self.blocks: list[np.ndarray] = []
        self.threads: set[int] = set()
        self.finished_after = -1
        self.fail_on_block = fail_on_block

    @property
    def peak(self) -> float:
        return max((float(np.abs(block).max()) for block in self.blocks if len(block)), default=0.0)

    def feed(self, block: np.ndarray) -> None:
        if len(self.blocks) == self.fail_on_block:
            raise RuntimeError("the VAD broke")
        self.threads.add(threading.get_ident())
        self.blocks.append(block)

    def finish(self) -> list[SpeechSpan]:
        self.finished_after = len(self.blocks)
        return [SpeechSpan(0.0, 1.0)]

    def scan(self) -> RecordingSearch:
        return self


def test_the_vad_reads_every_block_in_order_on_its_own_thread_before_finishing(generated):
    source = generated["speech over noise"]
    search = RecordingSearch()
    result = prepared(source, search)
    assert len(search.blocks) == 2 and search.finished_after == 2
    assert np.array_equal(np.concatenate(search.blocks), result.audio.samples)
    assert threading.get_ident() not in search.threads
    assert result.spans == (SpeechSpan(0.0, 1.0),)


def test_a_failing_vad_reaches_the_caller(generated):
    with pytest.raises(RuntimeError, match="the VAD broke"):
        prepare_file(generated["speech over noise"], ffmpeg=FFMPEG, vad=RecordingSearch(fail_on_block=1))
