"""Progress estimates: a file ramps with ASR_PROGRESS_RTF, the batch is weighed by audio duration."""

from __future__ import annotations

import pytest

from worker.progress import RUNNING_CAP, RunningFile, Tally, file_progress, overall_progress


def test_model_stage_ramps_with_the_real_time_factor_and_never_reaches_full_by_itself():
    # 100 s of audio at RTF 0.2 should take about 20 s of model time.
    early = file_progress("recognising", 2.0, 100.0, 0.2)
    halfway = file_progress("recognising", 10.0, 100.0, 0.2)
    overdue = file_progress("aligning", 60.0, 100.0, 0.2)
    assert early < halfway < overdue == RUNNING_CAP
    assert halfway == pytest.approx(0.08 + (RUNNING_CAP - 0.08) * 0.5)


def test_smaller_rtf_moves_the_bar_faster():
    assert file_progress("recognising", 5.0, 100.0, 0.1) > file_progress("recognising", 5.0, 100.0, 0.3)


def test_stages_without_a_known_length_show_their_floor():
    assert file_progress("decoding", None, None, 0.18) == 0.02
    assert file_progress("recognising", 3.0, None, 0.18) == 0.08
    assert file_progress("aligning", 0.0, 100.0, 0.18) == 0.6  # aligning never looks less done than recognising
    assert file_progress(None, None, None, 0.18) == 0.0


def test_batch_progress_follows_audio_duration_not_file_count():
    # Two files of 1,000 bytes each; the first (done) was 10 s long, the other 90 s of the same bytes is unknown
    # until measured: once the running file is measured at 90 s, one done file of two is 10% of the work.
    tally = Tally().add(1000, 10.0)
    running = RunningFile(size_bytes=1000, duration_s=90.0, fraction=0.0)
    assert overall_progress(tally, 2, 2000, [running]) == pytest.approx(0.1)
    halfway = RunningFile(size_bytes=1000, duration_s=90.0, fraction=0.5)
    assert overall_progress(tally, 2, 2000, [halfway]) == pytest.approx(0.55)


def test_pending_files_are_estimated_from_their_size_at_the_rate_seen_so_far():
    tally = Tally().add(1000, 10.0)  # 10 ms per byte
    # 3,000 bytes still pending -> about 30 s; 10 s of 40 s is done.
    assert overall_progress(tally, 3, 4000) == pytest.approx(0.25)


def test_skipped_and_failed_files_count_by_their_size():
    tally = Tally().add(1000, 10.0).add(1000, 0.0)  # one done, one skipped (no length)
    assert overall_progress(tally, 3, 3000) == pytest.approx(2 / 3)


def test_before_anything_is_timed_sizes_stand_in_for_durations():
    assert overall_progress(Tally().add(500, 0.0), 2, 2000) == pytest.approx(0.25)
    assert overall_progress(Tally(), 0, 0) == 0.0
    assert overall_progress(Tally().add(0, 0.0), 2, 0) == pytest.approx(0.5)  # empty files: by count
