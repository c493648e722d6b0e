"""Launcher pieces that need no model: locks, clearing, app start, killing a real process group, and the
Windows argument wiring (checked with mocks only: this machine cannot run Windows)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from unittest import mock

import pytest
from filelock import FileLock

from worker import launcher, procs
from worker.jobfiles import JobPaths, append_log
from worker.jobstate import JobHead, JobStatus, load_head, save_head
from worker.launcher import JobAlreadyRunning, NothingToRun, cancel_job, clear_job, on_app_start, resume_job
from worker.leftovers import remove_partial_outputs
from worker.protocol import read_job

NOW = 1_700_000_000.0


def write_running(paths: JobPaths, pid: int = 4242) -> None:
    save_head(
        paths.state,
        JobHead(
            job_id="job1", status=JobStatus.RUNNING, started_at=NOW, updated_at=NOW, pid=pid, pgid=pid, total_files=10
        ),
    )
    append_log(paths.log, "job job1 started: 10 file(s)")


@pytest.fixture
def paths(tmp_path: Path) -> JobPaths:
    data = JobPaths(tmp_path / "data")
    data.data_dir.mkdir()
    return data


@pytest.fixture
def held_lock(paths: JobPaths):
    lock = FileLock(paths.worker_lock)
    lock.acquire()
    yield lock
    lock.release()


def test_clear_refuses_while_a_job_runs_and_says_which(paths, held_lock):
    write_running(paths)
    with pytest.raises(JobAlreadyRunning, match=r"already running \(job job1, pid 4242, started .*0/10 files"):
        clear_job(paths.data_dir)
    assert paths.state.exists() and paths.log.exists()


def test_clear_removes_state_journal_spec_and_log(paths):
    write_running(paths)
    paths.spec.write_text("{}")
    paths.journal.write_text("{}\n")
    clear_job(paths.data_dir)
    assert sorted(p.name for p in paths.data_dir.iterdir() if not p.name.endswith(".lock")) == []


@pytest.mark.parametrize("clear", [True, False])
def test_app_start_settles_a_job_that_died_with_the_container_then_clears_it_if_preferred(paths, clear):
    write_running(paths)
    on_app_start(paths.data_dir, clear=clear)
    if clear:
        assert not paths.state.exists() and not paths.log.exists()
    else:
        assert load_head(paths.state).status is JobStatus.FAILED
        assert "stopped unexpectedly" in paths.log.read_text(encoding="utf-8")


def test_app_start_never_clears_a_job_whose_worker_survived_the_ui_restart(paths, held_lock):
    write_running(paths)
    on_app_start(paths.data_dir, clear=True)
    assert load_head(paths.state).status is JobStatus.RUNNING


def test_cancel_without_a_running_job_does_nothing(paths):
    assert cancel_job(paths.data_dir) is False
    save_head(paths.state, JobHead(job_id="j", status=JobStatus.DONE, started_at=NOW, updated_at=NOW))
    assert cancel_job(paths.data_dir) is False
    assert load_head(paths.state).status is JobStatus.DONE


def test_resume_and_retry_without_an_earlier_job_say_so(paths):
    with pytest.raises(NothingToRun, match="no earlier job"):
        resume_job(paths.data_dir)
    with pytest.raises(NothingToRun, match="no failed file"):
        launcher.retry_failed(paths.data_dir)


def start_group_with_child() -> subprocess.Popen:
    """A session leader with one child process, like a worker with vLLM's EngineCore."""
    script = "import subprocess, time; subprocess.Popen(['sleep', '60']); time.sleep(60)"
    return subprocess.Popen([sys.executable, "-c", script], start_new_session=True)


def members_once_both_started(pgid: int) -> list[int]:
    members: list[int] = []
    for _ in range(200):
        members = procs.group_members(pgid)
        if len(members) == 2:
            break
        procs.time.sleep(0.05)
    return members


def test_killing_a_process_group_reaches_every_member_including_grandchildren():
    leader = start_group_with_child()
    try:
        members = members_once_both_started(leader.pid)
        assert len(members) == 2 and leader.pid in members
        targeted = procs.kill_job(leader.pid, leader.pid)
        assert sorted(targeted) == sorted(members)
        assert procs.wait_gone(targeted, leader.pid, timeout_s=10)
        assert all(procs.is_gone(pid) for pid in members)
        assert procs.group_members(leader.pid) == []
    finally:
        leader.kill()
        leader.wait()


def test_only_the_recognisable_temp_names_are_removed(tmp_path):
    temps = [tmp_path / ".song.srt.tmp-0a1b2c3d", tmp_path / ".歌 song.lrc.tmp-ffff0000"]
    kept = [
        tmp_path / "song.srt",
        tmp_path / ".song.srt",
        tmp_path / "song.srt.tmp-0a1b2c3d",
        tmp_path / ".song.tmp-0a1b2c3d",
        tmp_path / ".song.srt.tmp-not-hex",
    ]
    for path in temps + kept:
        path.write_text("x", encoding="utf-8")
    assert sorted(remove_partial_outputs([tmp_path, tmp_path])) == sorted(temps)
    assert all(path.exists() for path in kept)


def test_worker_starts_in_its_own_session_on_posix():
    assert launcher.popen_options("linux") == {"start_new_session": True}
    command = launcher.worker_command(JobPaths(Path("data")), resume=True)
    assert command[1:3] == ["-m", "worker"]
    assert command[-3:] == ["data", "--detached", "--resume"]


def test_windows_detach_flags_wiring_only_mocked():
    flags = launcher.popen_options("win32")["creationflags"]
    create_new_process_group, detached_process = 0x00000200, 0x00000008
    assert flags == create_new_process_group | detached_process


def test_windows_cancel_runs_taskkill_on_the_tree_wiring_only_mocked():
    with mock.patch.object(procs.subprocess, "run", return_value=subprocess.CompletedProcess([], 0, b"", b"")) as run:
        assert procs.kill_job(1234, None, platform="win32") == []
    run.assert_called_once_with(["taskkill", "/PID", "1234", "/T", "/F"], capture_output=True, check=False)


def test_the_ui_side_imports_no_model_code():
    probe = ("import sys, worker.protocol, worker.launcher; "
             "print(sorted(m for m in ('numpy', 'torch', 'gradio', 'asr_core', 'qwen_asr') if m in sys.modules))")
    run = subprocess.run([sys.executable, "-c", probe], cwd=Path(__file__).resolve().parents[2], capture_output=True,
                         text=True, check=True)
    assert run.stdout.strip() == "[]"


def test_a_crashed_worker_s_leftover_children_are_stopped_when_the_crash_is_recorded(paths):
    """Like a vLLM EngineCore whose parent was OOM-killed: it would keep the GPU memory."""
    leader = start_group_with_child()
    try:
        members = members_once_both_started(leader.pid)
        (child,) = set(members) - {leader.pid}
        write_running(paths, pid=leader.pid)
        leader.kill()
        leader.wait()
        assert not procs.is_gone(child)
        assert read_job(paths.data_dir).status is JobStatus.FAILED
        assert procs.is_gone(child)
    finally:
        leader.kill()
        leader.wait()
