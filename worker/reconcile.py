"""Settling a job whose worker is gone while its state still says it is working.

A worker killed by ``kill -9`` or the OOM killer cannot record its own end, so whichever process looks
next (a UI poll, the CLI, the launcher) does it once, under the control lock, and every reader then
sees the same final state.
"""

from __future__ import annotations

import logging
import os
from dataclasses import replace
from pathlib import Path

from worker.jobfiles import DamagedFile, JobPaths, append_log, tail_lines
from worker.joblock import control, is_held_elsewhere
from worker.jobstate import ACTIVE_STATUSES, JobHead, JobStatus, load_head, save_head
from worker.leftovers import remove_partial_outputs
from worker.procs import group_members, kill_job, wait_gone

logger = logging.getLogger(__name__)

MAX_DETAIL_CHARS = 300
LEFTOVER_WAIT_S = 5.0


def worker_alive(paths: JobPaths) -> bool:
    """True while a worker holds the job lock; the OS frees the lock when the worker dies, however it dies."""
    return is_held_elsewhere(paths.worker_lock)


def reconcile(paths: JobPaths, head: JobHead, *, now: float) -> JobHead:
    """``head`` unchanged while its worker lives or a start/cancel is under way; otherwise the settled state."""
    if head.status not in ACTIVE_STATUSES or worker_alive(paths):
        return head
    with control(paths.control_lock, timeout_s=0) as held:
        if not held:
            return head
        try:
            fresh = load_head(paths.state)
        except DamagedFile:
            return head
        if fresh is None or fresh.status not in ACTIVE_STATUSES or worker_alive(paths):
            return fresh or head
        return settle_stopped_job(paths, fresh, now=now)


def settle_stopped_job(paths: JobPaths, head: JobHead, *, now: float) -> JobHead:
    """Record the end of a job whose worker is gone: cancelled when a cancel was asked for, failed otherwise.

    Call with the control lock held. Processes the worker left behind are stopped, and the temp file of a
    subtitle being written when it died is removed, so no partial output survives.
    """
    stop_leftover_processes(head)
    unprocessed = f"{max(0, head.total_files - head.tally.files)} file(s) not processed"
    if head.current is not None:
        remove_partial_outputs([Path(head.current.output_base).parent])
        unprocessed += f", {head.current.name} was interrupted"
    if paths.cancel_marker.exists() or head.status is JobStatus.CANCELLING:
        status, notice = JobStatus.CANCELLED, f"cancelled; {unprocessed}"
    else:
        status, notice = JobStatus.FAILED, f"{stopped_reason(paths, head)}; {unprocessed}"
    settled = replace(head, status=status, notice=notice, finished_at=now, updated_at=now, current=None, ahead=None)
    save_head(paths.state, settled)
    append_log(paths.log, f"job {status.value}: {notice}", now=now)
    paths.cancel_marker.unlink(missing_ok=True)
    logger.info("job %s settled as %s: %s", head.job_id, status.value, notice)
    return settled


def stop_leftover_processes(head: JobHead) -> None:
    """Kill what is left of a dead worker's process group: a vLLM EngineCore whose parent was OOM-killed keeps
    its GPU memory until it is stopped, and the next job could not load its model."""
    if head.pgid is None or os.name != "posix":
        return
    leftovers = group_members(head.pgid)
    if leftovers:
        logger.warning("stopping %d leftover process(es) of the dead worker: %s", len(leftovers), leftovers)
        wait_gone(kill_job(head.pid or head.pgid, head.pgid), head.pgid, LEFTOVER_WAIT_S)


def stopped_reason(paths: JobPaths, head: JobHead) -> str:
    """Why the worker is gone, quoting the last thing it printed on stderr when there is one."""
    who = f"the worker (pid {head.pid})" if head.pid else "the worker"
    detail = tail_lines(paths.worker_stderr, 1).strip()[:MAX_DETAIL_CHARS]
    if detail:
        return f"{who} stopped unexpectedly: {detail}"
    return f"{who} stopped unexpectedly (killed, or out of memory)"
