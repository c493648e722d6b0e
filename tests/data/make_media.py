"""Regenerate the small media corpus the tests decode.

Run from the repository root: ``python tests/data/make_media.py``. It needs espeak-ng and an ffmpeg with
libmp3lame, libx264, libopus and aac (Debian's ffmpeg has them). Encoders run with ``-bitexact`` and
metadata stripped, so the same espeak-ng and ffmpeg versions give byte-identical files; the corpus
was made with espeak-ng 1.51 and ffmpeg 5.1.

Every file is short, 16 kHz mono and low bitrate so the whole folder stays well under 2 MB.
"""

from __future__ import annotations

import os
import random
import shutil
import subprocess
import sys
import tempfile
import wave
from collections.abc import Sequence
from pathlib import Path

DATA_DIR = Path(__file__).resolve().parent

FIRST_SENTENCE = "The quick brown fox jumps over the lazy dog."
SECOND_SENTENCE = "Subtitles are written for every file in the folder."
CHINESE_SENTENCE = "你好，世界。今天天气很好。"
LEAD_IN_S = 0.5
MIDDLE_SILENCE_S = 2.5
TAIL_S = 0.5

# Drop the encoder-version tags and random ids that would make every run differ.
BITEXACT = ("-fflags", "+bitexact", "-flags:a", "+bitexact", "-flags:v", "+bitexact", "-map_metadata", "-1")
MONO_16K = ("-ac", "1", "-ar", "16000")
TINY_H264 = ("-c:v", "libx264", "-crf", "40", "-pix_fmt", "yuv420p", "-x264-params", "threads=1")
MP3 = ("-c:a", "libmp3lame", "-b:a", "24k")
TAGS = {"title": "Test Title", "artist": "Test Artist", "album": "测试专辑 Album"}


def run(args: Sequence[str]) -> None:
    subprocess.run(list(args), check=True, stdin=subprocess.DEVNULL, capture_output=True)


def publish(made: Path, name: str) -> None:
    """Move a finished file into the corpus atomically, so a failed run never leaves half a file."""
    publish_bytes(made.read_bytes(), name)


def publish_bytes(content: bytes, name: str) -> None:
    """``name`` may sit in a sub-folder of the corpus (``bad/`` holds the inputs a batch must survive)."""
    target = DATA_DIR / name
    target.parent.mkdir(exist_ok=True)
    staged = target.with_name(f".{target.name}.partial")
    staged.write_bytes(content)
    os.replace(staged, target)


def speak(text: str, out: Path, voice: str = "en-us") -> Path:
    run(["espeak-ng", "-v", voice, "-s", "160", "-w", str(out), text])
    return out


def speech_master(ffmpeg: str, work: Path) -> Path:
    """Two English sentences with a long pause between them: VAD must find two segments."""
    first = speak(FIRST_SENTENCE, work / "first.wav")
    second = speak(SECOND_SENTENCE, work / "second.wav")
    out = work / "speech.wav"
    graph = (
        f"[0:a]aresample=16000,adelay={int(LEAD_IN_S * 1000)},apad=pad_dur={MIDDLE_SILENCE_S}[a];"
        f"[1:a]aresample=16000,apad=pad_dur={TAIL_S}[b];[a][b]concat=n=2:v=0:a=1[out]"
    )
    inputs = ("-i", str(first), "-i", str(second))
    run([ffmpeg, "-y", *inputs, "-filter_complex", graph, "-map", "[out]", *MONO_16K, *BITEXACT, str(out)])
    return out


def encode(ffmpeg: str, source: Path, out: Path, *codec: str, metadata: dict[str, str] | None = None) -> Path:
    tags = [arg for key, value in (metadata or {}).items() for arg in ("-metadata", f"{key}={value}")]
    run([ffmpeg, "-y", "-i", str(source), *MONO_16K, *BITEXACT, *tags, *codec, str(out)])
    return out


def video_with_audio(ffmpeg: str, audio: Path, out: Path) -> Path:
    with wave.open(str(audio)) as recording:
        duration_s = recording.getnframes() / recording.getframerate()
    picture = ("-f", "lavfi", "-i", f"testsrc2=size=64x64:rate=5:duration={duration_s}")
    streams = ("-map", "0:v", "-map", "1:a", *MONO_16K, *BITEXACT, *TINY_H264, "-c:a", "aac", "-b:a", "24k")
    run([ffmpeg, "-y", *picture, "-i", str(audio), *streams, str(out)])
    return out


def video_without_audio(ffmpeg: str, out: Path) -> Path:
    picture = ("-f", "lavfi", "-i", "testsrc2=size=64x64:rate=5:duration=2")
    run([ffmpeg, "-y", *picture, *BITEXACT, *TINY_H264, str(out)])
    return out


def lavfi_audio(ffmpeg: str, graph: str, out: Path) -> Path:
    run([ffmpeg, "-y", "-f", "lavfi", "-i", graph, *MONO_16K, *BITEXACT, "-c:a", "pcm_s16le", str(out)])
    return out


def png_image(ffmpeg: str, out: Path) -> Path:
    run([ffmpeg, "-y", "-f", "lavfi", "-i", "testsrc2=size=16x16", "-frames:v", "1", *BITEXACT, str(out)])
    return out


def main() -> None:
    ffmpeg = shutil.which("ffmpeg")
    if ffmpeg is None or shutil.which("espeak-ng") is None:
        sys.exit("make_media.py needs ffmpeg and espeak-ng on PATH")
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        speech = speech_master(ffmpeg, work)
        publish(encode(ffmpeg, speech, work / "speech.mp3", *MP3), "speech.mp3")
        flac = ("-c:a", "flac", "-compression_level", "8")
        publish(encode(ffmpeg, speech, work / "speech.flac", *flac), "speech.flac")
        publish(encode(ffmpeg, speech, work / "speech.m4a", "-c:a", "aac", "-b:a", "24k"), "speech.m4a")
        publish(encode(ffmpeg, speech, work / "speech.opus", "-c:a", "libopus", "-b:a", "16k"), "speech.opus")
        publish(encode(ffmpeg, speech, work / "speech.wma", "-c:a", "wmav2", "-b:a", "24k"), "speech.wma")
        publish(video_with_audio(ffmpeg, speech, work / "speech_video.mp4"), "speech_video.mp4")
        publish(video_without_audio(ffmpeg, work / "video_no_audio.mkv"), "bad/video_no_audio.mkv")

        first = speak(FIRST_SENTENCE, work / "short_speech.wav")
        publish(encode(ffmpeg, first, work / "unicode.mp3", *MP3), "歌 song 🎵.mp3")
        publish(encode(ffmpeg, first, work / "tagged.mp3", *MP3, metadata=TAGS), "tagged.mp3")
        publish(encode(ffmpeg, first, work / "tagged.flac", "-c:a", "flac", metadata=TAGS), "tagged.flac")
        chinese = speak(CHINESE_SENTENCE, work / "chinese.wav", voice="cmn")
        publish(encode(ffmpeg, chinese, work / "speech_zh.mp3", *MP3), "speech_zh.mp3")

        publish(lavfi_audio(ffmpeg, "anullsrc=r=16000:cl=mono:d=3", work / "silence.wav"), "silence.wav")
        tone = "sine=frequency=440:sample_rate=16000:duration=0.1"
        publish(lavfi_audio(ffmpeg, tone, work / "short.wav"), "bad/short.wav")
        publish(png_image(ffmpeg, work / "image.png"), "bad/image.mp3")

    publish_bytes(b"", "bad/empty.mp3")
    publish_bytes(random.Random(20240601).randbytes(8192), "bad/corrupt.mp3")
    whole = (DATA_DIR / "speech.mp3").read_bytes()
    publish_bytes(whole[: len(whole) // 2], "bad/truncated.mp3")
    publish_bytes(b"This is a text file, not a WAV recording.\n", "bad/text.wav")


if __name__ == "__main__":
    main()
