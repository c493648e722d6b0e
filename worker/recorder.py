"""The batch reporter that records a running job: journal line, log line and state update per event."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from pathlib import Path

from asr_core.pipeline import FileResult, FileStatus
from asr_core.quality import summarize
from worker.jobfiles import JobPaths, append_line, append_log, dump_json
from worker.jobstate import Ahead, CurrentFile, FinishedMark, JobHead, JobStatus, save_head
from worker.progress import MODEL_STAGES
from worker.scan import PlannedFile

# A skipped file changes little a poller cares about: a run of skips is written at most this often. Each
# stage and each processed file are written at once (a reader must know which file's subtitles might be
# half-written if the worker dies; every file that writes reports a stage first).
QUIET_WRITE_INTERVAL_S = 0.5


def describe(planned: PlannedFile, result: FileResult) -> str:
    """The one line per file, on the CLI's stdout and in the log: status, name, then outputs or the reason."""
    line = f"{result.status.value:<7} {planned.display_name}"
    if result.outputs:
        line += " -> " + ", ".join(str(p) for p in result.outputs)
    if result.reason:
        line += f": {result.reason}"
    elif note := summarize(result.quality):
        line += f" (quality: {note})"
    return line.replace("\n", " ")


def result_record(index: int, result: FileResult, wall_s: float) -> dict:
    """The journal line of a finished file."""
    return {
        "i": index, "status": result.status.value, "reason": result.reason,
        "outputs": [str(p) for p in result.outputs], "duration_s": round(result.duration_s, 3),
        "wall_s": round(wall_s, 3), "quality": result.quality, "quality_note": summarize(result.quality),
    }


class JobRecorder:
    """Turns batch events into the job files. ``positions`` maps the batch's own indices to the job's (a
    resumed job runs only the files not done yet); ``measure_duration`` finds a file's length for the
    progress estimate."""

    def __init__(
        self,
        paths: JobPaths,
        head: JobHead,
        positions: Sequence[int],
        sizes: Sequence[int],
        *,
        measure_duration: Callable[[Path], float | None],
        echo: Callable[[str], None] | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.head = head
        self._paths = paths
        self._positions = positions
        self._sizes = sizes
        self._measure_duration = measure_duration
        self._echo = echo
        self._clock = clock
        self._last_write = float("-inf")
        self._ahead: dict[int, float] = {}  # job position → audio seconds of each file recognised ahead

    def file_started(self, index: int, planned: PlannedFile) -> None:
        position = self._positions[index]
        current = CurrentFile(
            index=position, name=planned.display_name, source=str(planned.source),
            output_base=str(planned.output_base), size_bytes=self._sizes[position], started_at=self._clock(),
            recognised=self._ahead.pop(position, None) is not None,
        )
        self._update(force=False, current=current, ahead=self._ahead_of_turn())

    def recognising_together(self, index: int, durations_s: Mapping[int, float]) -> None:
        self._ahead = {self._positions[member]: seconds for member, seconds in durations_s.items() if member != index}
        current = self.head.current
        if current is not None:
            current = replace(current, call_s=sum(durations_s.values()))
        self._update(force=True, current=current, ahead=self._ahead_of_turn())

    def stage(self, index: int, stage: str, fraction: float) -> None:
        current = self.head.current
        if current is None or current.stage == stage:
            return
        changes: dict[str, object] = {"stage": stage}
        if current.stage is None:  # the file is really processed (not skipped): worth measuring
            changes["duration_s"] = self._measure_duration(Path(current.source))
        if stage in MODEL_STAGES and current.model_started_at is None:
            changes["model_started_at"] = self._clock()
        self._update(force=True, current=replace(current, **changes))

    def file_finished(self, index: int, planned: PlannedFile, result: FileResult) -> None:
        position = self._positions[index]
        now = self._clock()
        started = self.head.current.started_at if self.head.current else now
        append_line(self._paths.journal, dump_json(result_record(position, result, now - started)))
        line = describe(planned, result)
        append_log(self._paths.log, line, now=now)
        if self._echo is not None:
            self._echo(line)
        counts = dict(self.head.counts)
        counts[result.status.value] += 1
        processed = result.status is not FileStatus.SKIPPED
        self._update(
            force=processed,
            current=None,
            counts=counts,
            tally=self.head.tally.add(self._sizes[position], result.duration_s),
            last_finished=FinishedMark(position, planned.display_name, now) if processed else self.head.last_finished,
        )

    def finish(self, status: JobStatus, notice: str) -> JobHead:
        """Record the end of the job; the state is final before the lock is released."""
        now = self._clock()
        self.head = replace(self.head, status=status, notice=notice, current=None, ahead=None, finished_at=now,
                            updated_at=now)
        save_head(self._paths.state, self.head)
        append_log(self._paths.log, f"job {status.value}: {notice}", now=now)
        return self.head

    def _ahead_of_turn(self) -> Ahead | None:
        if not self._ahead:
            return None
        return Ahead(len(self._ahead), sum(self._sizes[p] for p in self._ahead), sum(self._ahead.values()))

    def _update(self, *, force: bool, **changes: object) -> None:
        now = self._clock()
        self.head = replace(self.head, updated_at=now, **changes)
        if force or now - self._last_write >= QUIET_WRITE_INTERVAL_S:
            save_head(self._paths.state, self.head)
            self._last_write = now
