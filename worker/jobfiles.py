"""The files a job keeps in the data folder, and the only code that reads or writes them.

Stdlib only. Three kinds of write, each safe against a reader that looks at any moment:

* ``job_state.json`` is small (about 1 KB whatever the batch size) and replaced atomically on every
  event, so a poller never sees half of it;
* ``job_files.jsonl`` holds the plan (one line per file, written once, atomically) followed by one
  appended line per finished file, so a 10,000-file batch never rewrites a 10,000-entry document;
  a reader ignores a last line that is still being written;
* ``job.log`` is append-only text, one line per file at least.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import secrets
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

logger = logging.getLogger(__name__)

LOG_TAIL_BLOCK = 64 * 1024


class DamagedFile(ValueError):
    """A job file exists but cannot be understood (truncated or edited by hand)."""


@dataclass(frozen=True)
class JobPaths:
    """Where each job file lives under the data folder (``data/`` locally, ``/data`` in Docker)."""

    data_dir: Path

    @property
    def state(self) -> Path:
        return self.data_dir / "job_state.json"

    @property
    def state_backup(self) -> Path:
        return self.data_dir / "job_state.json.bak"

    @property
    def journal(self) -> Path:
        return self.data_dir / "job_files.jsonl"

    @property
    def log(self) -> Path:
        return self.data_dir / "job.log"

    @property
    def spec(self) -> Path:
        return self.data_dir / "job_spec.json"

    @property
    def worker_lock(self) -> Path:
        """Held by the running worker for its whole life; the OS frees it when the worker dies."""
        return self.data_dir / "job.lock"

    @property
    def control_lock(self) -> Path:
        """Serialises start, cancel and crash reconciliation between processes."""
        return self.data_dir / "job.control.lock"

    @property
    def cancel_marker(self) -> Path:
        """Present while a cancel is under way, so that a dying worker is recorded as cancelled, not crashed."""
        return self.data_dir / "job.cancel"

    @property
    def worker_stderr(self) -> Path:
        """What a detached worker printed on stderr (a traceback explains a crash)."""
        return self.data_dir / "worker.err"

    def job_files(self) -> tuple[Path, ...]:
        """Everything ``clear`` removes: the state, journal, log, spec and their by-products."""
        return (self.state, self.state_backup, self.journal, self.log, self.spec, self.cancel_marker,
                self.worker_stderr)


def atomic_write_text(path: Path, text: str) -> None:
    """Write ``text`` to a hidden temp file beside ``path`` and rename it over ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_name(f".{path.name}.tmp-{secrets.token_hex(4)}")
    try:
        with open(temp, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
        os.replace(temp, path)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise


def dump_json(value: object) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def read_json_object(path: Path) -> dict | None:
    """The JSON object stored at ``path``; None when the file does not exist."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    try:
        value = json.loads(text)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise DamagedFile(f"{path.name} is not valid JSON ({exc})") from exc
    if not isinstance(value, dict):
        raise DamagedFile(f"{path.name} does not hold a JSON object")
    return value


def set_aside(path: Path, backup: Path) -> None:
    """Move a damaged file out of the way (keeping it for inspection) so the next job starts clean."""
    with contextlib.suppress(FileNotFoundError):
        os.replace(path, backup)


def write_journal(path: Path, header: dict, records: Iterable[dict]) -> None:
    """Start a journal: the header line, then ``records`` (the plan), written at once and atomically."""
    lines = [dump_json(header), *(dump_json(r) for r in records)]
    atomic_write_text(path, "\n".join(lines) + "\n")


def append_line(path: Path, line: str) -> None:
    """Append one line with a single write, so concurrent readers see it whole or not at all."""
    with open(path, "a", encoding="utf-8", newline="\n") as handle:
        handle.write(line.replace("\n", " ") + "\n")


def read_journal(path: Path) -> tuple[dict | None, list[dict]]:
    """The header and the records of a journal; a line cut short by a crash or a concurrent append is
    skipped, and a missing journal reads as ``(None, [])``."""
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            lines = handle.read().split("\n")
    except FileNotFoundError:
        return None, []
    records = list(_parse_lines(lines[:-1]))  # the part after the last newline is incomplete
    if not records:
        return None, []
    return records[0], records[1:]


def fold_journal(records: Iterable[dict]) -> dict[int, dict]:
    """Merge plan and result records per file index: the plan line names the file, a later result line
    (one with a ``status``) says what happened to it."""
    files: dict[int, dict] = {}
    for record in records:
        index = record.get("i")
        if isinstance(index, int) and not isinstance(index, bool):
            files.setdefault(index, {}).update(record)
    return files


def _parse_lines(lines: list[str]) -> Iterator[dict]:
    for number, line in enumerate(lines, 1):
        try:
            value = json.loads(line)
        except json.JSONDecodeError:
            logger.warning("job journal line %d is damaged and was skipped", number)
            continue
        if isinstance(value, dict):
            yield value


def append_log(path: Path, message: str, *, now: float | None = None) -> None:
    stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(time.time() if now is None else now))
    path.parent.mkdir(parents=True, exist_ok=True)
    append_line(path, f"{stamp} {message}")


def tail_lines(path: Path, count: int) -> str:
    """The last ``count`` lines of a log of any size, reading only its end."""
    if count <= 0:
        return ""
    try:
        with open(path, "rb") as handle:
            handle.seek(0, os.SEEK_END)
            position = handle.tell()
            data = b""
            while position > 0 and data.count(b"\n") <= count:
                step = min(LOG_TAIL_BLOCK, position)
                position -= step
                handle.seek(position)
                data = handle.read(step) + data
    except FileNotFoundError:
        return ""
    lines = data.decode("utf-8", errors="replace").splitlines()
    return "\n".join(lines[-count:])


def remove_files(paths: Iterable[Path]) -> None:
    for path in paths:
        path.unlink(missing_ok=True)
