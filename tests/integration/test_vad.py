"""Real Silero VAD on the committed speech: every model source, offline behaviour, span grouping."""

from __future__ import annotations

import importlib.resources
import importlib.util
import logging
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from asr_core import media, vad
from asr_core.errors import ModelLoadError
from asr_core.options import VadOptions
from asr_core.types import Audio, SpeechSpan
from tests.media_fixtures import (
    FFMPEG,
    HAS_ONNXRUNTIME,
    SHORT_WAV,
    SILENCE_WAV,
    SPEECH_DURATION_S,
    SPEECH_MP3,
    SPEECH_PAUSE_S,
    SPEECH_VIDEO_MP4,
)

# A span limit below the length of both sentences together, so each sentence gets its own span.
SPLIT = VadOptions(enabled=True, max_span_s=5.0)

# Shaped like silero-vad's own hubconf.py: it declares torchaudio (which torch.hub.load would demand),
# puts its src folder on sys.path and loads the model file from inside the checkout.
UPSTREAM_STYLE_HUBCONF = """\
dependencies = ["torch", "torchaudio"]
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "src"))
from silero_vad.utils_vad import get_speech_timestamps, init_jit_model


def silero_vad(onnx=False):
    model_dir = os.path.join(os.path.dirname(__file__), "src", "silero_vad", "data")
    return init_jit_model(os.path.join(model_dir, "silero_vad.jit")), (get_speech_timestamps,)
"""


def make_checkout(folder: Path, with_model: bool = True) -> Path:
    """A stand-in for a silero-vad checkout: upstream's layout, the model file copied from the wheel."""
    data = folder / "src" / "silero_vad" / "data"
    data.mkdir(parents=True)
    if with_model:
        packaged = importlib.resources.files("silero_vad.data") / "silero_vad.jit"
        shutil.copyfile(str(packaged), data / "silero_vad.jit")
    (folder / "hubconf.py").write_text(UPSTREAM_STYLE_HUBCONF)
    return folder


@pytest.fixture(scope="module")
def speech() -> Audio:
    return media.decode(SPEECH_MP3, FFMPEG)


@pytest.fixture
def offline(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """An empty TORCH_HOME and every https request sent to a closed local port, so it fails at once
    the way it does without internet (urllib honours https_proxy)."""
    torch_home = tmp_path / "torch_home"
    monkeypatch.setenv("TORCH_HOME", str(torch_home))
    for name in ("https_proxy", "HTTPS_PROXY", "http_proxy", "HTTP_PROXY"):
        monkeypatch.setenv(name, "http://127.0.0.1:9")
    for name in ("no_proxy", "NO_PROXY"):
        monkeypatch.delenv(name, raising=False)
    assert Path(torch.hub.get_dir()) == torch_home / "hub"
    return torch_home


def assert_one_span_per_sentence(spans: list[SpeechSpan]) -> None:
    first, second = spans
    assert first.start_s < 1.0 and 3.0 < first.end_s <= SPEECH_PAUSE_S[0]
    assert SPEECH_PAUSE_S[1] <= second.start_s < 6.5 and 8.5 < second.end_s <= SPEECH_DURATION_S


def test_packaged_model_finds_the_two_sentences(speech: Audio):
    assert_one_span_per_sentence(vad.load_vad(SPLIT).detect(speech))


def test_neighbouring_sentences_share_a_span_under_the_default_limit(speech: Audio):
    (span,) = vad.load_vad(VadOptions(enabled=True)).detect(speech)
    assert span.start_s < 1.0 and span.end_s > 8.5


def test_a_tiny_span_limit_cuts_speech_into_pieces_no_longer_than_it(speech: Audio):
    spans = vad.load_vad(VadOptions(enabled=True, max_span_s=1.0)).detect(speech)
    assert len(spans) >= 6
    assert all(span.duration_s <= 1.0 + 1e-9 for span in spans)


def test_video_audio_gives_the_same_sentences():
    assert_one_span_per_sentence(vad.load_vad(SPLIT).detect(media.decode(SPEECH_VIDEO_MP4, FFMPEG)))


def test_a_higher_threshold_and_longer_min_speech_drop_speech():
    audio = media.decode(SPEECH_MP3, FFMPEG)
    strict = VadOptions(enabled=True, threshold=0.99, min_speech_ms=5000)
    assert vad.load_vad(strict).detect(audio) == []


@pytest.mark.parametrize("source", [SILENCE_WAV, SHORT_WAV], ids=lambda p: p.name)
def test_silence_and_a_clip_shorter_than_min_speech_give_no_spans(source: Path):
    assert vad.load_vad(SPLIT).detect(media.decode(source, FFMPEG)) == []


def test_empty_and_read_only_audio_are_accepted(speech: Audio):
    detector = vad.load_vad(SPLIT)
    assert detector.detect(Audio(np.zeros(0, dtype=np.float32))) == []
    read_only = speech.samples.copy()
    read_only.flags.writeable = False
    assert_one_span_per_sentence(detector.detect(Audio(read_only)))


@pytest.mark.skipif(not HAS_ONNXRUNTIME, reason="onnxruntime is not installed")
def test_torchscript_model_is_used_without_onnxruntime_and_agrees_with_onnx(
    speech: Audio, monkeypatch: pytest.MonkeyPatch
):
    with_onnx = vad.load_vad(SPLIT)
    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *args: None if name == "onnxruntime" else real_find_spec(name, *args)
    )
    without_onnx = vad.load_vad(SPLIT)
    assert "(onnx)" in with_onnx.origin and "(jit)" in without_onnx.origin
    assert without_onnx.detect(speech) == with_onnx.detect(speech)


@pytest.mark.skipif(not HAS_ONNXRUNTIME, reason="onnxruntime is not installed")
def test_a_broken_onnxruntime_falls_back_to_torchscript(speech: Audio, monkeypatch: pytest.MonkeyPatch):
    import silero_vad

    real_load = silero_vad.load_silero_vad

    def load(onnx: bool = False, **kwargs):
        if onnx:
            raise ImportError("libonnxruntime.so: cannot open shared object file")
        return real_load(onnx=onnx, **kwargs)

    monkeypatch.setattr(silero_vad, "load_silero_vad", load)
    detector = vad.load_vad(SPLIT)
    assert "(jit)" in detector.origin
    assert_one_span_per_sentence(detector.detect(speech))


def test_loading_keeps_the_callers_torch_thread_count():
    # A fresh interpreter: silero-vad sets torch to one thread only the first time it is imported.
    script = (
        "import torch; torch.set_num_threads(3)\n"
        "from asr_core.options import VadOptions\n"
        "from asr_core.vad import load_vad\n"
        "load_vad(VadOptions())\n"
        "import silero_vad\n"
        "print(torch.get_num_threads())\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert done.stdout.strip() == "3"


def test_detect_leaves_the_torch_thread_count_as_it_found_it(speech: Audio):
    detector = vad.load_vad(SPLIT)
    before = torch.get_num_threads()
    torch.set_num_threads(3)
    try:
        detector.detect(speech)
        assert torch.get_num_threads() == 3
    finally:
        torch.set_num_threads(before)


def test_local_source_loads_a_checkout_stand_in_without_torchaudio(speech: Audio, tmp_path: Path):
    checkout = make_checkout(tmp_path / "silero-vad")
    path_before = list(sys.path)
    detector = vad.load_vad(VadOptions(enabled=True, source="local", repo_dir=str(checkout), max_span_s=5.0))
    assert sys.path == path_before
    assert str(checkout) in detector.origin
    assert_one_span_per_sentence(detector.detect(speech))


def test_local_source_reads_the_model_from_the_checkout_not_the_wheel(tmp_path: Path):
    checkout = make_checkout(tmp_path / "silero-vad", with_model=False)
    with pytest.raises(ModelLoadError, match=r"could not load Silero VAD from .*source 'package'"):
        vad.load_vad(VadOptions(enabled=True, source="local", repo_dir=str(checkout)))


def test_local_source_needs_a_checkout(tmp_path: Path):
    with pytest.raises(ModelLoadError, match=r"not a silero-vad checkout .*VAD_REPO_DIR"):
        vad.load_vad(VadOptions(enabled=True, source="local", repo_dir=str(tmp_path / "nowhere")))


def test_hub_source_offline_without_cache_fails_fast_with_advice_via_https_proxy_to_closed_port(offline: Path):
    with pytest.raises(ModelLoadError) as failure:
        vad.load_vad(VadOptions(enabled=True, source="hub"))
    assert str(failure.value).startswith(vad.HUB_OFFLINE_HINT)
    assert "URLError" in str(failure.value)


def test_hub_source_offline_uses_the_torch_home_cache_stand_in(offline: Path, speech: Audio):
    make_checkout(offline / "hub" / "snakers4_silero-vad_master")
    detector = vad.load_vad(VadOptions(enabled=True, source="hub", max_span_s=5.0))
    assert str(offline) in detector.origin
    assert_one_span_per_sentence(detector.detect(speech))


def test_auto_source_offline_falls_back_to_the_packaged_model(
    offline: Path, speech: Audio, caplog: pytest.LogCaptureFixture
):
    with caplog.at_level(logging.WARNING, logger="asr_core.vad"):
        detector = vad.load_vad(VadOptions(enabled=True, source="auto", max_span_s=5.0))
    assert "silero-vad package" in detector.origin
    assert "TORCH_HOME" in caplog.text
    assert_one_span_per_sentence(detector.detect(speech))
