"""The job contract shared by the worker and the WebUI: what a batch is, and what every poller sees.

Stdlib only (plus the small pure-Python ``filelock``), so the UI can import it without torch or models.
The worker writes ``job_spec.json``, ``job_state.json``, ``job_files.jsonl`` and ``job.log`` under the
data folder; :func:`read_job` turns them into a :class:`JobView` and never raises for missing or damaged
files.
"""

from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass, field, fields, replace
from pathlib import Path

from worker.jobfiles import DamagedFile, JobPaths, read_json_object, set_aside, tail_lines
from worker.jobstate import (
    ACTIVE_STATUSES,
    COUNTED_STATUSES,
    FINAL_STATUSES,
    SCHEMA_VERSION,
    JobHead,
    JobStatus,
    load_head,
)
from worker.journal import FileEntry, JournalReader
from worker.progress import MODEL_STAGES, RUNNING_CAP, RunningFile, file_progress, overall_progress
from worker.reconcile import reconcile

__all__ = ["FINAL_STATUSES", "SCHEMA_VERSION", "FileEntry", "JobSpec", "JobStatus", "JobView", "read_job"]

logger = logging.getLogger(__name__)

DAMAGED_NOTICE = "the job state file was damaged (moved to job_state.json.bak); starting clean"
FLASH_STAGE = "done"
_TUPLE_FIELDS = ("inputs", "formats", "extensions", "only_sources")
_DICT_FIELDS = ("model", "vad", "cues", "writer")
# Pollers re-read only what was appended to the journal since their last look (see worker.journal).
_JOURNALS = JournalReader()


@dataclass(frozen=True)
class JobSpec:
    """Everything needed to run, and later re-run (resume, retry failed), a batch."""

    inputs: tuple[str, ...]
    output_dir: str | None
    formats: tuple[str, ...]
    overwrite: bool = False
    touch_album_root: bool = False
    include_subfolders: bool = True
    extensions: tuple[str, ...] = ()
    model: dict = field(default_factory=dict)
    vad: dict = field(default_factory=dict)
    cues: dict = field(default_factory=dict)
    writer: dict = field(default_factory=dict)  # keyword args of asr_core.options.WriterOptions
    only_sources: tuple[str, ...] = ()

    def to_dict(self) -> dict:
        return {f.name: list(v) if isinstance(v := getattr(self, f.name), tuple) else v for f in fields(self)}

    @classmethod
    def from_dict(cls, data: dict) -> JobSpec:
        """Unknown keys are ignored (a newer UI may add some); raises ValueError for a spec that cannot run."""
        if not isinstance(data, dict):
            raise ValueError("a job spec must be a JSON object")
        known = {f.name for f in fields(cls)}
        values = {k: v for k, v in data.items() if k in known}
        for name in ("inputs", "formats"):
            if name not in values:
                raise ValueError(f"the job spec has no {name!r}")
        for name in _TUPLE_FIELDS:
            if name in values:
                items = values[name]
                if isinstance(items, str) or not all(isinstance(i, str) for i in items):
                    raise ValueError(f"{name!r} must be a list of strings")
                values[name] = tuple(items)
        for name in _DICT_FIELDS:
            if not isinstance(values.get(name, {}), dict):
                raise ValueError(f"{name!r} must be an object")
        if not values["inputs"]:
            raise ValueError("the job spec lists no input")
        if values.get("output_dir") is not None and not isinstance(values["output_dir"], str):
            raise ValueError("'output_dir' must be a string or null")
        return cls(**values)

    def with_absolute_paths(self) -> JobSpec:
        """The same spec with absolute inputs and output folder, so a later resume from another working
        directory (the CLI, a restarted UI) finds the same files."""
        absolute = os.path.abspath
        return replace(
            self,
            inputs=tuple(absolute(p) for p in self.inputs),
            output_dir=None if self.output_dir is None else absolute(self.output_dir),
            only_sources=tuple(absolute(p) for p in self.only_sources),
        )


@dataclass(frozen=True)
class JobView:
    """What any poller (UI timer, CLI) sees."""

    status: JobStatus | None  # None: no job has run, or its state was cleared
    notice: str
    total_files: int
    counts: dict[str, int]  # done / empty / skipped / failed / pending
    current_file: str | None
    stage: str | None  # decoding | vad | recognising | aligning | writing, or "done" during the 100% flash
    file_progress: float
    overall_progress: float
    files: tuple[FileEntry, ...]
    log_tail: str
    started_at: float | None
    updated_at: float | None
    finished_at: float | None
    pid: int | None
    spec: JobSpec | None
    shared_with: int = 0  # later files the model recognises in the same call as the current file

    @property
    def shared_note(self) -> str:
        """Added to the current file's name while its shared call runs: " and 3 more files (recognised together)"."""
        if not self.shared_with or self.stage not in MODEL_STAGES:
            return ""
        return f" and {self.shared_with} more file{'s' if self.shared_with != 1 else ''} (recognised together)"


def read_job(
    data_dir: Path,
    *,
    now: float | None = None,
    log_lines: int = 200,
    rtf: float = 0.18,
    done_flash_s: float = 2.0,
) -> JobView:
    """The job as it stands; a job whose worker died is marked failed here (once, for every reader)."""
    paths = JobPaths(Path(data_dir))
    now = time.time() if now is None else now
    log_tail = _safe_tail(paths, log_lines)
    try:
        head = load_head(paths.state)
    except DamagedFile as exc:
        logger.warning("%s; moving it aside", exc)
        set_aside(paths.state, paths.state_backup)
        return _empty_view(DAMAGED_NOTICE, log_tail)
    except OSError as exc:
        return _empty_view(f"the job state cannot be read ({exc.strerror or exc})", log_tail)
    if head is None:
        return _empty_view("", log_tail)
    head = reconcile(paths, head, now=now)
    files = _file_entries(paths, head)
    # The state's counters, not a pass over the journal: a poll must not cost more for a bigger batch.
    counts = {**{k: head.counts.get(k, 0) for k in COUNTED_STATUSES}, "pending": 0}
    counts["pending"] = max(0, head.total_files - sum(counts.values()))
    status, notice = head.status, head.notice
    if status is JobStatus.RUNNING and paths.cancel_marker.exists():
        status, notice = JobStatus.CANCELLING, "cancelling…"
    running = _running_file(head, status, now, rtf)
    current, stage, fraction = _shown_file(head, running, now, done_flash_s)
    overall = 1.0 if status is JobStatus.DONE else overall_progress(
        head.tally, head.total_files, head.total_bytes, _under_way(head, status, running)
    )
    return JobView(
        status=status, notice=notice, total_files=head.total_files, counts=counts, current_file=current,
        stage=stage, file_progress=fraction, overall_progress=overall, files=files, log_tail=log_tail,
        started_at=head.started_at, updated_at=head.updated_at, finished_at=head.finished_at, pid=head.pid,
        spec=read_spec(paths), shared_with=_shared_with(head, current),
    )


def read_spec(paths: JobPaths) -> JobSpec | None:
    """The last job's spec, or None when there is none or it cannot be used."""
    try:
        data = read_json_object(paths.spec)
        return None if data is None else JobSpec.from_dict(data)
    except (DamagedFile, ValueError, TypeError, OSError) as exc:
        logger.warning("ignoring the job spec: %s", exc)
        return None


def _running_file(head: JobHead, status: JobStatus, now: float, rtf: float) -> RunningFile | None:
    current = head.current
    if current is None or status not in ACTIVE_STATUSES:
        return None
    elapsed = None if current.model_started_at is None else now - current.model_started_at
    if current.recognised:
        fraction = RUNNING_CAP
    else:  # a call shared with later files takes the model as long as all their audio
        fraction = file_progress(current.stage, elapsed, current.call_s or current.duration_s, rtf)
    return RunningFile(current.size_bytes, current.duration_s, fraction)


def _shared_with(head: JobHead, shown: str | None) -> int:
    """Files recognised ahead in the call the current (shown) file started."""
    current = head.current
    if head.ahead is None or current is None or current.call_s <= 0 or shown != current.name:
        return 0
    return head.ahead.files


def _under_way(head: JobHead, status: JobStatus, running: RunningFile | None) -> list[RunningFile]:
    """The running file and the files recognised ahead of their turn; those move with the call that holds
    them while it runs (the running file started it), and are recognised once it is over."""
    parts = [running] if running else []
    ahead = head.ahead
    if ahead is not None and status in ACTIVE_STATUSES:
        in_call = running is not None and head.current is not None and head.current.call_s > 0
        fraction = running.fraction if in_call else RUNNING_CAP
        parts.append(RunningFile(ahead.size_bytes, ahead.duration_s, fraction, ahead.files))
    return parts


def _shown_file(
    head: JobHead, running: RunningFile | None, now: float, done_flash_s: float
) -> tuple[str | None, str | None, float]:
    """The file to show, its stage and progress; a file that just finished is held at 100% for a moment."""
    last = head.last_finished
    if last is not None and 0 <= now - last.at < done_flash_s:
        return last.name, FLASH_STAGE, 1.0
    if running is None or head.current is None:
        return None, None, 1.0 if head.status is JobStatus.DONE else 0.0
    return head.current.name, head.current.stage, running.fraction


def _file_entries(paths: JobPaths, head: JobHead) -> tuple[FileEntry, ...]:
    """Every file of the job, the one being processed marked ``running``."""
    try:
        job_id, entries = _JOURNALS.read(paths.journal)
    except OSError as exc:
        logger.warning("cannot read the job journal: %s", exc)
        return ()
    if job_id != head.job_id:
        return ()
    if head.current is not None and head.status in ACTIVE_STATUSES:
        position = _position_of(entries, head.current.index)
        if position is not None and entries[position].status == "pending":
            running = replace(entries[position], status="running")
            entries = (*entries[:position], running, *entries[position + 1 :])
    return entries


def _position_of(entries: tuple[FileEntry, ...], index: int) -> int | None:
    """Where file ``index`` sits; entries are in index order, usually one per index from 0."""
    if index < len(entries) and entries[index].index == index:
        return index
    return next((position for position, entry in enumerate(entries) if entry.index == index), None)


def _safe_tail(paths: JobPaths, lines: int) -> str:
    try:
        return tail_lines(paths.log, lines)
    except OSError as exc:
        return f"(the job log cannot be read: {exc.strerror or exc})"


def _empty_view(notice: str, log_tail: str) -> JobView:
    return JobView(
        status=None, notice=notice, total_files=0, counts=dict.fromkeys((*COUNTED_STATUSES, "pending"), 0),
        current_file=None, stage=None, file_progress=0.0, overall_progress=0.0, files=(), log_tail=log_tail,
        started_at=None, updated_at=None, finished_at=None, pid=None, spec=None,
    )
