"""Progress estimates a poller shows: pure functions of what the state file records and the time now.

The model reports no fraction while it runs, so a file's progress is estimated from the time the model
has spent on it against ``duration × ASR_PROGRESS_RTF``; it never reaches 100% by itself: only a
finished file does, held there for ``WEBUI_DONE_FLASH_S`` so that a poller cannot miss it. When short files
share one recognition call, the ramp runs over the call's audio, and the later members move with it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

MODEL_STAGES = ("recognising", "aligning")
STAGE_FLOOR = {"loading": 0.0, "decoding": 0.02, "vad": 0.05, "recognising": 0.08, "aligning": 0.6, "writing": 0.97}
RUNNING_CAP = 0.97


@dataclass(frozen=True)
class Tally:
    """What the finished files add up to; enough to weigh the batch by audio duration without the journal.

    Files whose length is known (decoded, or carried from an earlier run) count by their seconds; the
    others (skipped, failed) count by their size converted to seconds at the rate the timed files show.
    """

    timed_duration_s: float = 0.0
    timed_bytes: int = 0
    untimed_bytes: int = 0
    files: int = 0

    def add(self, size_bytes: int, duration_s: float) -> Tally:
        if duration_s > 0:
            return Tally(self.timed_duration_s + duration_s, self.timed_bytes + size_bytes, self.untimed_bytes,
                         self.files + 1)
        return Tally(self.timed_duration_s, self.timed_bytes, self.untimed_bytes + size_bytes, self.files + 1)


@dataclass(frozen=True)
class RunningFile:
    """Work under way, as far as progress needs it: the file being processed, or the files recognised in a
    call shared with it (or with a file already finished) whose turn has not come."""

    size_bytes: int
    duration_s: float | None
    fraction: float
    files: int = 1


def file_progress(stage: str | None, model_elapsed_s: float | None, duration_s: float | None, rtf: float) -> float:
    """0..RUNNING_CAP for a file in progress: a floor per stage, and a time-based ramp while the model runs."""
    floor = STAGE_FLOOR.get(stage or "", 0.0)
    if stage not in MODEL_STAGES or not duration_s or rtf <= 0 or model_elapsed_s is None:
        return floor
    start = STAGE_FLOOR["recognising"]
    ramp = start + (RUNNING_CAP - start) * max(0.0, model_elapsed_s) / (duration_s * rtf)
    return min(RUNNING_CAP, max(floor, ramp))


def overall_progress(tally: Tally, total_files: int, total_bytes: int, running: Sequence[RunningFile] = ()) -> float:
    """0..1 for the batch, weighed by (estimated) audio duration rather than by file count."""
    if total_files <= 0:
        return 0.0
    seconds_per_byte = _seconds_per_byte(tally, running)
    if seconds_per_byte is None:  # nothing timed yet: sizes stand in for durations
        if total_bytes <= 0:
            return _clamp((tally.files + sum(part.fraction * part.files for part in running)) / total_files)
        finished = tally.timed_bytes + tally.untimed_bytes + sum(part.fraction * part.size_bytes for part in running)
        return _clamp(finished / total_bytes)
    running_s = [part.duration_s or part.size_bytes * seconds_per_byte for part in running]
    untimed_s = tally.untimed_bytes * seconds_per_byte
    running_bytes = sum(part.size_bytes for part in running)
    pending_bytes = max(0, total_bytes - tally.timed_bytes - tally.untimed_bytes - running_bytes)
    under_way_s = sum(part.fraction * seconds for part, seconds in zip(running, running_s, strict=True))
    finished_s = tally.timed_duration_s + untimed_s + under_way_s
    total_s = tally.timed_duration_s + untimed_s + sum(running_s) + pending_bytes * seconds_per_byte
    return _clamp(finished_s / total_s) if total_s > 0 else 0.0


def _seconds_per_byte(tally: Tally, running: Sequence[RunningFile]) -> float | None:
    if tally.timed_bytes > 0 and tally.timed_duration_s > 0:
        return tally.timed_duration_s / tally.timed_bytes
    timed = [part for part in running if part.duration_s and part.size_bytes > 0]
    return timed[0].duration_s / timed[0].size_bytes if timed else None


def _clamp(value: float) -> float:
    return min(1.0, max(0.0, value))
