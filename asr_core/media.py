"""Probe and decode any audio or video file to 16 kHz mono float32 with ffmpeg.

Only the ``ffmpeg`` binary is used, never ``ffprobe``: the binary bundled with imageio-ffmpeg comes
without it. Failures are classified from ffmpeg's stderr text because exit codes differ between
ffmpeg versions (5.1 exits 1 where 9 exits 183, 234 or 254 for the same problems).
"""

from __future__ import annotations

import logging
import re
import shutil
import subprocess
import threading
from collections import deque
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO

import ffmpeg as ffmpeg_python
import numpy as np

from asr_core.errors import AsrError, CorruptMedia, MediaError, MediaNotFound, NoAudioStream
from asr_core.types import SAMPLE_RATE, Audio, MediaInfo

logger = logging.getLogger(__name__)

BYTES_PER_SAMPLE = 4  # f32le
GROWTH_MIN_SAMPLES = 60 * SAMPLE_RATE  # decode buffers grow by at least a minute
STDERR_TAIL_LINES = 200
INPUT_PLACEHOLDER = "<input>"

NOT_FOUND_MARKERS = ("No such file or directory", "Permission denied", "Is a directory")
NO_AUDIO_MARKERS = ("matches no streams", "does not contain any stream")

_LOG_PREFIX = re.compile(r"^\[[^\]]*@ 0x[0-9a-f]+\]\s*")
_DURATION = re.compile(r"^\s*Duration: (\d+):(\d{2}):(\d{2}(?:\.\d+)?)")
_AUDIO_STREAM = re.compile(r"^\s*Stream #0:\d+\S*: Audio: ")
_TAG = re.compile(r"^ {4}(\S[^:]*?)\s*:(?: (.*))?$")
_TAG_CONTINUATION = re.compile(r"^ {4}\s+:(?: (.*))?$")


class FfmpegNotFound(AsrError):
    """No usable ffmpeg binary: the configured one is missing, none is on PATH and none is bundled."""


def find_ffmpeg(explicit: str | None = None) -> str:
    """The ffmpeg to run: ``explicit`` (a path or a name on PATH), else PATH, else imageio-ffmpeg's own."""
    if explicit:
        found = shutil.which(explicit)
        if found is None:
            raise FfmpegNotFound(f"ffmpeg binary {explicit!r} does not exist or is not executable")
        return found
    on_path = shutil.which("ffmpeg")
    if on_path is not None:
        return on_path
    try:
        import imageio_ffmpeg

        return imageio_ffmpeg.get_ffmpeg_exe()
    except (ImportError, RuntimeError) as exc:
        raise FfmpegNotFound(
            "no ffmpeg found: install ffmpeg, `pip install imageio-ffmpeg`, or set FFMPEG_BINARY"
        ) from exc


def input_argument(path: Path) -> str:
    """The ``-i`` value for a local file.

    The ``file:`` protocol with an absolute path stops ffmpeg from reading a name that starts with
    ``-`` as an option, a lone ``-`` as stdin, or ``name:rest`` as a protocol such as ``concat:``.
    """
    return "file:" + str(path.absolute())


def probe(path: Path, ffmpeg: str) -> MediaInfo:
    """Streams, duration and container tags from ``ffmpeg -i``; raises for missing or unreadable files."""
    source = input_argument(path)
    try:
        completed = subprocess.run(
            [ffmpeg, "-hide_banner", "-nostdin", "-i", source],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            check=False,
        )
    except OSError as exc:
        raise _cannot_run(ffmpeg, exc) from exc
    # Without an output file ffmpeg always exits non-zero; an "Input #0" header means it read the file.
    lines = _clean_lines(completed.stderr, source)
    if not any(line.startswith("Input #0") for line in lines):
        raise classify_failure(lines, path)
    return parse_probe(lines)


def parse_probe(lines: list[str]) -> MediaInfo:
    """Read ``has_audio``, ``duration_s`` and lower-cased container tags from ``ffmpeg -i`` stderr lines."""
    has_audio = False
    duration_s: float | None = None
    tags: dict[str, str] = {}
    in_container_tags = False
    last_key = ""
    for line in lines:
        if line == "  Metadata:":
            in_container_tags = True
            continue
        if in_container_tags:
            continuation = _TAG_CONTINUATION.match(line)
            tag = _TAG.match(line)
            if continuation and last_key:
                tags[last_key] = f"{tags[last_key]} {continuation.group(1) or ''}".strip()
                continue
            if tag:
                last_key = tag.group(1).strip().lower()
                tags.setdefault(last_key, (tag.group(2) or "").strip())
                continue
            in_container_tags = False
        duration = _DURATION.match(line)
        if duration:
            hours, minutes, seconds = duration.groups()
            duration_s = int(hours) * 3600 + int(minutes) * 60 + float(seconds)
        has_audio = has_audio or bool(_AUDIO_STREAM.match(line))
    return MediaInfo(has_audio=has_audio, duration_s=duration_s, tags=tags)


def decode(path: Path, ffmpeg: str, on_block: Callable[[np.ndarray], None] | None = None) -> Audio:
    """The whole file as 16 kHz mono float32 (first audio stream of a video).

    Blocks are copied into one buffer grown in place, never collected and concatenated: a 3-hour file
    holds its 0.7 GB of samples once instead of twice at the peak. ``on_block`` sees each read-only
    block as soon as it is in the buffer, so work such as VAD runs while ffmpeg is still decoding.
    """
    buffer = np.empty(0, dtype=np.float32)
    filled = 0
    for block in iter_decode(path, ffmpeg):
        if filled + len(block) > len(buffer):
            buffer = _grown(buffer, filled + len(block))
        buffer[filled : filled + len(block)] = block
        filled += len(block)
        if on_block is not None:
            on_block(block)
    return Audio(samples=_grown(buffer, filled))


def _grown(buffer: np.ndarray, size: int) -> np.ndarray:
    """``buffer`` resized to ``size`` samples (a quarter more when growing, so resizes stay rare).

    ``ndarray.resize`` reallocates in place; for large arrays the C library remaps the pages rather
    than copying them, so the old and the new buffer do not both exist at once.
    """
    target = size if size <= len(buffer) else max(size, len(buffer) + len(buffer) // 4, GROWTH_MIN_SAMPLES)
    buffer.resize(target, refcheck=False)
    return buffer


def iter_decode(path: Path, ffmpeg: str, block_s: float = 30.0) -> Iterator[np.ndarray]:
    """Stream the file as read-only float32 blocks of ``block_s`` seconds (the last one shorter).

    Memory stays bounded by one block. The ffmpeg child is killed and reaped even when the consumer
    stops early; a failure is raised after the blocks that did decode.
    """
    source = input_argument(path)
    block_bytes = max(1, round(block_s * SAMPLE_RATE)) * BYTES_PER_SAMPLE
    command = (
        ffmpeg_python.input(source)
        .output("pipe:", format="f32le", acodec="pcm_f32le", ac=1, ar=SAMPLE_RATE, map="0:a:0")
        .global_args("-hide_banner", "-nostdin", "-loglevel", "error")
    )
    try:
        process = command.run_async(cmd=ffmpeg, pipe_stdout=True, pipe_stderr=True)
    except OSError as exc:
        raise _cannot_run(ffmpeg, exc) from exc
    stderr = _StderrTail(process.stderr)
    try:
        while chunk := process.stdout.read(block_bytes):
            usable = len(chunk) - len(chunk) % BYTES_PER_SAMPLE
            yield np.frombuffer(chunk, dtype="<f4", count=usable // BYTES_PER_SAMPLE)
        returncode = process.wait()
    finally:
        _stop(process)
        stderr.join()
    lines = _clean_lines(stderr.content(), source)
    if returncode != 0:
        raise classify_failure(lines, path)
    if lines:
        logger.warning("%s decoded with errors: %s", path.name, lines[-1])


def classify_failure(lines: list[str], path: Path) -> MediaError:
    """Turn ffmpeg's complaint into the error the user sees, quoting the line that explains it."""
    for markers, error in ((NOT_FOUND_MARKERS, MediaNotFound), (NO_AUDIO_MARKERS, NoAudioStream)):
        hit = next((line for line in lines if any(marker in line for marker in markers)), None)
        if hit is not None:
            what = "file not found or not readable" if error is MediaNotFound else "no audio stream"
            return error(f"{what} (ffmpeg: {hit})")
    if _is_empty_file(path):
        return CorruptMedia("the file is empty (0 bytes)")
    # ffmpeg 5.1 ends with "<input>: Invalid argument"; the demuxer's line before it says more.
    specific = [line for line in lines if not line.startswith(INPUT_PLACEHOLDER)]
    detail = (specific or lines or ["no error message"])[-1]
    return CorruptMedia(f"ffmpeg could not decode the file ({detail})")


def _cannot_run(ffmpeg: str, exc: OSError) -> FfmpegNotFound:
    return FfmpegNotFound(f"cannot run ffmpeg {ffmpeg!r}: {exc.strerror or exc}")


def _is_empty_file(path: Path) -> bool:
    try:
        return path.is_file() and path.stat().st_size == 0
    except OSError:
        return False


def _clean_lines(stderr: bytes, source: str) -> list[str]:
    """Stderr lines with the input name replaced (it may hold newlines or marker words) and the
    ``[demuxer @ 0x…]`` prefixes dropped."""
    text = stderr.decode("utf-8", errors="replace").replace(source, INPUT_PLACEHOLDER)
    lines = (_LOG_PREFIX.sub("", line.rstrip()) for line in text.splitlines())
    return [line for line in lines if line.strip()]


def _stop(process: subprocess.Popen[bytes]) -> None:
    """Kill ffmpeg if it is still running and always reap it, so no zombie is left behind."""
    if process.poll() is None:
        process.kill()
    process.stdout.close()
    process.wait()


class _StderrTail:
    """Drains ffmpeg's stderr on a thread so a chatty decode never blocks on a full pipe."""

    def __init__(self, stream: IO[bytes]) -> None:
        self._lines: deque[bytes] = deque(maxlen=STDERR_TAIL_LINES)
        self._stream = stream
        self._thread = threading.Thread(target=self._drain, name="ffmpeg-stderr", daemon=True)
        self._thread.start()

    def _drain(self) -> None:
        with self._stream:
            for line in self._stream:
                self._lines.append(line)

    def join(self) -> None:
        self._thread.join()

    def content(self) -> bytes:
        return b"".join(self._lines)
