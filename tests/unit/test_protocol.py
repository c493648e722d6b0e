"""The job files as every poller reads them: spec round trip, journal folding, damage and crash handling."""

from __future__ import annotations

import json
import threading
from dataclasses import replace

import pytest
from filelock import FileLock

from worker.jobfiles import JobPaths, append_line, dump_json, read_journal, write_journal
from worker.jobstate import CurrentFile, FinishedMark, JobHead, JobStatus, load_head, save_head
from worker.journal import JournalReader
from worker.progress import Tally
from worker.protocol import DAMAGED_NOTICE, JobSpec, read_job

NOW = 1_700_000_000.0


def running_head(job_id: str = "job1", **changes) -> JobHead:
    head = JobHead(
        job_id=job_id,
        status=JobStatus.RUNNING,
        started_at=NOW - 60,
        updated_at=NOW - 1,
        pid=4242,
        pgid=4242,
        total_files=3,
        total_bytes=3000,
    )
    return replace(head, **changes)


def write_job(paths: JobPaths, head: JobHead, results: list[dict] = ()) -> None:
    """The job files as a worker leaves them: the plan, one line per result, and counters that agree."""
    plan = [{"i": i, "name": f"f{i}.mp3", "source": f"/music/f{i}.mp3", "bytes": 1000} for i in range(3)]
    write_journal(paths.journal, {"schema_version": 1, "job_id": head.job_id}, plan)
    counts = dict(head.counts)
    for record in results:
        append_line(paths.journal, dump_json(record))
        counts[record["status"]] += 1
    save_head(paths.state, replace(head, counts=counts))


def test_spec_round_trips_through_json_and_ignores_unknown_keys():
    spec = JobSpec(
        inputs=("/music",),
        output_dir=None,
        formats=("srt", "lrc"),
        overwrite=True,
        extensions=(".mp3",),
        model={"device": "cpu"},
        only_sources=("/music/a.mp3",),
    )
    data = json.loads(json.dumps(spec.to_dict()))
    assert JobSpec.from_dict({**data, "added_by_a_newer_ui": 1}) == spec


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"formats": ["srt"]}, "inputs"),
        ({"inputs": [], "formats": ["srt"]}, "no input"),
        ({"inputs": "/music", "formats": ["srt"]}, "list of strings"),
        ({"inputs": ["/m"], "formats": ["srt"], "model": []}, "object"),
        ({"inputs": ["/m"], "formats": ["srt"], "output_dir": 3}, "output_dir"),
    ],
)
def test_spec_that_cannot_run_is_rejected_with_the_reason(data, message):
    with pytest.raises(ValueError, match=message):
        JobSpec.from_dict(data)


def test_absolute_spec_resolves_relative_inputs_against_the_working_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    spec = JobSpec(inputs=("music",), output_dir="out", formats=("srt",)).with_absolute_paths()
    assert spec.inputs == (str(tmp_path / "music"),)
    assert spec.output_dir == str(tmp_path / "out")


def test_no_job_reads_as_an_empty_view(paths):
    view = read_job(paths.data_dir, now=NOW)
    assert (view.status, view.notice, view.files, view.total_files) == (None, "", (), 0)


def test_journal_folds_plan_and_results_and_marks_the_current_file_running(paths, worker_alive):
    result = {"i": 0, "status": "done", "reason": "", "outputs": ["/out/f0.srt"], "duration_s": 9.5, "wall_s": 2.0}
    current = CurrentFile(
        index=1,
        name="f1.mp3",
        source="/music/f1.mp3",
        output_base="/out/f1.mp3",
        size_bytes=1000,
        started_at=NOW - 1,
        stage="decoding",
    )
    write_job(paths, running_head(current=current), [result])
    view = read_job(paths.data_dir, now=NOW)
    assert [(f.name, f.status) for f in view.files] == [
        ("f0.mp3", "done"),
        ("f1.mp3", "running"),
        ("f2.mp3", "pending"),
    ]
    assert view.files[0].outputs == ("/out/f0.srt",)
    assert view.files[0].duration_s == 9.5
    assert view.counts == {"done": 1, "empty": 0, "skipped": 0, "failed": 0, "pending": 2}
    assert (view.current_file, view.stage, view.pid) == ("f1.mp3", "decoding", 4242)


def test_a_line_still_being_appended_is_ignored(paths):
    write_job(paths, running_head())
    with open(paths.journal, "a", encoding="utf-8") as handle:
        handle.write('{"i": 2, "status": "do')  # a writer caught mid-line
    header, records = read_journal(paths.journal)
    assert header["job_id"] == "job1"
    assert [r["i"] for r in records] == [0, 1, 2]
    assert all("status" not in r for r in records)


def test_journal_of_another_job_is_not_shown(paths, worker_alive):
    write_job(paths, running_head())
    save_head(paths.state, running_head(job_id="job2"))
    assert read_job(paths.data_dir, now=NOW).files == ()


@pytest.mark.parametrize(
    "damage",
    ['{"schema_version": 1, "job_id": "x", "sta', "[]", '{"schema_version": 99}', '{"schema_version": 1}', "\x00\x00"],
)
def test_damaged_state_is_reported_moved_aside_and_the_next_read_starts_clean(paths, damage):
    paths.data_dir.mkdir(parents=True)
    paths.state.write_text(damage, encoding="utf-8")
    view = read_job(paths.data_dir, now=NOW)
    assert view.status is None
    assert view.notice == DAMAGED_NOTICE
    assert not paths.state.exists()
    assert paths.state_backup.read_text(encoding="utf-8") == damage
    assert read_job(paths.data_dir, now=NOW).notice == ""


def test_dead_worker_is_marked_failed_once_for_every_reader(paths):
    current = CurrentFile(
        index=1,
        name="f1.mp3",
        source="/music/f1.mp3",
        output_base=str(paths.data_dir / "f1.mp3"),
        size_bytes=1000,
        started_at=NOW - 1,
        stage="recognising",
    )
    write_job(paths, running_head(current=current, tally=Tally(9.0, 1000, 0, 1)))
    view = read_job(paths.data_dir, now=NOW)
    assert view.status is JobStatus.FAILED
    assert "the worker (pid 4242) stopped unexpectedly" in view.notice
    assert "2 file(s) not processed" in view.notice
    assert view.finished_at == NOW
    persisted = load_head(paths.state)
    assert persisted.status is JobStatus.FAILED and persisted.current is None
    again = read_job(paths.data_dir, now=NOW + 5)
    assert (again.status, again.notice) == (JobStatus.FAILED, view.notice)
    assert paths.log.read_text(encoding="utf-8").count("stopped unexpectedly") == 1


def test_crash_reason_quotes_the_last_thing_the_worker_printed(paths):
    write_job(paths, running_head())
    paths.worker_stderr.write_text("Traceback (most recent call last):\nMemoryError: out of memory\n")
    assert read_job(paths.data_dir, now=NOW).notice.startswith(
        "the worker (pid 4242) stopped unexpectedly: MemoryError: out of memory"
    )


def test_live_worker_is_left_alone(paths, worker_alive):
    write_job(paths, running_head())
    assert read_job(paths.data_dir, now=NOW).status is JobStatus.RUNNING
    assert load_head(paths.state).status is JobStatus.RUNNING


def test_running_job_with_a_cancel_under_way_shows_cancelling_then_settles_cancelled(paths):
    lock = FileLock(paths.worker_lock)
    paths.data_dir.mkdir(parents=True)
    lock.acquire()
    write_job(paths, running_head())
    paths.cancel_marker.touch()
    assert read_job(paths.data_dir, now=NOW).status is JobStatus.CANCELLING
    lock.release()
    view = read_job(paths.data_dir, now=NOW)
    assert view.status is JobStatus.CANCELLED
    assert not paths.cancel_marker.exists()


def test_dead_worker_leaves_no_temp_subtitle_behind(paths):
    out = paths.data_dir.parent / "out"
    out.mkdir(parents=True)
    leftover = out / ".f1.srt.tmp-0a1b2c3d"
    leftover.write_text("1\n00:00:00,000 --> 00:00", encoding="utf-8")
    kept = [out / "f0.srt", out / ".hidden-notes", out / "f1.srt.tmp-0a1b2c3d"]
    for path in kept:
        path.write_text("x", encoding="utf-8")
    current = CurrentFile(
        index=1,
        name="f1.mp3",
        source="/music/f1.mp3",
        output_base=str(out / "f1.mp3"),
        size_bytes=1000,
        started_at=NOW - 1,
        stage="writing",
    )
    write_job(paths, running_head(current=current))
    read_job(paths.data_dir, now=NOW)
    assert not leftover.exists()
    assert all(path.exists() for path in kept)


def test_a_finished_file_flashes_at_full_progress_before_the_next_one_shows(paths, worker_alive):
    current = CurrentFile(
        index=1,
        name="f1.mp3",
        source="/music/f1.mp3",
        output_base="/out/f1.mp3",
        size_bytes=1000,
        started_at=NOW - 0.5,
        stage="decoding",
    )
    write_job(paths, running_head(current=current, last_finished=FinishedMark(0, "f0.mp3", NOW - 0.5)))
    flashing = read_job(paths.data_dir, now=NOW, done_flash_s=2.0)
    assert (flashing.current_file, flashing.stage, flashing.file_progress) == ("f0.mp3", "done", 1.0)
    later = read_job(paths.data_dir, now=NOW + 2.0, done_flash_s=2.0)
    assert (later.current_file, later.stage) == ("f1.mp3", "decoding")
    assert later.file_progress < 0.1
    assert flashing.overall_progress == later.overall_progress  # the flash does not count the next file as done


def test_state_file_is_never_seen_half_written(paths):
    """A reader polling while the worker rewrites the state in a loop always gets a whole document."""
    save_head(paths.state, running_head())
    stop = threading.Event()
    damaged: list[Exception] = []

    def rewrite():
        n = 0
        while not stop.is_set():
            n += 1
            save_head(paths.state, running_head(notice="x" * (n % 5000), total_files=n))

    writer = threading.Thread(target=rewrite)
    writer.start()
    try:
        for _ in range(3000):
            try:
                assert load_head(paths.state) is not None
            except ValueError as exc:
                damaged.append(exc)
    finally:
        stop.set()
        writer.join()
    assert damaged == []
    assert [p.name for p in paths.data_dir.iterdir()] == ["job_state.json"]


def test_journal_reader_picks_up_appends_finishes_cut_lines_and_notices_a_new_job(paths):
    reader = JournalReader()
    write_job(paths, running_head())
    assert [e.status for e in reader.read(paths.journal)[1]] == ["pending"] * 3
    record = dump_json({"i": 1, "status": "failed", "reason": "bad file"})
    with open(paths.journal, "a", encoding="utf-8") as handle:
        handle.write(record[:10])
    assert [e.status for e in reader.read(paths.journal)[1]] == ["pending"] * 3
    with open(paths.journal, "a", encoding="utf-8") as handle:
        handle.write(record[10:] + "\n")
    job_id, entries = reader.read(paths.journal)
    assert job_id == "job1"
    assert [(e.status, e.reason) for e in entries] == [("pending", ""), ("failed", "bad file"), ("pending", "")]
    write_journal(paths.journal, {"schema_version": 1, "job_id": "job2"},
                  [{"i": 0, "name": "new.mp3", "source": "/new.mp3", "bytes": 1}])
    job_id, entries = reader.read(paths.journal)
    assert (job_id, [e.name for e in entries]) == ("job2", ["new.mp3"])
    paths.journal.unlink()
    assert reader.read(paths.journal) == (None, ())
