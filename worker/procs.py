"""Finding, killing and waiting for the processes of a job, including children such as vLLM's EngineCore.

On Linux, membership is read from ``/proc`` so that every pid can be checked, and a zombie (dead but not
yet reaped by its parent) counts as gone: it holds no memory and no GPU. Windows has no process groups
in this sense; there the whole tree is killed with ``taskkill /T /F``.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterable
from pathlib import Path

logger = logging.getLogger(__name__)

PROC = Path("/proc")
POLL_S = 0.05


def own_process_group() -> int | None:
    """This process's group when it leads it, so that killing the group kills only the job; else None."""
    if not hasattr(os, "getpgid"):
        return None
    pgid = os.getpgid(0)
    return pgid if pgid == os.getpid() else None


def _stat_fields(pid: int) -> list[str] | None:
    """``state ppid pgrp …`` from ``/proc/<pid>/stat`` (the command name, which may hold spaces, is cut off)."""
    try:
        text = (PROC / str(pid) / "stat").read_text(errors="replace")
    except OSError:
        return None
    return text[text.rfind(")") + 2 :].split()


def _live_processes() -> Iterable[tuple[int, list[str]]]:
    for entry in os.scandir(PROC):
        if entry.name.isdigit():
            fields = _stat_fields(int(entry.name))
            if fields and fields[0] != "Z":
                yield int(entry.name), fields


def is_gone(pid: int) -> bool:
    """True when ``pid`` no longer runs (a zombie counts as gone). POSIX only."""
    if PROC.is_dir():
        fields = _stat_fields(pid)
        return fields is None or fields[0] in ("Z", "X")
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def group_members(pgid: int) -> list[int]:
    """Every live pid of process group ``pgid``."""
    if PROC.is_dir():
        return [pid for pid, fields in _live_processes() if int(fields[2]) == pgid]
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return []
    except PermissionError:
        pass
    return [pgid]


def tree_members(pid: int) -> list[int]:
    """``pid`` and its live descendants (for a job that does not lead its own process group)."""
    if not PROC.is_dir():
        return [pid]
    children: dict[int, list[int]] = {}
    for child, fields in _live_processes():
        children.setdefault(int(fields[1]), []).append(child)
    found, pending = [], [pid]
    while pending:
        current = pending.pop()
        found.append(current)
        pending.extend(children.get(current, ()))
    return found


def taskkill_command(pid: int) -> list[str]:
    return ["taskkill", "/PID", str(pid), "/T", "/F"]


def kill_job(pid: int, pgid: int | None, *, platform: str = sys.platform) -> list[int]:
    """Kill the job's processes at once (SIGKILL: a model mid-inference does not answer SIGTERM quickly)
    and return the pids that were targeted, for :func:`wait_gone`.

    ``taskkill /T /F`` returns once the tree is terminated, so on Windows there is nothing left to poll;
    the caller still waits for the job lock to be released.
    """
    if platform == "win32":
        completed = subprocess.run(taskkill_command(pid), capture_output=True, check=False)
        if completed.returncode != 0:
            logger.warning("taskkill %s: %s", pid, completed.stderr.decode(errors="replace").strip())
        return []
    if pgid is not None:
        members = group_members(pgid)
        _ignore_missing(lambda: os.killpg(pgid, signal.SIGKILL))
        return members
    members = tree_members(pid)
    for member in members:
        _ignore_missing(lambda m=member: os.kill(m, signal.SIGKILL))
    return members


def wait_gone(pids: Iterable[int], pgid: int | None, timeout_s: float) -> bool:
    """Wait until every pid (and, on Linux, every member of ``pgid``) is gone; False on timeout."""
    deadline = time.monotonic() + timeout_s
    remaining = list(pids)
    while True:
        remaining = [pid for pid in remaining if not is_gone(pid)]
        if not remaining and (pgid is None or not PROC.is_dir() or not group_members(pgid)):
            return True
        if time.monotonic() >= deadline:
            logger.error("processes still alive after %.1f s: %s", timeout_s, remaining or group_members(pgid or 0))
            return False
        time.sleep(POLL_S)


def _ignore_missing(kill: Callable[[], None]) -> None:
    with contextlib.suppress(ProcessLookupError):
        kill()
