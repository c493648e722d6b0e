"""Settling a job whose worker is gone while its state still says it is working.

A worker killed by ``kill -9`` or the OOM killer cannot record its own end, so whichever process looks
next (a UI poll, the CLI, the launcher) does it once, under the control lock, and every reader then
sees the same final state.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from pathlib import Path

from worker.jobfiles import DamagedFile, JobPaths, append_log, tail_lines
from worker.joblock import control, is_held_elsewhere
from worker.jobstate import ACTIVE_STATUSES, JobHead, JobStatus, load_head, save_head
from worker.leftovers import remove_partial_outputs

logger = logging.getLogger(__name__)

MAX_DETAIL_CHARS = 300


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

    Call with the control lock held. The temp file of a subtitle being written when the worker died is
    removed, so no partial output survives.
    """
    if head.current is not None:
        remove_partial_outputs([Path(head.current.output_base).parent])
    unprocessed = max(0, head.total_files - head.tally.files)
    if paths.cancel_marker.exists() or head.status is JobStatus.CANCELLING:
        status, notice = JobStatus.CANCELLED, f"cancelled; {unprocessed} file(s) not processed"
    else:
        status, notice = JobStatus.FAILED, f"{stopped_reason(paths, head)}; {unprocessed} file(s) not processed"
    settled = replace(head, status=status, notice=notice, finished_at=now, updated_at=now, current=None)
    save_head(paths.state, settled)
    append_log(paths.log, f"job {status.value}: {notice}", now=now)
    paths.cancel_marker.unlink(missing_ok=True)
    logger.info("job %s settled as %s: %s", head.job_id, status.value, notice)
    return settled


def stopped_reason(paths: JobPaths, head: JobHead) -> str:
    """Why the worker is gone, quoting the last thing it printed on stderr when there is one."""
    who = f"the worker (pid {head.pid})" if head.pid else "the worker"
    detail = tail_lines(paths.worker_stderr, 1).strip()[:MAX_DETAIL_CHARS]
    if detail:
        return f"{who} stopped unexpectedly: {detail}"
    return f"{who} stopped unexpectedly (killed, or out of memory)"
