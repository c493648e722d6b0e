"""PrepareAhead: work for later files runs on background threads, results and failures stay per file."""

from __future__ import annotations

import threading

import pytest

from worker.prefetch import PrepareAhead


def test_depth_zero_runs_on_the_callers_thread_only_when_taken() -> None:
    calls: list[tuple[int, str]] = []
    ahead = PrepareAhead(lambda i: calls.append((i, threading.current_thread().name)) or i * 10, depth=0)
    ahead.request(1)  # nothing happens in the sequential design
    assert calls == []
    assert ahead.take(1) == 10
    assert calls == [(1, threading.current_thread().name)]
    assert ahead.pending == 0


def test_requested_work_runs_in_the_background_in_request_order() -> None:
    order: list[int] = []
    ahead = PrepareAhead(lambda i: order.append(i) or (i, threading.current_thread().name), depth=2)
    ahead.request(0)
    ahead.request(1)
    ahead.request(1)  # asked twice, done once
    assert ahead.pending == 2
    assert ahead.take(0) == (0, "prepare-ahead")
    assert ahead.take(1) == (1, "prepare-ahead")
    assert ahead.take(2) == (2, "prepare-ahead")  # not asked for before: queued and waited for
    assert order == [0, 1, 2]
    assert ahead.pending == 0
    ahead.close()


def test_a_failure_is_raised_at_its_own_file_only() -> None:
    def work(index: int) -> int:
        if index == 1:
            raise RuntimeError("file 1 broke")
        return index

    ahead = PrepareAhead(work, depth=2)
    for index in range(3):
        ahead.request(index)
    assert ahead.take(0) == 0
    with pytest.raises(RuntimeError, match="file 1 broke"):
        ahead.take(1)
    assert ahead.take(2) == 2
    ahead.close()


def test_dropped_and_closed_work_never_starts() -> None:
    began, release = threading.Event(), threading.Event()
    started: list[int] = []

    def work(index: int) -> int:
        started.append(index)
        began.set()
        release.wait(10)
        return index

    ahead = PrepareAhead(work, depth=2)
    ahead.request(0)  # occupies the thread until released
    assert began.wait(10)
    ahead.request(1)
    ahead.request(2)
    ahead.drop(1)
    ahead.close(wait=False)
    release.set()
    ahead.close()  # now waits for the work in progress
    assert ahead.pending == 0
    assert not preparing_threads()
    assert started == [0]


def preparing_threads() -> list[str]:
    return [t.name for t in threading.enumerate() if t.name.startswith("prepare-ahead")]


def test_several_workers_prepare_files_at_the_same_time_and_results_stay_per_file() -> None:
    both_running = threading.Barrier(2, timeout=10)
    names: dict[int, str] = {}

    def work(index: int) -> int:
        names[index] = threading.current_thread().name
        if index < 2:
            both_running.wait()  # fails (BrokenBarrierError) unless files 0 and 1 run at once
        return index * 10

    ahead = PrepareAhead(work, depth=3, workers=2)
    for index in range(3):
        ahead.request(index)
    assert [ahead.take(index) for index in range(3)] == [0, 10, 20]
    assert {names[0], names[1]} == {"prepare-ahead-1", "prepare-ahead-2"}
    ahead.close()
    assert not preparing_threads()


def test_negative_depth_and_no_workers_are_refused() -> None:
    with pytest.raises(ValueError, match="depth"):
        PrepareAhead(lambda i: i, depth=-1)
    with pytest.raises(ValueError, match="workers"):
        PrepareAhead(lambda i: i, depth=2, workers=0)
