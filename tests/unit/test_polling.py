"""The job panel rendered from a JobView: status line, progress bars, table, buttons and failure summary."""

from __future__ import annotations

import re
from dataclasses import replace

import pytest

from webui.polling import (
    TABLE_COLUMNS,
    changed_fields,
    format_duration,
    markdown_text,
    progress_bar_html,
    render_job,
    table_entries,
    table_row,
)
from worker.protocol import FileEntry, JobSpec, JobStatus, JobView

NOW = 1_700_000_100.0
SPEC = JobSpec(inputs=("/music",), output_dir="/out", formats=("srt",))


def view(**changes) -> JobView:
    base = JobView(
        status=None,
        notice="",
        total_files=0,
        counts={},
        current_file=None,
        stage=None,
        file_progress=0.0,
        overall_progress=0.0,
        files=(),
        log_tail="",
        started_at=None,
        updated_at=None,
        finished_at=None,
        pid=None,
        spec=None,
    )
    return replace(base, **changes)


def entry(index: int, status: str, **changes) -> FileEntry:
    return FileEntry(
        index=index, name=f"album/{index}.mp3", source=f"/music/album/{index}.mp3", status=status, **changes
    )


def no_links(_path: str) -> None:
    return None


def bar_value(html: str) -> float:
    return float(re.search(r'data-progress="([0-9.]+)"', html).group(1))


def test_no_job_invites_the_user_to_start():
    panel = render_job(view(), now=NOW, link_for=no_links)
    assert 'data-status="none"' in panel.status_html
    assert panel.can_start and not panel.can_cancel and not panel.can_resume and not panel.can_retry
    assert panel.rows == ()
    assert bar_value(panel.batch_bar_html) == 0.0


def test_a_running_job_shows_stage_progress_and_counts():
    files = (entry(0, "done", outputs=("/out/album/0.srt",), duration_s=61.0), entry(1, "running"), entry(2, "pending"))
    panel = render_job(
        view(
            status=JobStatus.RUNNING,
            total_files=3,
            counts={"done": 1, "pending": 2},
            current_file="album/1.mp3",
            stage="aligning",
            file_progress=0.62,
            overall_progress=0.4,
            files=files,
            started_at=NOW - 75,
            pid=4242,
            spec=SPEC,
            log_tail="line 1\nline 2",
        ),
        now=NOW,
        link_for=no_links,
    )
    assert 'data-status="running"' in panel.status_html
    assert "1 of 3 files" in panel.status_html and "running for 1:15" in panel.status_html
    assert "worker pid 4242" in panel.status_html
    assert 'data-stage="aligning"' in panel.stage_html and "album/1.mp3" in panel.stage_html
    assert bar_value(panel.file_bar_html) == pytest.approx(0.62)
    assert bar_value(panel.batch_bar_html) == pytest.approx(0.4)
    assert not panel.can_start and panel.can_cancel and not panel.can_resume and not panel.can_retry
    assert panel.log == "line 1\nline 2"
    assert [row[2] for row in panel.rows] == ["done", "running", "pending"]
    assert panel.rows[0] == ("1", "album/0\\.mp3", "done", "1:01", "0\\.srt", "")
    assert len(panel.rows[0]) == len(TABLE_COLUMNS)


def test_a_finished_job_with_failures_offers_retry_and_names_the_common_reason():
    reason = "model failed to load: ASR model folder /models/x has no config.json"
    files = (
        entry(0, "failed", reason=reason),
        entry(1, "failed", reason=reason),
        entry(2, "failed", reason="bad"),
        entry(3, "done", outputs=("/out/3.srt", "/out/3.lrc")),
    )
    panel = render_job(
        view(
            status=JobStatus.DONE,
            total_files=4,
            counts={"done": 1, "failed": 3},
            files=files,
            started_at=NOW - 30,
            finished_at=NOW - 10,
            overall_progress=1.0,
            spec=SPEC,
        ),
        now=NOW,
        link_for=no_links,
    )
    assert 'data-status="done"' in panel.status_html and "took 20.0 s" in panel.status_html
    assert "2 files failed: " + reason in panel.notice
    assert "and 1 other failure" in panel.notice
    assert panel.can_start and not panel.can_cancel and panel.can_retry and panel.can_resume
    assert panel.preview_choices == (("album/3.mp3 → 3.srt", "/out/3.srt"), ("album/3.mp3 → 3.lrc", "/out/3.lrc"))


def test_a_clean_finish_offers_neither_retry_nor_resume():
    panel = render_job(
        view(
            status=JobStatus.DONE,
            total_files=1,
            counts={"done": 1},
            files=(entry(0, "done"),),
            spec=SPEC,
            started_at=NOW - 5,
            finished_at=NOW,
            notice="1 files: 1 done, 0 empty, 0 skipped, 0 failed",
        ),
        now=NOW,
        link_for=no_links,
    )
    assert not panel.can_retry and not panel.can_resume
    assert panel.notice == ""


def test_a_cancelled_job_can_be_resumed_and_keeps_the_worker_notice():
    panel = render_job(
        view(
            status=JobStatus.CANCELLED,
            total_files=3,
            counts={"done": 1, "pending": 2},
            spec=SPEC,
            notice="cancelled by the user",
            files=(entry(0, "done"), entry(1, "pending"), entry(2, "pending")),
        ),
        now=NOW,
        link_for=no_links,
    )
    assert panel.can_resume and not panel.can_retry
    assert "cancelled by the user" in panel.notice
    assert 'data-status="cancelled"' in panel.status_html


def test_resume_needs_the_spec_of_the_last_job():
    panel = render_job(view(status=JobStatus.FAILED, counts={"pending": 2}, total_files=2), now=NOW, link_for=no_links)
    assert not panel.can_resume


def test_outputs_become_links_only_where_the_server_may_serve_them():
    def link_for(path: str) -> str | None:
        return "gradio_api/file=" + path if path.startswith("/out/") else None

    files = (entry(0, "done", outputs=("/out/a [live].srt", "/music/a.lrc")),)
    panel = render_job(view(status=JobStatus.DONE, files=files, total_files=1), now=NOW, link_for=link_for)
    assert panel.rows[0][4] == "[a \\[live\\]\\.srt](gradio_api/file=/out/a [live].srt), a\\.lrc"


def test_markdown_cells_show_file_names_literally():
    files = (entry(0, "failed", reason="bad *frame* <1>"),)
    panel = render_job(view(status=JobStatus.DONE, files=files, total_files=1), now=NOW, link_for=no_links)
    name, reason = panel.rows[0][1], panel.rows[0][5]
    assert name == "album/0\\.mp3"
    assert reason == "bad \\*frame\\* \\<1\\>"
    assert markdown_text("1. Intro_[live].mp3") == "1\\. Intro\\_\\[live\\]\\.mp3"


def test_file_names_are_escaped_in_html():
    panel = render_job(
        view(status=JobStatus.RUNNING, current_file="<script>.mp3", stage="decoding", total_files=1),
        now=NOW,
        link_for=no_links,
    )
    assert "<script>" not in panel.stage_html + panel.file_bar_html
    assert "&lt;script&gt;.mp3" in panel.stage_html


def test_changed_fields_lists_everything_first_then_only_differences():
    first = render_job(view(), now=NOW, link_for=no_links)
    assert "rows" in changed_fields(None, first) and "log" in changed_fields(None, first)
    second = render_job(view(log_tail="new line"), now=NOW, link_for=no_links)
    assert changed_fields(first, second) == {"log"}
    assert changed_fields(second, second) == frozenset()


@pytest.mark.parametrize(("seconds", "text"), [(0.0, "0.0 s"), (59.94, "59.9 s"), (61, "1:01"), (3725, "1:02:05")])
def test_format_duration(seconds, text):
    assert format_duration(seconds) == text


def test_progress_bar_is_clamped():
    assert bar_value(progress_bar_html(1.7, "x", "file")) == 1.0
    assert bar_value(progress_bar_html(-0.2, "x", "file")) == 0.0


def test_a_huge_batch_shows_failed_files_and_the_window_around_the_current_one():
    statuses = ["done"] * 5_000 + ["running"] + ["pending"] * 4_999
    statuses[7] = "failed"
    files = tuple(FileEntry(index=i, name=f"{i}.mp3", source=f"/in/{i}.mp3", status=s) for i, s in enumerate(statuses))
    shown = table_entries(files, limit=100)
    indexes = [entry.index for entry in shown]
    assert len(shown) == 100
    assert indexes == sorted(indexes)
    assert 7 in indexes and 5_000 in indexes
    assert indexes[-1] == 5_000 + 19  # a few pending files after the running one
    assert table_entries(files[:50], limit=100) == files[:50]


def test_a_finished_file_with_layout_problems_shows_them_in_the_reason_column():
    entry = FileEntry(index=0, name="a.mp3", source="/in/a.mp3", status="done", quality_note="2 cues too short")
    assert table_row(entry, lambda path: None)[-1] == markdown_text("quality: 2 cues too short")
    failed = FileEntry(index=1, name="b.mp3", source="/in/b.mp3", status="failed", reason="corrupt")
    assert table_row(failed, lambda path: None)[-1] == "corrupt"
