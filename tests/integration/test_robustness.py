"""Bad inputs and hostile folders through ``python -m worker`` with the tiny models.

Every case must end with a one-line reason for its own file while the batch goes on, no half-written
subtitle, and nothing touched outside the output folder. The files are copies of the committed corpus
(tests/data/bad) or are made here: permissions, odd names, links and a full disk cannot live in git.

Run as root, the worker runs without the capabilities that let root ignore file permissions, so an
unreadable file and a read-only folder behave as they do for any other user.
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.test_cli_batch import assert_valid_subtitles, outcome_lines
from tests.media_fixtures import (
    EMPTY_MP3,
    IMAGE_AS_MP3,
    SHORT_WAV,
    TEXT_AS_WAV,
    TRUNCATED_MP3,
    UNICODE_NAME_MP3,
    VIDEO_NO_AUDIO_MKV,
)
from worker.leftovers import is_partial_output

ROOT = Path(__file__).resolve().parents[2]
VANISHING = "🫥 vanishes.mp3"  # sorts after every other name, so it is deleted before its turn
NEWLINE_NAME = "new\nline.mp3"
QUOTES_NAME = "quote \"double\" 'single'.mp3"
NO_PERMISSION_BYPASS = ["setpriv", "--bounding-set=-dac_override,-dac_read_search", "--"]


def worker_prefix() -> list[str]:
    """How to start the worker so that file permissions apply to it."""
    if os.geteuid() != 0:
        return []
    if shutil.which("setpriv") is None:
        pytest.skip("running as root without setpriv: permissions cannot be made to apply")
    return NO_PERMISSION_BYPASS


def worker(tiny_models, tmp_path: Path, *args: str) -> subprocess.Popen[str]:
    env = {
        **os.environ,
        "ASR_CHECKPOINT": str(tiny_models.asr_dir),
        "ALIGNER_CHECKPOINT": str(tiny_models.aligner_dir),
        "PYTHONIOENCODING": "utf-8",
    }
    command = [*worker_prefix(), sys.executable, "-m", "worker", *args, "--data-dir", str(tmp_path / "data")]
    return subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def snapshot(folder: Path) -> dict[str, tuple[int, int, int]]:
    """Every entry under ``folder`` (links not followed) with its mode, size and modification time."""
    entries = {}
    for path in folder.rglob("*"):
        info = path.lstat()
        entries[str(path.relative_to(folder))] = (info.st_mode, info.st_size, info.st_mtime_ns)
    return entries


def assert_nothing_half_written(out: Path) -> None:
    assert [p for p in out.rglob("*") if is_partial_output(p.name)] == []
    assert_valid_subtitles(out)


def build_bad_inputs(inputs: Path, out: Path) -> None:
    copies = {
        "empty.mp3": EMPTY_MP3, "truncated.mp3": TRUNCATED_MP3, "image.mp3": IMAGE_AS_MP3,
        "text.wav": TEXT_AS_WAV, "video no audio.mkv": VIDEO_NO_AUDIO_MKV, "short.wav": SHORT_WAV,
        "locked.mp3": UNICODE_NAME_MP3, "readonly/song.mp3": UNICODE_NAME_MP3, NEWLINE_NAME: UNICODE_NAME_MP3,
        QUOTES_NAME: UNICODE_NAME_MP3, UNICODE_NAME_MP3.name: UNICODE_NAME_MP3, VANISHING: UNICODE_NAME_MP3,
    }
    for name, source in copies.items():
        (inputs / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, inputs / name)
    (inputs / "locked.mp3").chmod(0)
    (inputs / "loop").symlink_to(".", target_is_directory=True)  # the folder inside itself
    (inputs / "readonly" / "up").symlink_to("..", target_is_directory=True)
    (inputs / "self.mp3").symlink_to("self.mp3")  # a link to itself: ELOOP when opened
    (out / "readonly").mkdir(parents=True)
    (out / "readonly").chmod(0o555)


EXPECTED = {
    "empty.mp3": ("failed", "empty (0 bytes)"),
    "image.mp3": ("empty", "no audio stream"),
    "locked.mp3": ("failed", "Permission denied"),
    NEWLINE_NAME.replace("\n", " "): ("done", ""),
    QUOTES_NAME: ("done", ""),
    "readonly/song.mp3": ("failed", "cannot write song.srt: Permission denied"),
    "short.wav": ("done", ""),
    "text.wav": ("failed", "could not decode"),
    "truncated.mp3": ("done", ""),
    "video no audio.mkv": ("empty", "no audio stream"),
    UNICODE_NAME_MP3.name: ("done", ""),
    VANISHING: ("failed", "not found"),
}


def test_a_batch_of_bad_files_gives_each_its_reason_and_touches_nothing_outside_the_output(tiny_models, tmp_path):
    inputs, out = tmp_path / "in", tmp_path / "out"
    build_bad_inputs(inputs, out)
    before = snapshot(inputs)
    try:
        process = worker(tiny_models, tmp_path, str(inputs), "-o", str(out))
        lines = [process.stdout.readline()]
        (inputs / VANISHING).unlink()  # gone after the batch was planned, before its turn
        rest, stderr = process.communicate(timeout=600)
    finally:
        (out / "readonly").chmod(0o755)
        (inputs / "locked.mp3").chmod(0o644)
    lines += rest.splitlines(keepends=True)

    assert process.returncode == 1, stderr
    assert len(lines) == len(EXPECTED), "one line per file, even for a name with a newline"
    assert outcome_lines("".join(lines)) == {name: status for name, (status, _) in EXPECTED.items()}
    for name, (_, reason) in EXPECTED.items():
        line = next(line for line in lines if f" {name}" in line)
        assert reason in line, line
    assert "12 files: 5 done, 2 empty, 0 skipped, 5 failed" in stderr

    expected_after = {k: v for k, v in before.items() if k != VANISHING}
    expected_after["locked.mp3"] = (before["locked.mp3"][0] | 0o644, *before["locked.mp3"][1:])
    assert snapshot(inputs) == expected_after, "the inputs were changed"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data", "in", "out"]
    written = sorted(str(p.relative_to(out)) for p in out.rglob("*") if p.is_file())
    on_disk = {NEWLINE_NAME.replace("\n", " "): NEWLINE_NAME}
    kept = [on_disk.get(name, name) for name, (status, _) in EXPECTED.items() if status != "failed"]
    assert written == sorted(str(Path(name).with_suffix(ext)) for name in kept for ext in (".lrc", ".srt"))
    assert (out / "new\nline.srt").is_file(), "the file keeps its real name; only the printed line is escaped"
    assert_nothing_half_written(out)


@contextlib.contextmanager
def small_tmpfs(mount_point: Path) -> Iterator[Path]:
    mount_point.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(mount_point)],
                             capture_output=True, check=False)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here: {mounted.stderr.decode(errors='replace').strip()}")
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", str(mount_point)], check=True)


def fill(folder: Path) -> Path:
    """Write a file until the file system is full; returns it."""
    filler = folder / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT)
    try:
        while True:
            os.write(fd, b"\0" * 512)
    except OSError as exc:
        assert exc.errno == errno.ENOSPC
    finally:
        os.close(fd)
    return filler


@pytest.mark.skipif(shutil.which("mount") is None or os.geteuid() != 0, reason="mounting a tmpfs needs root")
def test_a_full_disk_fails_each_file_with_the_reason_and_leaves_no_temp_file(tiny_models, tmp_path):
    inputs = tmp_path / "in"
    inputs.mkdir()
    for name in ("a.mp3", "b.mp3"):
        shutil.copyfile(UNICODE_NAME_MP3, inputs / name)
    with small_tmpfs(tmp_path / "disk") as out:
        filler = fill(out)
        full = worker(tiny_models, tmp_path, str(inputs), "-o", str(out))
        stdout, stderr = full.communicate(timeout=600)
        assert full.returncode == 1, stderr
        assert outcome_lines(stdout) == {"a.mp3": "failed", "b.mp3": "failed"}
        assert stdout.count("No space left on device") == 2
        assert sorted(p.name for p in out.iterdir()) == ["filler"]

        filler.unlink()
        again = worker(tiny_models, tmp_path, str(inputs), "-o", str(out))
        stdout, stderr = again.communicate(timeout=600)
        assert again.returncode == 0, stderr
        assert outcome_lines(stdout) == {"a.mp3": "done", "b.mp3": "done"}
        assert_nothing_half_written(out)
