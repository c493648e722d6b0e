"""Start, cancel, resume and clear jobs from the UI (stdlib + filelock: no models in the UI process).

The worker runs as ``python -m worker --job-spec … --detached`` in its own session (POSIX) or detached
process group (Windows), so closing the browser or restarting the UI does not stop it. Cancel kills the
whole group, vLLM's EngineCore children included, which is also what frees the GPU memory.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import threading
import time
from dataclasses import replace
from pathlib import Path

import worker
from worker.jobfiles import DamagedFile, JobPaths, atomic_write_text, dump_json, remove_files, set_aside
from worker.joblock import JobAlreadyRunning, control
from worker.jobstate import FINAL_STATUSES, JobHead, JobStatus, load_head, save_head
from worker.procs import kill_job, wait_gone
from worker.protocol import JobSpec, read_job, read_spec
from worker.reconcile import settle_stopped_job, worker_alive

__all__ = [
    "JobAlreadyRunning", "NothingToRun", "cancel_job", "clear_job", "on_app_start", "resume_job",
    "retry_failed", "start_job",
]

logger = logging.getLogger(__name__)

WORKER_CLAIM_TIMEOUT_S = 60.0
CLAIM_POLL_S = 0.05
# Windows flags: CREATE_NEW_PROCESS_GROUP | DETACHED_PROCESS (spelled out: the constants exist only there).
WINDOWS_DETACHED_FLAGS = 0x00000200 | 0x00000008
PROJECT_ROOT = Path(worker.__file__).resolve().parent.parent


class NothingToRun(LookupError):
    """Resume or retry was asked for, but there is no earlier job (or no failed file) to run again."""


def start_job(spec: JobSpec, data_dir: Path) -> int:
    """Start ``spec`` as a detached worker and return its pid; raises JobAlreadyRunning."""
    return _launch(spec.with_absolute_paths(), JobPaths(Path(data_dir)), resume=False)


def resume_job(data_dir: Path) -> int:
    """Run the last job again; files it already finished (subtitles still present) are not redone."""
    paths = JobPaths(Path(data_dir))
    spec = read_spec(paths)
    if spec is None:
        raise NothingToRun("there is no earlier job to resume")
    return _launch(spec, paths, resume=True)


def retry_failed(data_dir: Path) -> int:
    """Run only the files of the last job that failed, overwriting whatever they left."""
    view = read_job(Path(data_dir))
    failed = tuple(entry.source for entry in view.files if entry.status == "failed")
    if view.spec is None or not failed:
        raise NothingToRun("the last job has no failed file to retry")
    return _launch(replace(view.spec, only_sources=failed, overwrite=True), JobPaths(Path(data_dir)), resume=False)


def cancel_job(data_dir: Path, *, timeout_s: float = 5.0, clear: bool = False) -> bool:
    """Stop the current and remaining files at once; True when every process of the job is gone.

    ``clear`` then removes the job's state and log (the user's "clear on cancel" preference).
    """
    paths = JobPaths(Path(data_dir))
    with control(paths.control_lock) as held:
        if not held:
            logger.error("cancel: a job start is still in progress")
            return False
        head = _current_head(paths)
        if head is None or head.status in FINAL_STATUSES:
            return False
        paths.cancel_marker.touch()
        targeted: list[int] = []
        if worker_alive(paths) and head.pid:
            targeted = kill_job(head.pid, head.pgid)
        if not (wait_gone(targeted, head.pgid, timeout_s) and _lock_released(paths, timeout_s)):
            return False
        settle_stopped_job(paths, _current_head(paths) or head, now=time.time())
    if clear:
        clear_job(paths.data_dir)
    return True


def clear_job(data_dir: Path) -> None:
    """Remove the job's state, journal, spec and log; refused while a job runs."""
    paths = JobPaths(Path(data_dir))
    with control(paths.control_lock) as held:
        if not held or worker_alive(paths):
            raise JobAlreadyRunning.describe(paths)
        remove_files(paths.job_files())


def on_app_start(data_dir: Path, clear: bool) -> None:
    """Called once when the UI starts. A worker that survived a UI restart keeps running and keeps its state.

    Otherwise a job whose worker died with the container is first recorded as failed, then its state and
    log are cleared when the user prefers (``clear``).
    """
    read_job(Path(data_dir))  # settles a job whose worker is gone
    if clear:
        try:
            clear_job(Path(data_dir))
        except JobAlreadyRunning:
            logger.info("a job is still running; its state is kept")


def popen_options(platform: str = sys.platform) -> dict:
    """How to detach the worker from the UI process on this platform."""
    if platform == "win32":
        return {"creationflags": WINDOWS_DETACHED_FLAGS}
    return {"start_new_session": True}


def worker_command(paths: JobPaths, *, resume: bool) -> list[str]:
    command = [sys.executable, "-m", "worker", "--job-spec", str(paths.spec), "--data-dir", str(paths.data_dir),
               "--detached"]
    return [*command, "--resume"] if resume else command


def _launch(spec: JobSpec, paths: JobPaths, *, resume: bool) -> int:
    paths.data_dir.mkdir(parents=True, exist_ok=True)
    with control(paths.control_lock) as held:
        if not held or worker_alive(paths):
            raise JobAlreadyRunning.describe(paths)
        previous = _current_head(paths)
        if previous is not None and previous.status not in FINAL_STATUSES:
            settle_stopped_job(paths, previous, now=time.time())  # record the crash before replacing it
        atomic_write_text(paths.spec, dump_json(spec.to_dict()))
        paths.cancel_marker.unlink(missing_ok=True)
        now = time.time()
        queued = JobHead(job_id="starting", status=JobStatus.QUEUED, started_at=now, updated_at=now)
        save_head(paths.state, queued)
        try:
            process = _spawn(paths, resume=resume)
        except OSError as exc:
            save_head(paths.state, replace(queued, status=JobStatus.FAILED, finished_at=time.time(),
                                           notice=f"the worker could not be started: {exc}"))
            raise
        save_head(paths.state, replace(queued, pid=process.pid, pgid=process.pid if os.name == "posix" else None))
        threading.Thread(target=process.wait, name=f"reap-worker-{process.pid}", daemon=True).start()
        _wait_for_claim(paths, process)
        return process.pid


def _spawn(paths: JobPaths, *, resume: bool) -> subprocess.Popen[bytes]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(PROJECT_ROOT), env.get("PYTHONPATH")]))
    with open(paths.worker_stderr, "wb") as stderr:
        return subprocess.Popen(
            worker_command(paths, resume=resume), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=stderr, env=env, **popen_options(),
        )


def _wait_for_claim(paths: JobPaths, process: subprocess.Popen[bytes]) -> None:
    """Keep other starts out until the worker holds the job lock (or has already exited)."""
    deadline = time.monotonic() + WORKER_CLAIM_TIMEOUT_S
    while process.poll() is None and not worker_alive(paths) and time.monotonic() < deadline:
        time.sleep(CLAIM_POLL_S)
    head = _current_head(paths)
    if head is not None and head.status is JobStatus.QUEUED and not worker_alive(paths) and process.poll() is not None:
        settle_stopped_job(paths, head, now=time.time())


def _lock_released(paths: JobPaths, timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while worker_alive(paths):
        if time.monotonic() >= deadline:
            return False
        time.sleep(CLAIM_POLL_S)
    return True


def _current_head(paths: JobPaths) -> JobHead | None:
    """The state as recorded; a damaged file is set aside (a new job starts clean)."""
    try:
        return load_head(paths.state)
    except DamagedFile as exc:
        logger.warning("%s; moving it aside", exc)
        set_aside(paths.state, paths.state_backup)
        return None
