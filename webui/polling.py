"""What the job panel shows, computed from a JobView alone.

Every page, whenever it was opened and whichever process served it, renders the job from the files the
worker writes; nothing is kept in the UI process. This module is pure (no Gradio) so that the rendering
of every job state can be unit-tested.
"""

from __future__ import annotations

import datetime
import html
import re
from collections.abc import Callable
from dataclasses import dataclass, fields
from pathlib import Path

from worker.protocol import FINAL_STATUSES, FileEntry, JobStatus, JobView

TABLE_COLUMNS = ("#", "File", "Status", "Duration", "Outputs", "Reason")
# A 100,000-file batch must not send 100,000 rows to every browser each time a file finishes.
TABLE_ROW_LIMIT = 300
_ROWS_AHEAD = 20
STAGE_LABELS = {
    "decoding": "Decoding audio",
    "vad": "Finding speech (VAD)",
    "recognising": "Recognising speech",
    "aligning": "Aligning words",
    "writing": "Writing subtitles",
    "done": "File finished",
    "loading": "Loading the model",
}
_HEADLINES = {
    JobStatus.QUEUED: "Starting",
    JobStatus.RUNNING: "Running",
    JobStatus.CANCELLING: "Cancelling",
    JobStatus.DONE: "Finished",
    JobStatus.FAILED: "Failed",
    JobStatus.CANCELLED: "Cancelled",
}
_MARKDOWN_SPECIAL = re.compile(r"[\\`*_{}\[\]()<>#+\-.!|~]")
_BAR_TITLES = {"file": "Current file", "batch": "Whole batch"}
_COUNT_ORDER = ("done", "empty", "skipped", "failed", "pending")

LinkFor = Callable[[str], "str | None"]


@dataclass(frozen=True)
class JobPanel:
    """Everything the job panel displays; equal panels need no update in the browser."""

    status_html: str
    notice: str
    stage_html: str
    file_bar_html: str
    batch_bar_html: str
    log: str
    rows: tuple[tuple[str, ...], ...]
    can_start: bool
    can_cancel: bool
    can_resume: bool
    can_retry: bool
    preview_choices: tuple[tuple[str, str], ...]


def changed_fields(previous: JobPanel | None, current: JobPanel) -> frozenset[str]:
    """Names of the fields that differ, so a poll only re-sends what changed (all of them the first time)."""
    names = [f.name for f in fields(JobPanel)]
    if previous is None:
        return frozenset(names)
    return frozenset(n for n in names if getattr(previous, n) != getattr(current, n))


def format_duration(seconds: float) -> str:
    """``42.0 s`` under a minute, ``3:07`` under an hour, then ``1:02:03``."""
    if seconds < 60:
        return f"{seconds:.1f} s"
    whole = round(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def format_clock(epoch_s: float) -> str:
    return datetime.datetime.fromtimestamp(epoch_s).strftime("%Y-%m-%d %H:%M:%S")


def progress_bar_html(fraction: float, label: str, kind: str) -> str:
    """A bar the browser draws without any script; ``data-progress`` lets tests read the exact value."""
    fraction = min(max(fraction, 0.0), 1.0)
    text = " · ".join(part for part in (_BAR_TITLES.get(kind, kind), f"{fraction:.0%}", label) if part)
    return (
        f'<div class="job-progress" data-kind="{kind}" data-progress="{fraction:.3f}">'
        f'<div class="job-progress-fill" style="width:{fraction * 100:.1f}%"></div>'
        f'<span class="job-progress-label">{html.escape(text)}</span></div>'
    )


def counts_text(view: JobView) -> str:
    parts = [f"{view.counts.get(name, 0)} {name}" for name in _COUNT_ORDER if view.counts.get(name, 0)]
    return ", ".join(parts)


def _finished_count(view: JobView) -> int:
    return sum(view.counts.get(name, 0) for name in ("done", "empty", "skipped", "failed"))


def status_html(view: JobView, now: float) -> str:
    if view.status is None:
        return '<div class="job-status" data-status="none">No job yet. Choose the input, then press Start.</div>'
    title = _HEADLINES[view.status]
    details = [f"{_finished_count(view)} of {view.total_files} files"]
    if view.counts:
        details.append(counts_text(view))
    if view.started_at is not None:
        details.append(f"started {format_clock(view.started_at)}")
        end = view.finished_at if view.status in FINAL_STATUSES and view.finished_at else now
        details.append(("took " if view.status in FINAL_STATUSES else "running for ") +
                       format_duration(max(end - view.started_at, 0.0)))
    if view.pid is not None and view.status not in FINAL_STATUSES:
        details.append(f"worker pid {view.pid}")
    started = "" if view.started_at is None else f"{view.started_at:.3f}"
    return (
        f'<div class="job-status" data-status="{view.status.value}" data-started="{started}">'
        f"<b>{title}</b> · {html.escape(' · '.join(details))}</div>"
    )


def table_entries(files: tuple[FileEntry, ...], limit: int = TABLE_ROW_LIMIT) -> tuple[FileEntry, ...]:
    """The rows worth showing of a large batch: every failed file (up to half the table), then the files
    just before the one being processed and a few after it, in file order."""
    if len(files) <= limit:
        return files
    chosen = {entry.index: entry for entry in files if entry.status == "failed"}
    chosen = dict(list(chosen.items())[: limit // 2])
    frontier = next((i for i, entry in enumerate(files) if entry.status in ("running", "pending")), len(files))
    for entry in reversed(files[: min(len(files), frontier + _ROWS_AHEAD)]):
        if len(chosen) >= limit:
            break
        chosen.setdefault(entry.index, entry)
    return tuple(sorted(chosen.values(), key=lambda entry: entry.index))


def failure_summary(view: JobView) -> str:
    """One line naming the most common failure reason, e.g. a model that failed to load for every file."""
    reasons = [f.reason for f in view.files if f.status == "failed" and f.reason]
    if not reasons:
        return ""
    top = max(set(reasons), key=reasons.count)
    others = len(reasons) - reasons.count(top)
    suffix = f" (and {others} other failure{'s' if others != 1 else ''})" if others else ""
    return f"{reasons.count(top)} file{'s' if reasons.count(top) != 1 else ''} failed: {top}{suffix}"


def stage_html(view: JobView) -> str:
    if view.status not in (JobStatus.RUNNING, JobStatus.QUEUED, JobStatus.CANCELLING) or not view.current_file:
        text = "Waiting for the worker" if view.status is JobStatus.QUEUED else ""
        return f'<div class="job-stage" data-stage="">{text}</div>'
    stage = view.stage or ""
    label = STAGE_LABELS.get(stage, stage.capitalize() or "Working")
    return (
        f'<div class="job-stage" data-stage="{html.escape(stage)}">'
        f"<b>{html.escape(label)}</b> · {html.escape(view.current_file + view.shared_note)}</div>"
    )


def markdown_text(text: str) -> str:
    """Text shown literally in a Markdown cell: file names may hold ``*``, ``_``, ``[`` or ``1.``."""
    return _MARKDOWN_SPECIAL.sub(r"\\\g<0>", text)


def output_cell(outputs: tuple[str, ...], link_for: LinkFor) -> str:
    """Markdown links for outputs the server may serve; plain names for the rest."""
    cells = []
    for output in outputs:
        name = markdown_text(Path(output).name)
        url = link_for(output)
        cells.append(f"[{name}]({url})" if url else name)
    return ", ".join(cells)


def table_row(entry: FileEntry, link_for: LinkFor) -> tuple[str, ...]:
    """One results row; every cell is Markdown (the table has one datatype for all columns)."""
    duration = format_duration(entry.duration_s) if entry.duration_s else ""
    return (str(entry.index + 1), markdown_text(entry.name), entry.status, duration,
            output_cell(entry.outputs, link_for), markdown_text(entry.reason or _quality_cell(entry)))


def _quality_cell(entry: FileEntry) -> str:
    return f"quality: {entry.quality_note}" if entry.quality_note else ""


def render_job(view: JobView, *, now: float, link_for: LinkFor) -> JobPanel:
    """The whole job panel for one poll."""
    active = view.status is not None and view.status not in FINAL_STATUSES
    finished = view.status in FINAL_STATUSES
    failed = view.counts.get("failed", 0)
    # A finished job's notice is its tally, which the status line already shows.
    job_notice = "" if view.status is JobStatus.DONE else view.notice
    shown = table_entries(view.files)
    truncated = (
        f"The table shows {len(shown)} of {len(view.files)} files: the failed ones and those around the current one."
        if len(shown) < len(view.files)
        else ""
    )
    notice = "\n\n".join(
        part for part in (job_notice, failure_summary(view) if finished else "", truncated) if part
    )
    if view.status is not None and view.total_files:
        batch_label = f"{_finished_count(view)} of {view.total_files} files"
    else:
        batch_label = ""
    return JobPanel(
        status_html=status_html(view, now),
        notice=notice,
        stage_html=stage_html(view),
        file_bar_html=progress_bar_html(view.file_progress, view.current_file or "", "file"),
        batch_bar_html=progress_bar_html(view.overall_progress, batch_label, "batch"),
        log=view.log_tail,
        rows=tuple(table_row(entry, link_for) for entry in shown),
        can_start=not active,
        can_cancel=active,
        can_resume=finished and view.spec is not None and view.counts.get("pending", 0) + failed > 0,
        can_retry=finished and view.spec is not None and failed > 0,
        preview_choices=tuple(
            (f"{entry.name} → {Path(output).name}", output) for entry in shown for output in entry.outputs
        ),
    )
