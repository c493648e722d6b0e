"""The CLI's side of a job: run it in this process, print one line per file, and turn the result into an
exit status."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TextIO

from worker.joblock import JobAlreadyRunning
from worker.jobstate import JobStatus
from worker.protocol import JobSpec, JobView, read_job

EXIT_OK, EXIT_FAILURES, EXIT_BUSY = 0, 1, 3  # 2 (bad usage) is argparse's own
EXIT_INTERRUPTED = 130  # the shell's convention for Ctrl-C


def run_cli_job(
    spec: JobSpec, data_dir: Path, *, ffmpeg: str | None, resume: bool = False, detached: bool = False
) -> int:
    """0 when no file failed, 1 when some did (or the job could not run), 3 when another job is running."""
    from worker.job import run_job

    if not detached:  # (the launcher has already done this for its worker)
        previous = read_job(data_dir)  # settles a job whose worker died; sets a damaged state file aside
        if previous.status is None:
            report_notice(previous, sys.stderr)
    echo = None if detached else (lambda line: print(line, flush=True))
    try:
        head = run_job(spec, data_dir, ffmpeg=ffmpeg, resume=resume, detached=detached, echo=echo)
    except JobAlreadyRunning as exc:
        print(f"not started: {exc}", file=sys.stderr)
        return EXIT_BUSY
    except KeyboardInterrupt:
        print("interrupted; the job is recorded as cancelled (--resume continues it)", file=sys.stderr)
        return EXIT_INTERRUPTED
    print(head.notice, file=sys.stderr)
    if head.status is not JobStatus.DONE:
        return EXIT_FAILURES
    return EXIT_FAILURES if head.counts["failed"] else EXIT_OK


def report_notice(view: JobView, stream: TextIO) -> None:
    if view.notice:
        print(f"note: {view.notice}", file=stream)


def print_status(view: JobView, stream: TextIO) -> None:
    """``--status``: the last job in a few lines, for scripts and cron mails."""
    if view.status is None:
        report_notice(view, stream)
        print("no job", file=stream)
        return
    counts = ", ".join(f"{n} {name}" for name, n in view.counts.items())
    print(f"{view.status.value}: {view.total_files} files ({counts}), {view.overall_progress:.0%}", file=stream)
    if view.status is not JobStatus.DONE:
        report_notice(view, stream)
    if view.current_file:
        print(f"current: {view.current_file}{view.shared_note} ({view.stage}, {view.file_progress:.0%})", file=stream)
