"""Progress while short files share one recognition call: the recorder's state as a poller reads it.

Three 10 s files are recognised in one call, then a fourth alone. The bars must move with the call's
audio, not jump when it ends, and the batch bar must never go back when the members' turns come.
"""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from asr_core.pipeline import FileResult, FileStatus
from tests.unit.test_protocol import NOW, running_head
from webui.polling import stage_html
from worker.jobfiles import JobPaths, write_journal
from worker.jobstate import save_head
from worker.progress import RUNNING_CAP, STAGE_FLOOR
from worker.protocol import JobView, read_job
from worker.recorder import JobRecorder
from worker.runner import print_status
from worker.scan import PlannedFile

FILE_S = 10.0
SIZE = 1000
RTF = 0.18
SHARED = {0: FILE_S, 1: FILE_S, 2: FILE_S}  # file 3 is recognised alone


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> float:
        return self.now


class Batch:
    """Drives a JobRecorder through a batch's events and reads the job as a poller would."""

    def __init__(self, job_paths: JobPaths) -> None:
        self.paths = job_paths
        self.clock = Clock()
        plan = [{"i": i, "name": f"f{i}.mp3", "source": f"/music/f{i}.mp3", "bytes": SIZE} for i in range(4)]
        write_journal(job_paths.journal, {"schema_version": 1, "job_id": "job1"}, plan)
        head = running_head(total_files=4, total_bytes=4 * SIZE, started_at=NOW, updated_at=NOW)
        save_head(job_paths.state, head)
        self.recorder = JobRecorder(job_paths, head, range(4), [SIZE] * 4, measure_duration=lambda _: FILE_S,
                                    clock=self.clock)
        self.files = [PlannedFile(Path(f"/music/f{i}.mp3"), Path(f"/out/f{i}.mp3"), f"f{i}.mp3") for i in range(4)]
        self.overall: list[float] = []

    def view(self, seconds: float) -> JobView:
        """The job as a poller sees it ``seconds`` after the batch started; the batch progress is kept."""
        self.clock.now = NOW + seconds
        view = read_job(self.paths.data_dir, now=self.clock.now, rtf=RTF, done_flash_s=0.0)
        self.overall.append(view.overall_progress)
        return view

    def at(self, seconds: float) -> tuple[float, float]:
        """(file, batch) progress a poller sees ``seconds`` after the batch started."""
        view = self.view(seconds)
        return view.file_progress, view.overall_progress

    def stages(self, index: int, *names: str) -> None:
        for name in names:
            self.recorder.stage(index, name, 0.0)
            self.at(self.clock.now - NOW)

    def file(self, index: int, seconds: float) -> None:
        """File ``index`` from start to finish, as a member recognised with an earlier file reports it."""
        self.clock.now = NOW + seconds
        self.recorder.file_started(index, self.files[index])
        self.at(seconds)
        self.stages(index, "decoding", "vad", "recognising", "aligning", "writing")
        self.recorder.file_finished(index, self.files[index], FileResult(self.files[index].source, FileStatus.DONE,
                                                                         duration_s=FILE_S))
        self.at(seconds)


def test_a_shared_call_moves_both_bars_with_all_its_audio_and_never_back(paths, worker_alive) -> None:
    batch = Batch(paths)
    batch.recorder.file_started(0, batch.files[0])
    batch.stages(0, "decoding", "vad")
    batch.recorder.recognising_together(0, SHARED)
    batch.stages(0, "recognising")
    call_s = len(SHARED) * FILE_S * RTF  # the model's expected time for the whole call

    file_halfway, batch_halfway = batch.at(call_s / 2)
    # The first file's bar ramps over the call's 30 s of audio, not its own 10 s (which would be full by now).
    assert file_halfway == pytest.approx(STAGE_FLOOR["recognising"] + (RUNNING_CAP - 0.08) / 2)
    # The batch counts the call's three files as under way: 30 of the batch's 40 s.
    assert batch_halfway == pytest.approx(file_halfway * 30 / 40)
    during_call = batch.view(call_s / 2)
    assert "f0.mp3 and 2 more files (recognised together)" in stage_html(during_call)
    status = io.StringIO()
    print_status(during_call, status)
    assert "current: f0.mp3 and 2 more files (recognised together) (recognising, 53%)" in status.getvalue()
    batch.stages(0, "aligning")
    file_end, batch_end = batch.at(call_s)
    assert file_end == RUNNING_CAP and batch_end == pytest.approx(RUNNING_CAP * 30 / 40)

    batch.recorder.stage(0, "writing", 0.0)
    batch.recorder.file_finished(0, batch.files[0], FileResult(batch.files[0].source, FileStatus.DONE,
                                                               duration_s=FILE_S))
    _, between_files = batch.at(call_s)
    assert between_files == pytest.approx((10 + RUNNING_CAP * 20) / 40)  # files 1 and 2 are recognised
    batch.recorder.file_started(1, batch.files[1])  # recognised with file 0: only its subtitles are left
    batch.stages(1, "decoding", "vad", "recognising")  # replayed as they happened
    file_member, batch_member = batch.at(call_s)
    assert file_member == RUNNING_CAP and batch_member == pytest.approx(between_files)
    assert batch.view(call_s).shared_with == 0  # its call is over
    batch.stages(1, "aligning", "writing")
    batch.recorder.file_finished(1, batch.files[1], FileResult(batch.files[1].source, FileStatus.DONE,
                                                               duration_s=FILE_S))
    batch.file(2, call_s + 0.1)
    batch.file(3, call_s + 0.2)  # alone: back to its own length

    assert batch.overall == sorted(batch.overall), batch.overall
    assert batch.overall[-1] == 1.0


def test_a_file_recognised_alone_ramps_over_its_own_audio(paths, worker_alive) -> None:
    batch = Batch(paths)
    batch.recorder.file_started(0, batch.files[0])
    batch.stages(0, "decoding", "vad", "recognising")
    file_halfway, _ = batch.at(FILE_S * RTF / 2)
    assert file_halfway == pytest.approx(STAGE_FLOOR["recognising"] + (RUNNING_CAP - 0.08) / 2)
