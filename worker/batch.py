"""Run a planned batch file by file: skip what exists, load the model only when needed, never stop on one file."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Protocol

from asr_core.errors import AsrError
from asr_core.options import PipelineOptions
from asr_core.pipeline import FileResult, FileStatus, Recogniser, SpeechFinder, process_file
from asr_core.writers import get_writer
from worker.scan import PlannedFile

logger = logging.getLogger(__name__)


class BatchReporter(Protocol):
    """Receives every event of a batch; the CLI prints them, the job state records them."""

    def file_started(self, index: int, planned: PlannedFile) -> None: ...

    def stage(self, index: int, stage: str, fraction: float) -> None: ...

    def file_finished(self, index: int, planned: PlannedFile, result: FileResult) -> None: ...


@dataclass
class BatchTotals:
    done: int = 0
    empty: int = 0
    skipped: int = 0
    failed: int = 0

    def count(self, status: FileStatus) -> None:
        setattr(self, status.value, getattr(self, status.value) + 1)


def output_path(base: Path, fmt: str) -> Path:
    return base.with_suffix(get_writer(fmt).extension)


def formats_to_write(planned: PlannedFile, options: PipelineOptions) -> tuple[str, ...]:
    """Without overwrite only the missing sidecars are written; an existing one is never touched."""
    formats = options.output.formats
    if options.output.overwrite:
        return formats
    return tuple(f for f in formats if not output_path(planned.output_base, f).exists())


class LazyModels:
    """Loads the recogniser (and VAD) on the first file that needs them, so an all-skipped batch loads nothing."""

    def __init__(
        self, load_engine: Callable[[], Recogniser], load_vad: Callable[[], SpeechFinder | None]
    ) -> None:
        self._load_engine = load_engine
        self._load_vad = load_vad
        self._loaded: tuple[Recogniser, SpeechFinder | None] | None = None
        self.error: str | None = None

    @property
    def loaded(self) -> bool:
        return self._loaded is not None

    def get(self) -> tuple[Recogniser, SpeechFinder | None]:
        if self._loaded is None:
            self._loaded = (self._load_engine(), self._load_vad())
        return self._loaded


class AlbumRootToucher:
    """Touches each album folder (first-level sub-folder of an input) once, after its first subtitle is
    written, for music servers that only rescan folders whose modification time changed."""

    def __init__(self) -> None:
        self._touched: set[Path] = set()

    def file_written(self, planned: PlannedFile, result: FileResult) -> None:
        album = planned.album_root
        if album is None or not result.outputs or album in self._touched:
            return
        self._touched.add(album)
        try:
            os.utime(album)
        except OSError as exc:
            logger.warning("cannot update the modification time of %s: %s", album, exc)


def run_batch(
    files: Sequence[PlannedFile],
    options: PipelineOptions,
    *,
    models: LazyModels,
    ffmpeg: str,
    reporter: BatchReporter,
    already_written: Mapping[Path, str] | None = None,
    touch_album_roots: bool = False,
) -> BatchTotals:
    """Process ``files`` in order and report each; a model that fails to load fails the remaining files.

    ``already_written`` maps outputs an earlier run of the same job wrote to the file that wrote them,
    so a resumed batch explains a same-stem skip the same way as an uninterrupted one.
    """
    totals = BatchTotals()
    claimed: dict[Path, str] = dict(already_written or {})
    toucher = AlbumRootToucher() if touch_album_roots else None
    for index, planned in enumerate(files):
        reporter.file_started(index, planned)
        result = _run_one(planned, options, models, ffmpeg, claimed, lambda s, f, i=index: reporter.stage(i, s, f))
        for output in result.outputs:
            claimed[output] = planned.display_name
        if toucher is not None:
            toucher.file_written(planned, result)
        totals.count(result.status)
        reporter.file_finished(index, planned, result)
    return totals


def _run_one(
    planned: PlannedFile,
    options: PipelineOptions,
    models: LazyModels,
    ffmpeg: str,
    claimed: dict[Path, str],
    on_progress: Callable[[str, float], None],
) -> FileResult:
    formats = formats_to_write(planned, options)
    if not formats:
        first = output_path(planned.output_base, options.output.formats[0])
        owner = claimed.get(first)
        reason = f"{first.name} was already written by {owner} in this batch" if owner else "subtitles exist"
        return FileResult(planned.source, FileStatus.SKIPPED, reason=reason)
    if models.error:
        return FileResult(planned.source, FileStatus.FAILED, reason=models.error)
    if not models.loaded:
        on_progress("loading", 0.0)  # loading takes a while on the first file: say so
    try:
        engine, vad = models.get()
    except AsrError as exc:
        models.error = f"model failed to load: {exc}"
        logger.error("%s", models.error)
        return FileResult(planned.source, FileStatus.FAILED, reason=models.error)
    try:
        planned.output_base.parent.mkdir(parents=True, exist_ok=True)  # mirror the input's sub-folders
    except OSError as exc:
        return FileResult(planned.source, FileStatus.FAILED, reason=f"cannot create the output folder: {exc}")
    file_options = replace(options, output=replace(options.output, formats=formats))
    return process_file(
        planned.source,
        planned.output_base,
        file_options,
        engine=engine,
        ffmpeg=ffmpeg,
        vad=vad,
        on_progress=on_progress,
    )
