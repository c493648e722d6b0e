"""kill -9 of the whole worker group at 20 random moments of one batch, resuming after each.

The moments come from a seeded generator, so the delays are the same on every run; what the worker is
doing at each one (importing, loading the models, decoding, writing a subtitle, updating the state) varies
with the machine, which is the point. After every kill, each subtitle present must be complete; a hidden
temp file may remain (the next start removes it). At the end every file is done and nothing partial is left.
"""

from __future__ import annotations

import os
import random
import signal
import time

import srt

from tests.integration.test_job_worker import (
    LRC_LINE,
    copies,
    finished,
    poll,
    spec_for,
    wait_for,
)
from tests.media_fixtures import UNICODE_NAME_MP3
from worker.launcher import resume_job, start_job
from worker.leftovers import is_partial_output
from worker.procs import group_members
from worker.protocol import JobStatus

KILLS = 20
FILES = 6
SEED = 20240605
# Delays after a start returns: from "still importing" to "a few files in" on a slow machine.
LONGEST_DELAY_S = 5.0


def assert_complete_subtitles_only(out) -> list:
    """Every subtitle under ``out`` parses completely; returns the hidden temp files a kill left."""
    temps = []
    for path in out.rglob("*"):
        if not path.is_file():
            continue
        if is_partial_output(path.name):
            temps.append(path)
            continue
        text = path.read_text(encoding="utf-8")
        if path.suffix == ".srt":
            assert [c.content for c in srt.parse(text)] == ["hello world, this is a test."], path
        else:
            assert path.suffix == ".lrc" and text.endswith("\n"), path
            assert all(LRC_LINE.match(line) for line in text.splitlines()), path
    return temps


def test_twenty_random_kills_then_resume_leave_only_complete_subtitles(tmp_path, tiny_models):
    inputs, out, data = tmp_path / "in", tmp_path / "out", tmp_path / "data"
    copies(inputs / "Album", UNICODE_NAME_MP3, FILES)
    rng = random.Random(SEED)
    pid = start_job(spec_for(tiny_models, inputs, out), data)
    for kill in range(KILLS):
        time.sleep(rng.uniform(0, LONGEST_DELAY_S))
        if not finished(poll(data)):
            os.killpg(pid, signal.SIGKILL)
            wait_for(lambda group=pid: group_members(group), lambda members: members == [], "the group to be gone")
        settled = wait_for(lambda: poll(data), finished, f"kill {kill + 1} to be noticed")
        assert settled.status in (JobStatus.FAILED, JobStatus.DONE)
        assert_complete_subtitles_only(out)
        if kill < KILLS - 1:
            pid = resume_job(data)

    pid = resume_job(data)
    final = wait_for(lambda: poll(data), finished, "the last resume to finish")
    assert final.status is JobStatus.DONE, final.notice
    assert final.counts["done"] + final.counts["skipped"] == FILES and final.counts["failed"] == 0
    assert assert_complete_subtitles_only(out) == []
    assert sorted(p.name for p in out.rglob("*.srt")) == [f"track{i:02d}.srt" for i in range(FILES)]
