"""Probe and decode the committed corpus with real ffmpeg binaries: Debian's (5.1) and imageio-ffmpeg's (9)."""

from __future__ import annotations

import shutil
import signal
import subprocess
from pathlib import Path

import numpy as np
import pytest

from asr_core import media
from asr_core.errors import CorruptMedia, MediaNotFound, NoAudioStream
from asr_core.media import FfmpegNotFound
from asr_core.types import SAMPLE_RATE
from tests.media_fixtures import (
    BUNDLED_FFMPEG,
    EMPTY_MP3,
    FFMPEG_BINARIES,
    NO_AUDIO_FILES,
    SHORT_DURATION_S,
    SHORT_SPEECH_DURATION_S,
    SHORT_WAV,
    SILENCE_DURATION_S,
    SILENCE_WAV,
    SPEECH_DURATION_S,
    SPEECH_FILES,
    SPEECH_MP3,
    SPEECH_PAUSE_S,
    SPEECH_ZH_DURATION_S,
    SPEECH_ZH_MP3,
    TAGGED_FLAC,
    TAGGED_MP3,
    TAGS,
    TRUNCATED_DURATION_S,
    TRUNCATED_MP3,
    UNDECODABLE_FILES,
    UNICODE_NAME_MP3,
)

# Encoders pad differently (AAC priming, MP3 frames), so durations match to a few frames.
DURATION_TOLERANCE_S = 0.05


def rms(samples: np.ndarray, start_s: float, end_s: float) -> float:
    window = samples[int(start_s * SAMPLE_RATE) : int(end_s * SAMPLE_RATE)]
    return float(np.sqrt(np.mean(np.square(window, dtype=np.float64))))


# --- finding ffmpeg -------------------------------------------------------------------------------


@pytest.mark.skipif(BUNDLED_FFMPEG is None, reason="imageio-ffmpeg is not installed")
def test_find_ffmpeg_uses_the_explicit_binary_first():
    assert media.find_ffmpeg(BUNDLED_FFMPEG) == BUNDLED_FFMPEG


def test_find_ffmpeg_rejects_an_explicit_binary_that_does_not_exist(tmp_path: Path):
    missing = str(tmp_path / "no-such-ffmpeg")
    with pytest.raises(FfmpegNotFound, match="no-such-ffmpeg"):
        media.find_ffmpeg(missing)


def test_find_ffmpeg_takes_the_one_on_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    fake = tmp_path / "ffmpeg"
    fake.write_text("#!/bin/sh\n")
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", str(tmp_path))
    assert media.find_ffmpeg() == str(fake)


@pytest.mark.skipif(BUNDLED_FFMPEG is None, reason="imageio-ffmpeg is not installed")
def test_find_ffmpeg_falls_back_to_the_bundled_binary(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.delenv("IMAGEIO_FFMPEG_EXE", raising=False)
    assert media.find_ffmpeg() == BUNDLED_FFMPEG


def test_find_ffmpeg_explains_what_to_install_when_there_is_none(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    import imageio_ffmpeg

    def no_bundled_binary() -> str:
        raise RuntimeError("No ffmpeg exe could be found")

    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setattr(imageio_ffmpeg, "get_ffmpeg_exe", no_bundled_binary)
    with pytest.raises(FfmpegNotFound, match="FFMPEG_BINARY"):
        media.find_ffmpeg()


def test_a_binary_that_cannot_run_is_reported_as_missing_ffmpeg(tmp_path: Path):
    with pytest.raises(FfmpegNotFound, match="cannot run ffmpeg"):
        media.decode(SPEECH_MP3, str(tmp_path / "ffmpeg"))
    with pytest.raises(FfmpegNotFound, match="cannot run ffmpeg"):
        media.probe(SPEECH_MP3, str(tmp_path / "ffmpeg"))


# --- decoding the corpus --------------------------------------------------------------------------


@pytest.mark.parametrize("ffmpeg", FFMPEG_BINARIES)
@pytest.mark.parametrize("source", SPEECH_FILES, ids=lambda p: p.name)
def test_every_speech_format_decodes_to_16k_mono_float32_on_the_original_timeline(source: Path, ffmpeg: str):
    audio = media.decode(source, ffmpeg)
    assert audio.sample_rate == SAMPLE_RATE
    assert audio.samples.dtype == np.float32
    assert audio.samples.ndim == 1
    assert audio.duration_s == pytest.approx(SPEECH_DURATION_S, abs=DURATION_TOLERANCE_S)
    # Speech where the sentences are, near-silence in the pause: the timeline is not shifted.
    pause_rms = rms(audio.samples, *SPEECH_PAUSE_S)
    assert rms(audio.samples, 1.0, 3.0) > 0.05 > 0.005 > pause_rms
    assert rms(audio.samples, 6.5, 8.5) > 0.05


@pytest.mark.parametrize("ffmpeg", FFMPEG_BINARIES)
def test_chinese_speech_decodes(ffmpeg: str):
    audio = media.decode(SPEECH_ZH_MP3, ffmpeg)
    assert audio.duration_s == pytest.approx(SPEECH_ZH_DURATION_S, abs=DURATION_TOLERANCE_S)
    assert float(np.abs(audio.samples).max()) > 0.1


@pytest.mark.parametrize("ffmpeg", FFMPEG_BINARIES)
def test_digital_silence_decodes_to_exact_zeros(ffmpeg: str):
    audio = media.decode(SILENCE_WAV, ffmpeg)
    assert len(audio.samples) == int(SILENCE_DURATION_S * SAMPLE_RATE)
    assert not audio.samples.any()


@pytest.mark.parametrize("ffmpeg", FFMPEG_BINARIES)
def test_a_tenth_of_a_second_decodes(ffmpeg: str):
    audio = media.decode(SHORT_WAV, ffmpeg)
    assert len(audio.samples) == int(SHORT_DURATION_S * SAMPLE_RATE)
    assert float(np.abs(audio.samples).max()) > 0.1


@pytest.mark.parametrize("ffmpeg", FFMPEG_BINARIES)
def test_a_truncated_mp3_gives_the_audio_that_survived(ffmpeg: str):
    audio = media.decode(TRUNCATED_MP3, ffmpeg)
    assert audio.duration_s == pytest.approx(TRUNCATED_DURATION_S, abs=0.1)


@pytest.mark.parametrize("ffmpeg", FFMPEG_BINARIES)
@pytest.mark.parametrize("source", NO_AUDIO_FILES, ids=lambda p: p.name)
def test_files_without_an_audio_stream_say_so(source: Path, ffmpeg: str):
    assert media.probe(source, ffmpeg).has_audio is False
    with pytest.raises(NoAudioStream, match=r"no audio stream .*matches no streams"):
        media.decode(source, ffmpeg)


@pytest.mark.parametrize("ffmpeg", FFMPEG_BINARIES)
@pytest.mark.parametrize("source", UNDECODABLE_FILES, ids=lambda p: p.name)
def test_unreadable_content_is_reported_as_corrupt(source: Path, ffmpeg: str):
    with pytest.raises(CorruptMedia) as decoding:
        media.decode(source, ffmpeg)
    with pytest.raises(CorruptMedia) as probing:
        media.probe(source, ffmpeg)
    assert "\n" not in str(decoding.value)
    assert str(probing.value)


@pytest.mark.parametrize("ffmpeg", FFMPEG_BINARIES)
def test_an_empty_file_is_called_empty(ffmpeg: str):
    with pytest.raises(CorruptMedia, match="empty"):
        media.decode(EMPTY_MP3, ffmpeg)


@pytest.mark.parametrize("ffmpeg", FFMPEG_BINARIES)
def test_a_missing_file_is_reported_as_not_found(tmp_path: Path, ffmpeg: str):
    missing = tmp_path / "gone.mp3"
    with pytest.raises(MediaNotFound, match="No such file or directory"):
        media.decode(missing, ffmpeg)
    with pytest.raises(MediaNotFound, match="No such file or directory"):
        media.probe(missing, ffmpeg)


@pytest.mark.parametrize("ffmpeg", FFMPEG_BINARIES)
def test_a_folder_is_reported_as_not_found(tmp_path: Path, ffmpeg: str):
    with pytest.raises(MediaNotFound, match="Is a directory"):
        media.decode(tmp_path, ffmpeg)


# --- file names -----------------------------------------------------------------------------------

AWKWARD_NAMES = [
    "with spaces.mp3",
    'it\'s "quoted".mp3',
    "新 歌 🎵.mp3",
    "two\nlines.mp3",
    "-i.mp3",
    "-",
    "concat:speech.mp3",
    "No such file or directory.mp3",
]


@pytest.mark.parametrize("ffmpeg", FFMPEG_BINARIES)
@pytest.mark.parametrize("name", AWKWARD_NAMES, ids=repr)
def test_awkward_file_names_probe_and_decode(name: str, ffmpeg: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    shutil.copyfile(TAGGED_MP3, tmp_path / name)
    monkeypatch.chdir(tmp_path)  # a relative name that starts with '-' must not become an option
    info = media.probe(Path(name), ffmpeg)
    assert info.has_audio
    assert info.tags["title"] == TAGS["title"]
    assert media.decode(Path(name), ffmpeg).duration_s == pytest.approx(SHORT_SPEECH_DURATION_S, abs=0.05)


@pytest.mark.parametrize("ffmpeg", FFMPEG_BINARIES)
def test_the_committed_unicode_named_file_decodes(ffmpeg: str):
    assert media.decode(UNICODE_NAME_MP3, ffmpeg).duration_s == pytest.approx(SHORT_SPEECH_DURATION_S, abs=0.05)


# --- probing --------------------------------------------------------------------------------------


@pytest.mark.parametrize("ffmpeg", FFMPEG_BINARIES)
@pytest.mark.parametrize("source", [TAGGED_MP3, TAGGED_FLAC], ids=lambda p: p.name)
def test_probe_reads_title_artist_album(source: Path, ffmpeg: str):
    info = media.probe(source, ffmpeg)
    assert info.has_audio
    assert {key: info.tags.get(key) for key in TAGS} == TAGS
    assert info.duration_s == pytest.approx(SHORT_SPEECH_DURATION_S, abs=0.15)


@pytest.mark.parametrize("ffmpeg", FFMPEG_BINARIES)
def test_probe_of_a_video_finds_its_audio_and_ignores_stream_metadata(ffmpeg: str):
    info = media.probe(SPEECH_FILES[-1], ffmpeg)
    assert info.has_audio
    assert info.duration_s == pytest.approx(10.0, abs=0.2)
    assert "handler_name" not in info.tags


FFMPEG_I_OUTPUT = """\
Input #0, mov,mp4,m4a,3gp,3g2,mj2, from '<input>':
  Metadata:
    TITLE           : First line
                    : second line
    Artist          : Someone
    comment         :
    album           : 专辑
  Duration: 01:02:03.50, start: 0.000000, bitrate: 18 kb/s
  Stream #0:0[0x1](und): Video: h264 (High), yuv420p, 64x64, 5 fps (default)
    Metadata:
      title           : stream title, not the file's
  Stream #0:1[0x2](eng): Audio: aac (LC) (mp4a / 0x6134706D), 16000 Hz, mono, fltp (default)
At least one output file must be specified
"""


def test_parse_probe_reads_container_tags_only_and_lowercases_keys():
    info = media.parse_probe(FFMPEG_I_OUTPUT.splitlines())
    assert info.tags == {"title": "First line second line", "artist": "Someone", "comment": "", "album": "专辑"}
    assert info.duration_s == pytest.approx(3723.5)
    assert info.has_audio


def test_parse_probe_without_audio_or_duration():
    lines = [
        "Input #0, png_pipe, from '<input>':",
        "  Duration: N/A, bitrate: N/A",
        "  Stream #0:0: Video: png, rgb24(pc), 16x16, 25 fps",
    ]
    assert media.parse_probe(lines) == media.MediaInfo(has_audio=False, duration_s=None, tags={})


# --- streaming ------------------------------------------------------------------------------------


@pytest.mark.parametrize("ffmpeg", FFMPEG_BINARIES)
def test_iter_decode_yields_fixed_blocks_that_join_to_the_whole_file(ffmpeg: str):
    blocks = list(media.iter_decode(SPEECH_MP3, ffmpeg, block_s=1.0))
    assert all(len(block) == SAMPLE_RATE for block in blocks[:-1])
    assert 0 < len(blocks[-1]) <= SAMPLE_RATE
    np.testing.assert_array_equal(np.concatenate(blocks), media.decode(SPEECH_MP3, ffmpeg).samples)


@pytest.fixture
def started_processes(monkeypatch: pytest.MonkeyPatch) -> list[subprocess.Popen]:
    """Every child process started during the test (ffmpeg-python calls subprocess.Popen)."""
    started: list[subprocess.Popen] = []

    class RecordingPopen(subprocess.Popen):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            started.append(self)

    monkeypatch.setattr(subprocess, "Popen", RecordingPopen)
    return started


@pytest.mark.parametrize("ffmpeg", FFMPEG_BINARIES)
def test_stopping_early_kills_and_reaps_ffmpeg(ffmpeg: str, tmp_path: Path, started_processes: list):
    # Ten minutes of noise decode to 38 MB, far more than a pipe holds, so ffmpeg is still running.
    long_file = tmp_path / "long.wav"
    subprocess.run(
        [ffmpeg, "-v", "error", "-f", "lavfi", "-i", "anoisesrc=r=8000:d=600", "-c:a", "pcm_u8", str(long_file)],
        check=True,
    )
    started_processes.clear()
    for block in media.iter_decode(long_file, ffmpeg, block_s=1.0):
        assert len(block) == SAMPLE_RATE
        break
    (process,) = started_processes
    assert process.returncode == -signal.SIGKILL  # set only once the child has been waited for


@pytest.mark.parametrize("ffmpeg", FFMPEG_BINARIES)
def test_a_finished_decode_leaves_no_child_behind(ffmpeg: str, started_processes: list):
    media.decode(SHORT_WAV, ffmpeg)
    with pytest.raises(NoAudioStream):
        media.decode(NO_AUDIO_FILES[0], ffmpeg)
    assert [process.returncode is not None for process in started_processes] == [True, True]
