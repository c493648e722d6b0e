"""The detached worker for real: subprocesses, the tiny models, real media files, kill -9 and cancel.

Waiting loops below have generous limits only so that a hung worker fails the test instead of hanging the
suite; no assertion depends on how fast anything runs.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import pytest
import srt
from filelock import FileLock

from tests.media_fixtures import CORRUPT_MP3, SHORT_WAV
from worker.jobfiles import JobPaths
from worker.launcher import cancel_job, resume_job, start_job
from worker.leftovers import is_partial_output
from worker.procs import group_members, is_gone
from worker.protocol import FINAL_STATUSES, JobSpec, JobStatus, JobView, read_job

REPO = Path(__file__).resolve().parents[2]
DATA = REPO / "tests" / "data"
PER_FILE_LINE = re.compile(r"^\S+ \S+ (done|empty|skipped|failed) +(\S.*?)(?: -> |: |$)")
LRC_LINE = re.compile(r"^\[\d{2}:\d{2}\.\d{2}\].*$")
OLD_MTIME = 946_684_800  # 2000-01-01
WORKING = ("decoding", "vad", "recognising", "aligning")
T = TypeVar("T")


def wait_for(read: Callable[[], T], ready: Callable[[T], bool], what: str, limit_s: float = 300.0) -> T:
    deadline = time.monotonic() + limit_s
    while True:
        value = read()
        if ready(value):
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"gave up waiting for {what}; last seen: {value}")
        time.sleep(0.02)


def poll(data: Path) -> JobView:
    return read_job(data, done_flash_s=0.0)


def finished(view: JobView) -> bool:
    return view.status in FINAL_STATUSES


def copies(folder: Path, source: Path, count: int) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    return [Path(shutil.copyfile(source, folder / f"track{i:02d}{source.suffix}")) for i in range(count)]


def spec_for(tiny_models, inputs: Path, out: Path, batch_size: int = 8, **changes) -> JobSpec:
    """A job on the tiny models; ``batch_size`` 1 recognises the files one by one (8 groups short files)."""
    model = {"asr_checkpoint": str(tiny_models.asr_dir), "aligner_checkpoint": str(tiny_models.aligner_dir),
             "device": "cpu", "batch_size": batch_size}
    return JobSpec(inputs=(str(inputs),), output_dir=str(out), formats=("srt", "lrc"), model=model, **changes)


def per_file_lines(log: str) -> list[tuple[str, str]]:
    return [(m.group(1), m.group(2)) for m in map(PER_FILE_LINE.match, log.splitlines()) if m]


def assert_no_partial_output(out: Path, planted: Path | None = None) -> list[Path]:
    """Every file under ``out`` (but the one the test ``planted``) is a complete subtitle; returns the SRTs."""
    found = [p for p in out.rglob("*") if p.is_file() and p != planted]
    assert [p for p in found if is_partial_output(p.name)] == []
    for path in found:
        text = path.read_text(encoding="utf-8")
        if path.suffix == ".srt":
            assert [c.content for c in srt.parse(text)] == ["hello world, this is a test."]
        else:
            assert path.suffix == ".lrc" and text.endswith("\n")
            assert all(LRC_LINE.match(line) for line in text.splitlines())
    return [p for p in found if p.suffix == ".srt"]


def python(*args: str, **kwargs) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.run([sys.executable, *args], cwd=REPO, env=env, capture_output=True, text=True, check=False,
                          timeout=300, **kwargs)


LAUNCH = """
import json, sys
from pathlib import Path
from worker.launcher import JobAlreadyRunning, start_job
from worker.protocol import JobSpec
try:
    print("started", start_job(JobSpec.from_dict(json.loads(sys.argv[1])), Path(sys.argv[2])))
except JobAlreadyRunning as exc:
    print("refused", exc)
"""


def test_two_concurrent_starts_run_one_job_that_outlives_its_launcher_and_logs_every_file(tmp_path, tiny_models):
    inputs, out, data = tmp_path / "in", tmp_path / "out", tmp_path / "data"
    copies(inputs / "AlbumA", DATA / "speech.mp3", 2)
    copies(inputs / "AlbumB", DATA / "speech.m4a", 2)
    copies(inputs / "AlbumC", CORRUPT_MP3, 1)
    shutil.copyfile(SHORT_WAV, inputs / "AlbumA" / "ignored.wav")  # filtered out by extension
    for album in ("AlbumA", "AlbumB", "AlbumC"):
        os.utime(inputs / album, (OLD_MTIME, OLD_MTIME))
    spec = spec_for(tiny_models, inputs, out, extensions=("mp3", ".M4A"), touch_album_root=True)
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    launchers = [
        subprocess.Popen([sys.executable, "-c", LAUNCH, json.dumps(spec.to_dict()), str(data)], cwd=REPO, env=env,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    answers = sorted(launcher.communicate(timeout=120)[0].strip() for launcher in launchers)
    launchers_gone_at = time.time()

    assert answers[0].startswith("refused another job is already running")
    assert answers[1].startswith("started ")
    worker_pid = int(answers[1].split()[1])
    view = wait_for(lambda: poll(data), finished, "the job to finish")

    assert view.status is JobStatus.DONE
    assert view.finished_at > launchers_gone_at  # it kept working after the process that started it had exited
    assert view.counts == {"done": 4, "empty": 0, "skipped": 0, "failed": 1, "pending": 0}
    assert view.overall_progress == 1.0
    assert view.notice == "5 files: 4 done, 0 empty, 0 skipped, 1 failed"
    names = sorted(name for _, name in per_file_lines(view.log_tail))
    assert names == sorted(f.name for f in view.files) == [
        "AlbumA/track00.mp3", "AlbumA/track01.mp3", "AlbumB/track00.m4a", "AlbumB/track01.m4a",
        "AlbumC/track00.mp3",
    ]
    failed = [f for f in view.files if f.status == "failed"]
    assert [f.name for f in failed] == ["AlbumC/track00.mp3"] and "decode" in failed[0].reason
    assert len(assert_no_partial_output(out)) == 4
    assert all(f.duration_s > 9 for f in view.files if f.status == "done")
    assert (inputs / "AlbumA").stat().st_mtime > OLD_MTIME
    assert (inputs / "AlbumB").stat().st_mtime > OLD_MTIME
    assert (inputs / "AlbumC").stat().st_mtime == OLD_MTIME  # nothing was written for it
    assert wait_for(lambda: is_gone(worker_pid), bool, "the worker to exit")


def test_kill_9_mid_batch_is_recorded_as_failed_leaves_no_partial_file_and_resume_does_only_the_rest(
    tmp_path, tiny_models
):
    inputs, out, data = tmp_path / "in", tmp_path / "out", tmp_path / "data"
    copies(inputs / "Album", DATA / "speech.mp3", 8)
    pid = start_job(spec_for(tiny_models, inputs, out, batch_size=1), data)  # one file per call: a kill between
    wait_for(lambda: poll(data), lambda v: finished(v) or (v.counts["done"] >= 2 and v.stage in WORKING),
             "a file in progress after two finished ones")
    os.kill(pid, signal.SIGKILL)
    stray = out / "Album" / ".track07.srt.tmp-0badc0de"  # what a write cut short by the kill leaves
    stray.write_text("1\n00:00:00,240 --> 00:00", encoding="utf-8")

    crashed = wait_for(lambda: poll(data), finished, "the crash to be noticed")
    assert crashed.status is JobStatus.FAILED
    assert f"the worker (pid {pid}) stopped unexpectedly" in crashed.notice
    if "was interrupted" in crashed.notice:  # a file was in progress: its folder is cleaned at once
        assert not stray.exists()
    assert_no_partial_output(out, planted=stray)
    done_before = {f.name: f.outputs for f in crashed.files if f.status == "done"}
    assert 2 <= len(done_before) < 8
    stamps = {path: Path(path).stat().st_mtime_ns for outputs in done_before.values() for path in outputs}
    log_before = JobPaths(data).log.read_text(encoding="utf-8")

    resume_job(data)
    resumed = wait_for(lambda: poll(data), finished, "the resumed job to finish")
    assert resumed.status is JobStatus.DONE
    # The file cut short may already have had all its subtitles written (atomically) when it was killed: the
    # resumed run then finds them and skips it.
    assert resumed.counts["done"] + resumed.counts["skipped"] == 8
    assert resumed.counts["skipped"] <= 1
    log_after = JobPaths(data).log.read_text(encoding="utf-8")[len(log_before):]
    redone = [name for _, name in per_file_lines(log_after)]
    assert sorted(redone) == sorted(f"Album/track{i:02d}.mp3" for i in range(8) if f"Album/track{i:02d}.mp3"
                                    not in done_before)
    assert {path: Path(path).stat().st_mtime_ns for path in stamps} == stamps  # finished files were not redone
    assert not stray.exists()
    assert len(assert_no_partial_output(out)) == 8


def test_cancel_mid_file_kills_every_process_of_the_group(tmp_path, tiny_models):
    inputs, out, data = tmp_path / "in", tmp_path / "out", tmp_path / "data"
    copies(inputs / "Album", DATA / "speech.mp3", 8)
    pid = start_job(spec_for(tiny_models, inputs, out, batch_size=1), data)
    view = wait_for(
        lambda: poll(data),
        lambda v: finished(v) or (v.counts["done"] >= 1 and v.stage in WORKING),
        "a file in progress after the first one",
    )
    assert view.status is JobStatus.RUNNING
    members = group_members(pid)
    assert pid in members

    assert cancel_job(data, timeout_s=5.0) is True

    assert [p for p in members if not is_gone(p)] == []
    assert group_members(pid) == []
    cancelled = poll(data)
    assert cancelled.status is JobStatus.CANCELLED
    assert cancelled.notice.startswith("cancelled;")
    assert cancelled.counts["pending"] >= 1
    assert_no_partial_output(out)


def test_headless_cli_records_the_same_job_state_and_skips_existing_subtitles(tmp_path):
    inputs, out, data = tmp_path / "in", tmp_path / "out", tmp_path / "data"
    for source in copies(inputs / "Album", DATA / "speech.mp3", 2):
        for ext in (".srt", ".lrc"):
            target = out / "Album" / source.with_suffix(ext).name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text("kept", encoding="utf-8")

    run = python("-m", "worker", str(inputs), "-o", str(out), "--data-dir", str(data))

    assert run.returncode == 0, run.stderr
    assert run.stdout.splitlines() == ["skipped Album/track00.mp3: subtitles exist",
                                       "skipped Album/track01.mp3: subtitles exist"]
    view = read_job(data)
    assert view.status is JobStatus.DONE
    assert view.counts["skipped"] == 2
    assert view.spec is not None and view.spec.inputs == (str(inputs),)
    assert [status for status, _ in per_file_lines(view.log_tail)] == ["skipped", "skipped"]
    assert all(p.read_text(encoding="utf-8") == "kept" for p in out.rglob("*.*"))

    lock = FileLock(JobPaths(data).worker_lock)
    with lock:
        busy = python("-m", "worker", str(inputs), "-o", str(out), "--data-dir", str(data))
    assert busy.returncode == 3
    assert "already running" in busy.stderr


def test_hand_damaged_state_is_reported_and_the_next_job_starts_clean(tmp_path):
    inputs, out, data = tmp_path / "in", tmp_path / "out", tmp_path / "data"
    data.mkdir()
    JobPaths(data).state.write_text('{"schema_version": 1, "job_id": "abc", "status": "runn', encoding="utf-8")

    status = python("-m", "worker", "--status", "--data-dir", str(data))
    assert status.returncode == 0, status.stderr
    assert "damaged" in status.stdout and "no job" in status.stdout
    assert JobPaths(data).state_backup.exists()

    copies(inputs, DATA / "speech.mp3", 1)
    (out / "track00.srt").parent.mkdir(parents=True)
    (out / "track00.srt").write_text("kept", encoding="utf-8")
    (out / "track00.lrc").write_text("kept", encoding="utf-8")
    JobPaths(data).state.write_text("{", encoding="utf-8")
    run = python("-m", "worker", str(inputs), "-o", str(out), "--data-dir", str(data))
    assert run.returncode == 0, run.stderr
    assert "damaged" in run.stderr
    assert read_job(data).status is JobStatus.DONE
