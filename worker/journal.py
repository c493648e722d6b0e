"""The per-file journal as pollers see it: one :class:`FileEntry` per file, read incrementally.

The UI polls every second. Parsing a 10,000-file journal from scratch takes a few hundred milliseconds on
a small NAS CPU, so a reader keeps what it folded so far and only parses the lines appended since its last
look. A journal that was replaced (a new job) or cleared is detected by its header line, which carries the
job id, and read again from the start.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from dataclasses import dataclass, field
from pathlib import Path

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class FileEntry:
    index: int
    name: str
    source: str
    status: str  # pending | running | done | empty | skipped | failed
    reason: str = ""
    outputs: tuple[str, ...] = ()
    duration_s: float = 0.0
    wall_s: float = 0.0
    quality_note: str = ""  # layout problems of a finished file's subtitles, empty when there are none


def entry_from_record(index: int, record: dict) -> FileEntry | None:
    """The entry for a folded plan + result record; None when the record is malformed."""
    try:
        return FileEntry(
            index=index, name=str(record.get("name", "")), source=str(record.get("source", "")),
            status=str(record.get("status") or "pending"), reason=str(record.get("reason", "")),
            outputs=tuple(str(p) for p in record.get("outputs", ())),
            duration_s=float(record.get("duration_s", 0.0)), wall_s=float(record.get("wall_s", 0.0)),
            quality_note=str(record.get("quality_note", "")),
        )
    except (TypeError, ValueError):
        logger.warning("job journal entry %d is malformed and was skipped", index)
        return None


@dataclass
class _Folded:
    """What one reader has folded of one journal so far."""

    header_line: bytes = b""
    job_id: str | None = None
    offset: int = 0
    records: dict[int, dict] = field(default_factory=dict)
    entries: dict[int, FileEntry] = field(default_factory=dict)
    order: list[int] = field(default_factory=list)
    listing: tuple[FileEntry, ...] | None = None  # the entries in order, rebuilt only after a change


class JournalReader:
    """Folds journals into entries, re-reading only what was appended since the previous call."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._folded: dict[Path, _Folded] = {}

    def read(self, path: Path) -> tuple[str | None, tuple[FileEntry, ...]]:
        """The journal's job id and its entries in file order; ``(None, [])`` when there is no journal."""
        with self._lock:
            try:
                size = os.stat(path).st_size
                with open(path, "rb") as handle:
                    folded = self._folded.get(path)
                    if folded is None or not _same_journal(handle, folded, size):
                        folded = self._folded[path] = _Folded()
                    handle.seek(folded.offset)
                    _consume(folded, handle.read(size - folded.offset))
            except FileNotFoundError:
                self._folded.pop(path, None)
                return None, ()
            if folded.listing is None:
                folded.listing = tuple(folded.entries[i] for i in folded.order if i in folded.entries)
            return folded.job_id, folded.listing


def _same_journal(handle, folded: _Folded, size: int) -> bool:
    if size < folded.offset or not folded.header_line:
        return False
    return handle.read(len(folded.header_line)) == folded.header_line


def _consume(folded: _Folded, data: bytes) -> None:
    """Fold the complete lines of ``data``; a line still being written is left for the next read."""
    complete = data[: data.rfind(b"\n") + 1]
    new_index = False
    for raw in complete.splitlines(keepends=True):
        at_start = folded.offset == 0
        folded.offset += len(raw)
        try:
            record = json.loads(raw)
        except (json.JSONDecodeError, UnicodeDecodeError):
            logger.warning("a damaged job journal line was skipped")
            continue
        if not isinstance(record, dict):
            continue
        if at_start:
            folded.header_line = raw
            folded.job_id = str(record.get("job_id"))
            continue
        index = record.get("i")
        if not isinstance(index, int) or isinstance(index, bool):
            continue
        if index not in folded.records:
            new_index = True
        merged = folded.records.setdefault(index, {})
        merged.update(record)
        entry = entry_from_record(index, merged)
        if entry is not None:
            folded.entries[index] = entry
            folded.listing = None
    if new_index:
        folded.order = sorted(folded.records)
