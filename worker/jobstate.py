"""The small, frequently rewritten part of a job's state (``job_state.json``) as typed values.

It holds only what changes every second or summarises the batch: status, counters, the current file and
its stage, timestamps and the worker's pid/pgid. Per-file results live in the journal, so the cost of
one write does not grow with the number of files.
"""

from __future__ import annotations

import enum
from dataclasses import asdict, dataclass, field
from pathlib import Path

from worker.jobfiles import DamagedFile, atomic_write_text, dump_json, read_json_object
from worker.progress import Tally

SCHEMA_VERSION = 1
COUNTED_STATUSES = ("done", "empty", "skipped", "failed")


class JobStatus(str, enum.Enum):
    QUEUED = "queued"
    RUNNING = "running"
    CANCELLING = "cancelling"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"


FINAL_STATUSES = frozenset({JobStatus.DONE, JobStatus.FAILED, JobStatus.CANCELLED})
ACTIVE_STATUSES = frozenset({JobStatus.QUEUED, JobStatus.RUNNING, JobStatus.CANCELLING})


@dataclass(frozen=True)
class CurrentFile:
    """The file the worker is on; ``model_started_at`` marks when the model began, for the RTF estimate.

    ``call_s`` is the audio of a recognition call this file shares with later files (0 when alone), which the
    estimate runs over; ``recognised`` marks a file recognised in an earlier file's call, with only its
    subtitles left to write.
    """

    index: int
    name: str
    source: str
    output_base: str
    size_bytes: int
    started_at: float
    stage: str | None = None
    model_started_at: float | None = None
    duration_s: float | None = None
    call_s: float = 0.0
    recognised: bool = False


@dataclass(frozen=True)
class Ahead:
    """Files recognised in a call shared with an earlier file, whose turn to be written has not come: the
    batch bar counts them as under way with that call, so it moves while the call runs, not after it."""

    files: int
    size_bytes: int
    duration_s: float


@dataclass(frozen=True)
class FinishedMark:
    """The last file that finished and when, so pollers can show it at 100% for a moment."""

    index: int
    name: str
    at: float


@dataclass(frozen=True)
class JobHead:
    job_id: str
    status: JobStatus
    started_at: float
    updated_at: float
    finished_at: float | None = None
    notice: str = ""
    pid: int | None = None
    pgid: int | None = None
    total_files: int = 0
    total_bytes: int = 0
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(COUNTED_STATUSES, 0))
    tally: Tally = field(default_factory=Tally)
    current: CurrentFile | None = None
    last_finished: FinishedMark | None = None
    ahead: Ahead | None = None

    def to_dict(self) -> dict:
        data = asdict(self)
        data["status"] = self.status.value
        return {"schema_version": SCHEMA_VERSION, **data}

    @classmethod
    def from_dict(cls, data: dict) -> JobHead:
        """Raises DamagedFile for anything this version cannot trust."""
        if data.get("schema_version") != SCHEMA_VERSION:
            raise DamagedFile(f"job state has schema version {data.get('schema_version')!r}, "
                              f"expected {SCHEMA_VERSION}")
        try:
            current, last = data.get("current"), data.get("last_finished")
            return cls(
                job_id=str(data["job_id"]),
                status=JobStatus(data["status"]),
                started_at=float(data["started_at"]),
                updated_at=float(data["updated_at"]),
                finished_at=None if data.get("finished_at") is None else float(data["finished_at"]),
                notice=str(data.get("notice", "")),
                pid=data.get("pid"),
                pgid=data.get("pgid"),
                total_files=int(data.get("total_files", 0)),
                total_bytes=int(data.get("total_bytes", 0)),
                counts={k: int(data.get("counts", {}).get(k, 0)) for k in COUNTED_STATUSES},
                tally=Tally(**data.get("tally", {})),
                current=CurrentFile(**current) if current else None,
                last_finished=FinishedMark(**last) if last else None,
                ahead=Ahead(**data["ahead"]) if data.get("ahead") else None,
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise DamagedFile(f"job state is incomplete or malformed ({exc!r})") from exc


def load_head(path: Path) -> JobHead | None:
    """None when no job has run; raises DamagedFile for a truncated or hand-edited file."""
    data = read_json_object(path)
    return None if data is None else JobHead.from_dict(data)


def save_head(path: Path, head: JobHead) -> None:
    atomic_write_text(path, dump_json(head.to_dict()))
