"""Work for upcoming files done on background threads, so the recogniser never waits for decoding."""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import Generic, TypeVar

Result = TypeVar("Result")


class PrepareAhead(Generic[Result]):
    """Runs ``work(index)`` for files asked for in advance, on ``workers`` background threads.

    The caller bounds memory by asking for at most ``depth`` files beyond the one it takes. Work starts in
    the order it was asked for; with several workers, several files are prepared at once, so ``work`` must
    be safe to run on several threads (each keeps its own VAD model). The threads are daemons: a cancelled
    worker must exit at once, not after the decode in progress. ``depth`` 0 runs everything in ``take``, on
    the caller's thread: the sequential design.
    """

    def __init__(self, work: Callable[[int], Result], depth: int, workers: int = 1) -> None:
        if depth < 0:
            raise ValueError("depth must be 0 or more")
        if workers < 1:
            raise ValueError("workers must be 1 or more")
        self.depth = depth
        self._work = work
        self._workers = workers
        self._pending: dict[int, Future[Result]] = {}
        self._jobs: queue.SimpleQueue[tuple[int, Future[Result]] | None] = queue.SimpleQueue()
        self._threads: list[threading.Thread] = []

    @property
    def pending(self) -> int:
        """Files asked for and not taken yet (running, queued or ready)."""
        return len(self._pending)

    def request(self, index: int) -> None:
        """Start ``work(index)`` in the background unless it is already asked for (or depth is 0)."""
        if self.depth == 0 or index in self._pending:
            return
        future: Future[Result] = Future()
        self._pending[index] = future
        self._jobs.put((index, future))
        if not self._threads:
            for number in range(self._workers):
                name = "prepare-ahead" if self._workers == 1 else f"prepare-ahead-{number + 1}"
                self._threads.append(threading.Thread(target=self._serve, name=name, daemon=True))
                self._threads[-1].start()

    def take(self, index: int) -> Result:
        """The result of ``work(index)``, waiting for it; an exception it raised is raised here."""
        if self.depth == 0:
            return self._work(index)
        self.request(index)
        return self._pending.pop(index).result()

    def drop(self, index: int) -> None:
        """Forget a file that turned out not to need the work (a queued one is never started)."""
        future = self._pending.pop(index, None)
        if future is not None:
            future.cancel()

    def close(self, *, wait: bool = True) -> None:
        """Cancel what has not started and end the thread; ``wait`` for the work in progress to finish.

        A batch that ends normally waits (nothing is in progress by then, and a native library must not
        be torn down under a running thread at exit); an interrupted one does not.
        """
        for index in list(self._pending):
            self.drop(index)
        for _ in self._threads:
            self._jobs.put(None)
        if wait:
            for thread in self._threads:
                thread.join()

    def _serve(self) -> None:
        while (job := self._jobs.get()) is not None:
            index, future = job
            if not future.set_running_or_notify_cancel():
                continue
            try:
                future.set_result(self._work(index))
            except Exception as exc:  # handed to the caller: take() raises it on the caller's thread
                future.set_exception(exc)
