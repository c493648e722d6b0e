"""PrepareAhead: work for later files runs on one background thread, results and failures stay per file."""

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
    ahead.close()
    release.set()
    assert ahead.pending == 0
    ahead._thread.join(10)
    assert not ahead._thread.is_alive()
    assert started == [0]


def test_negative_depth_is_refused() -> None:
    with pytest.raises(ValueError, match="depth"):
        PrepareAhead(lambda i: i, depth=-1)
