"""``python -m worker`` over real media files with the tiny real-architecture models, real ffmpeg and Silero."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import srt

from tests.media_fixtures import (
    CORRUPT_MP3,
    EMPTY_MP3,
    SILENCE_WAV,
    SPEECH_FLAC,
    SPEECH_M4A,
    SPEECH_MP3,
    SPEECH_VIDEO_MP4,
    TAGGED_MP3,
    TAGS,
    UNICODE_NAME_MP3,
    VIDEO_NO_AUDIO_MKV,
)

ROOT = Path(__file__).resolve().parents[2]
LRC_LINE = re.compile(r"^\[\d{2,}:\d{2}\.\d{2}\].*$")

CORPUS = {
    "speech.mp3": (SPEECH_MP3, "done"),
    "flac/speech.flac": (SPEECH_FLAC, "done"),
    "m4a/speech.m4a": (SPEECH_M4A, "done"),
    "video/talk.mp4": (SPEECH_VIDEO_MP4, "done"),
    "video/no audio.mkv": (VIDEO_NO_AUDIO_MKV, "empty"),
    "silence.wav": (SILENCE_WAV, "empty"),
    "broken/empty.mp3": (EMPTY_MP3, "failed"),
    "broken/corrupt.mp3": (CORRUPT_MP3, "failed"),
    f"unicode/{UNICODE_NAME_MP3.name}": (UNICODE_NAME_MP3, "done"),
}


def run_worker(tiny_models, tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "DATA_DIR": str(tmp_path / "data"),
        "ASR_CHECKPOINT": str(tiny_models.asr_dir),
        "ALIGNER_CHECKPOINT": str(tiny_models.aligner_dir),
        "PYTHONIOENCODING": "utf-8",
    }
    return subprocess.run(
        [sys.executable, "-m", "worker", *args],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip


def outcome_lines(stdout: str) -> dict[str, str]:
    """``{display name: status}`` from the one-line-per-file output."""
    result = {}
    for line in stdout.splitlines():
        status, rest = line.split(None, 1)
        name = re.split(r" -> |: ", rest, maxsplit=1)[0]
        result[name] = status
    return result


def assert_valid_subtitles(folder: Path) -> None:
    for path in folder.rglob("*.srt"):
        list(srt.parse(path.read_text(encoding="utf-8")))
    for path in folder.rglob("*.lrc"):
        raw = path.read_bytes()
        assert not raw.startswith(b"\xef\xbb\xbf"), f"{path} has a BOM"
        for line in raw.decode("utf-8").splitlines():
            assert LRC_LINE.match(line), f"{path}: {line!r}"


def assert_no_leftovers(folder: Path) -> None:
    leftovers = [p for p in folder.rglob("*") if p.name.startswith(".") or ".tmp" in p.name]
    assert leftovers == []


@pytest.mark.parametrize("vad", ["--vad", "--no-vad"])
def test_corpus_batch_gives_each_file_its_outcome(tiny_models, tmp_path, vad):
    inputs = tmp_path / "in"
    for name, (source, _) in CORPUS.items():
        (inputs / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(source, inputs / name)
    out = tmp_path / "out"
    result = run_worker(tiny_models, tmp_path, "--input", str(inputs), "--output", str(out), vad)

    assert result.returncode == 1, result.stderr  # two files fail, the batch still finishes
    assert outcome_lines(result.stdout) == {name: status for name, (_, status) in CORPUS.items()}
    for name, (_, status) in CORPUS.items():
        srt_path = (out / name).with_suffix(".srt")
        if status == "failed":
            assert not srt_path.exists()
            continue
        assert srt_path.exists() and srt_path.with_suffix(".lrc").exists()
        cues = list(srt.parse(srt_path.read_text(encoding="utf-8")))
        if status == "done":
            assert " ".join(c.content.replace("\n", " ") for c in cues) == tiny_models.text
            assert all(c.end > c.start for c in cues)
        else:
            assert cues == [] and srt_path.with_suffix(".lrc").read_text(encoding="utf-8") == ""
    assert "Invalid data" in result.stdout or "could not decode" in result.stdout
    assert_valid_subtitles(out)
    assert_no_leftovers(out)


def encode_silence_mp3(target: Path) -> None:
    subprocess.run(
        ["ffmpeg", "-nostdin", "-loglevel", "error", "-i", str(SILENCE_WAV), str(target)], check=True, timeout=60
    )


def test_same_stem_files_skip_without_overwrite_and_last_wins_with_it(tiny_models, tmp_path):
    inputs = tmp_path / "in"
    inputs.mkdir()
    shutil.copy(SPEECH_FLAC, inputs / "a.flac")
    encode_silence_mp3(inputs / "a.mp3")  # sorts after a.flac
    out = tmp_path / "out"

    first = run_worker(tiny_models, tmp_path, str(inputs), "-o", str(out), "-f", "srt")
    assert first.returncode == 0, first.stderr
    assert outcome_lines(first.stdout) == {"a.flac": "done", "a.mp3": "skipped"}
    assert "a.srt was already written by a.flac" in first.stdout
    assert tiny_models.text.split()[0] in (out / "a.srt").read_text(encoding="utf-8")

    for _ in range(2):
        again = run_worker(tiny_models, tmp_path, str(inputs), "-o", str(out), "-f", "srt", "--overwrite")
        assert again.returncode == 0, again.stderr
        assert outcome_lines(again.stdout) == {"a.flac": "done", "a.mp3": "empty"}
        assert (out / "a.srt").read_text(encoding="utf-8") == ""
    assert_no_leftovers(out)


def test_existing_outputs_are_skipped_and_nothing_loads(tmp_path):
    (tmp_path / "in").mkdir()
    shutil.copy(SPEECH_MP3, tmp_path / "in" / "song.mp3")
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "song.srt").write_text("kept")
    models = type("Missing", (), {"asr_dir": tmp_path / "no-model", "aligner_dir": tmp_path / "no-model"})
    result = run_worker(models, tmp_path, str(tmp_path / "in"), "-o", str(tmp_path / "out"), "-f", "srt")
    assert result.returncode == 0, result.stderr
    assert outcome_lines(result.stdout) == {"song.mp3": "skipped"}
    assert (tmp_path / "out" / "song.srt").read_text() == "kept"


def test_bad_usage_exits_2_and_a_missing_model_fails_files_with_the_reason(tmp_path):
    models = type("Missing", (), {"asr_dir": tmp_path / "no-model", "aligner_dir": tmp_path / "no-model"})
    usage = run_worker(models, tmp_path, str(tmp_path / "does-not-exist"))
    assert usage.returncode == 2
    assert "not found" in usage.stderr
    (tmp_path / "in").mkdir()
    shutil.copy(SPEECH_MP3, tmp_path / "in" / "a.mp3")
    failed = run_worker(models, tmp_path, str(tmp_path / "in"), "-o", str(tmp_path / "out"))
    assert failed.returncode == 1
    assert "does not exist" in failed.stdout
    assert outcome_lines(failed.stdout) == {"a.mp3": "failed"}


def test_layout_options_and_lrc_header_tags_reach_the_files(tiny_models, tmp_path):
    (tmp_path / "in").mkdir()
    shutil.copy(TAGGED_MP3, tmp_path / "in" / "tagged.mp3")
    out = tmp_path / "out"
    result = run_worker(
        tiny_models, tmp_path, str(tmp_path / "in"), "-o", str(out), "--max-line-width", "12", "--lrc-header-tags"
    )
    assert result.returncode == 0, result.stderr
    cues = list(srt.parse((out / "tagged.srt").read_text(encoding="utf-8")))
    assert all(len(line) <= 12 for cue in cues for line in cue.content.split("\n"))
    assert len(cues) > 1
    lrc = (out / "tagged.lrc").read_text(encoding="utf-8").splitlines()
    assert f"[ti:{TAGS['title']}]" in lrc and f"[ar:{TAGS['artist']}]" in lrc and f"[al:{TAGS['album']}]" in lrc
