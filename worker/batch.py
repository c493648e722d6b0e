"""Run a planned batch file by file: skip what exists, load the model only when needed, never stop on one file.

While the recogniser works on one file, the next ones are decoded and searched for speech in the
background (see ``worker.prefetch``), and short files share one recognition call (see ``worker.grouping``);
events and results still come strictly file by file, in order.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path
from typing import Protocol

from asr_core.errors import AsrError
from asr_core.options import PipelineOptions
from asr_core.pipeline import (
    FileResult,
    FileStatus,
    Recogniser,
    RecognitionOutcome,
    SpeechFinder,
    finish_file,
    prepare_file,
)
from asr_core.writers import get_writer
from worker.grouping import Prepared, RecognitionGroups, StageEvent, replay
from worker.prefetch import PrepareAhead
from worker.scan import PlannedFile

logger = logging.getLogger(__name__)

# Files decoded ahead of the one being recognised (more when a group of short files is recognised at once):
# enough to hide a slow decode behind a short file, few enough to keep memory to a few files' audio.
DEFAULT_PREFETCH = 2
MIN_PREPARE_WORKERS, MAX_PREPARE_WORKERS = 2, 4


class BatchReporter(Protocol):
    """Receives every event of a batch; the CLI prints them, the job state records them."""

    def file_started(self, index: int, planned: PlannedFile) -> None: ...

    def stage(self, index: int, stage: str, fraction: float) -> None: ...

    def recognising_together(self, index: int, durations_s: Mapping[int, float]) -> None:
        """File ``index`` starts one recognition call with the later files in ``durations_s`` (every member,
        ``index`` first, mapped to its audio seconds); those files then only have their subtitles to write."""

    def file_finished(self, index: int, planned: PlannedFile, result: FileResult) -> None: ...


@dataclass
class BatchTotals:
    done: int = 0
    empty: int = 0
    skipped: int = 0
    failed: int = 0

    def count(self, status: FileStatus) -> None:
        setattr(self, status.value, getattr(self, status.value) + 1)


def default_prepare_workers() -> int:
    """Threads decoding and searching files for speech: one per two cores (each keeps an ffmpeg process and a
    VAD thread busy), at most four, and at least two, since a second thread already hides the start-up of
    ffmpeg for each short file even on two cores."""
    return max(MIN_PREPARE_WORKERS, min(MAX_PREPARE_WORKERS, (os.cpu_count() or 1) // 2))


def output_path(base: Path, fmt: str) -> Path:
    return base.with_suffix(get_writer(fmt).extension)


def formats_to_write(planned: PlannedFile, options: PipelineOptions) -> tuple[str, ...]:
    """Without overwrite only the missing sidecars are written; an existing one is never touched."""
    formats = options.output.formats
    if options.output.overwrite:
        return formats
    return tuple(f for f in formats if not output_path(planned.output_base, f).exists())


class LazyModels:
    """Loads the recogniser (and VAD) on the first file that needs them, so an all-skipped batch loads nothing.

    Each thread that prepares files gets a VAD model of its own (``vad_for_this_thread``): a model keeps
    state while it scans a file, so two files scanned at once need two models.
    """

    def __init__(
        self, load_engine: Callable[[], Recogniser], load_vad: Callable[[], SpeechFinder | None]
    ) -> None:
        self._load_engine = load_engine
        self._load_vad = load_vad
        self._loaded: tuple[Recogniser, SpeechFinder | None] | None = None
        self._per_thread = threading.local()
        self._shared_vad_used = False
        self._loading = threading.Lock()
        self.error: str | None = None

    @property
    def loaded(self) -> bool:
        return self._loaded is not None

    def get(self) -> tuple[Recogniser, SpeechFinder | None]:
        with self._loading:
            if self._loaded is None:
                self._loaded = (self._load_engine(), self._load_vad())
            return self._loaded

    def vad_for_this_thread(self) -> SpeechFinder | None:
        """The VAD the calling thread scans with; the first thread to ask uses the one ``get`` loaded."""
        if not hasattr(self._per_thread, "vad"):
            _, shared = self.get()
            with self._loading:
                first, self._shared_vad_used = not self._shared_vad_used, True
            self._per_thread.vad = shared if first else self._load_vad()
        return self._per_thread.vad


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
    prefetch: int = DEFAULT_PREFETCH,
    prepare_workers: int | None = None,
) -> BatchTotals:
    """Process ``files`` in order and report each; a model that fails to load fails the remaining files.

    ``already_written`` maps outputs an earlier run of the same job wrote to the file that wrote them,
    so a resumed batch explains a same-stem skip the same way as an uninterrupted one. ``prefetch`` is how
    many files are decoded ahead of the one being recognised (0: one file at a time), by ``prepare_workers``
    threads (default: one per two CPU cores, two to four). Short files are recognised together up to the
    model's batch size (``options.model.batch_size``, see ``worker.grouping``).
    """
    totals = BatchTotals()
    claimed: dict[Path, str] = dict(already_written or {})
    toucher = AlbumRootToucher() if touch_album_roots else None
    workers = prepare_workers or default_prepare_workers()
    depth = max(prefetch, workers) if prefetch else 0  # enough files asked for to keep every worker busy
    ahead = PrepareAhead(lambda i: _prepare(files[i], models, ffmpeg), depth, workers)
    groups = RecognitionGroups(
        ahead,
        count=len(files),
        batch_windows=options.model.batch_size,
        will_process=lambda i: bool(formats_to_write(files[i], options)),
        output_base_of=lambda i: files[i].output_base,
    )
    try:
        for index, planned in enumerate(files):
            reporter.file_started(index, planned)
            result = _run_one(index, planned, options, models, ffmpeg, claimed, groups, partial(reporter.stage, index),
                              partial(reporter.recognising_together, index))
            groups.release(index)
            for output in result.outputs:
                claimed[output] = planned.display_name
            if toucher is not None:
                toucher.file_written(planned, result)
            totals.count(result.status)
            reporter.file_finished(index, planned, result)
    except BaseException:
        ahead.close(wait=False)  # cancelled or broken: do not wait for a decode nobody will use
        raise
    ahead.close()
    return totals


def _prepare(planned: PlannedFile, models: LazyModels, ffmpeg: str) -> Prepared:
    """Decode and VAD one file, keeping the stages it went through to report them on the file's turn."""
    stages: list[StageEvent] = []
    vad = models.vad_for_this_thread()
    prepared = prepare_file(planned.source, ffmpeg=ffmpeg, vad=vad, on_progress=lambda s, f: stages.append((s, f)))
    return prepared, tuple(stages)


def _run_one(
    index: int,
    planned: PlannedFile,
    options: PipelineOptions,
    models: LazyModels,
    ffmpeg: str,
    claimed: dict[Path, str],
    groups: RecognitionGroups,
    on_progress: Callable[[str, float], None],
    on_group: Callable[[Mapping[int, float]], None],
) -> FileResult:
    formats = formats_to_write(planned, options)
    if not formats:  # a same-stem file written just before: its early decode is not needed
        first = output_path(planned.output_base, options.output.formats[0])
        owner = claimed.get(first)
        reason = f"{first.name} was already written by {owner} in this batch" if owner else "subtitles exist"
        return FileResult(planned.source, FileStatus.SKIPPED, reason=reason)
    if models.error:
        return FileResult(planned.source, FileStatus.FAILED, reason=models.error)
    if not models.loaded:
        on_progress("loading", 0.0)  # loading takes a while on the first file: say so
    try:
        engine, _ = models.get()
    except AsrError as exc:
        models.error = f"model failed to load: {exc}"
        logger.error("%s", models.error)
        return FileResult(planned.source, FileStatus.FAILED, reason=models.error)
    try:
        planned.output_base.parent.mkdir(parents=True, exist_ok=True)  # mirror the input's sub-folders
    except OSError as exc:
        return FileResult(planned.source, FileStatus.FAILED, reason=f"cannot create the output folder: {exc}")
    taken = groups.take(index)
    groups.prepare_next(index)
    replay(taken.stages, on_progress)
    if isinstance(taken.prepared, FileResult):
        return taken.prepared
    recognitions: RecognitionOutcome = []
    if taken.prepared.spans:
        replay(taken.recognition_stages, on_progress)
        recognitions = groups.recognise(index, engine, lambda stage: on_progress(stage, 0.0), on_group)
    file_options = replace(options, output=replace(options.output, formats=formats))
    return finish_file(taken.prepared, planned.output_base, file_options, recognitions=recognitions, ffmpeg=ffmpeg)
