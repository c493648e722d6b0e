"""Work for upcoming files done on a background thread, so the recogniser never waits for decoding."""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import Generic, TypeVar

Result = TypeVar("Result")


class PrepareAhead(Generic[Result]):
    """Runs ``work(index)`` for files asked for in advance, one at a time, on one background thread.

    The caller bounds memory by asking for at most ``depth`` files beyond the one it takes. One thread is
    enough (the recogniser is the slow stage) and required (the VAD model is not thread-safe). The thread
    is a daemon: a cancelled worker must exit at once, not after the decode in progress. ``depth`` 0 runs
    everything in ``take``, on the caller's thread: the sequential design.
    """

    def __init__(self, work: Callable[[int], Result], depth: int) -> None:
        if depth < 0:
            raise ValueError("depth must be 0 or more")
        self.depth = depth
        self._work = work
        self._pending: dict[int, Future[Result]] = {}
        self._jobs: queue.SimpleQueue[tuple[int, Future[Result]] | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None

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
        if self._thread is None:
            self._thread = threading.Thread(target=self._serve, name="prepare-ahead", daemon=True)
            self._thread.start()

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
        if self._thread is not None:
            self._jobs.put(None)
            if wait:
                self._thread.join()

    def _serve(self) -> None:
        while (job := self._jobs.get()) is not None:
            index, future = job
            if not future.set_running_or_notify_cancel():
                continue
            try:
                future.set_result(self._work(index))
            except Exception as exc:  # handed to the caller: take() raises it on the caller's thread
                future.set_exception(exc)
