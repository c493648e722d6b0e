"""Running a batch as a job: claim the single-job lock, plan, record every event, settle the final state.

The detached worker the UI starts and the headless CLI both come through here, so a cron job on a NAS and
the UI see the same state, journal and log.
"""

from __future__ import annotations

import logging
import os
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import replace
from functools import partial
from pathlib import Path

from asr_core.errors import AsrError
from asr_core.options import CueOptions, ModelOptions, OutputOptions, PipelineOptions, VadOptions, WriterOptions
from worker.batch import LazyModels, run_batch
from worker.jobfiles import (
    JobPaths,
    append_log,
    atomic_write_text,
    dump_json,
    fold_journal,
    read_journal,
    write_journal,
)
from worker.joblock import JobAlreadyRunning, control, try_hold, worker_lock
from worker.jobstate import SCHEMA_VERSION, JobHead, JobStatus, save_head
from worker.leftovers import remove_partial_outputs
from worker.procs import own_process_group
from worker.progress import Tally
from worker.protocol import JobSpec
from worker.recorder import JobRecorder
from worker.scan import PlannedFile, normalise_extensions, plan_batch

logger = logging.getLogger(__name__)

# A detached worker waits this long for the lock while the launcher checks that it took it.
DETACHED_LOCK_WAIT_S = 30.0
# Results a resumed job keeps instead of redoing the file (as long as the subtitles are still there).
RESUMABLE_STATUSES = ("done", "empty")


def pipeline_options(spec: JobSpec) -> PipelineOptions:
    """Raises ValueError with a readable message for a spec the pipeline cannot run."""
    try:
        return PipelineOptions(
            model=ModelOptions(**spec.model),
            vad=VadOptions(**spec.vad),
            cues=CueOptions(**spec.cues),
            writer=WriterOptions(**spec.writer),
            output=OutputOptions(
                formats=spec.formats,
                output_dir=spec.output_dir or "",
                save_next_to_source=spec.output_dir is None,
                overwrite=spec.overwrite,
            ),
        )
    except TypeError as exc:  # an unknown option name
        raise ValueError(f"invalid job options: {exc}") from exc


def plan_files(spec: JobSpec) -> list[PlannedFile]:
    files = plan_batch(
        [Path(p) for p in spec.inputs],
        None if spec.output_dir is None else Path(spec.output_dir),
        extensions=normalise_extensions(spec.extensions),
        recursive=spec.include_subfolders,
    )
    if spec.only_sources:
        wanted = set(spec.only_sources)
        files = [f for f in files if str(f.source) in wanted]
    return files


def carried_results(paths: JobPaths, files: Sequence[PlannedFile]) -> dict[int, dict]:
    """Results of the previous run of this job worth keeping, by index in ``files``: files done whose
    subtitles all still exist."""
    _, records = read_journal(paths.journal)
    previous = {
        record["source"]: record
        for record in fold_journal(records).values()
        if record.get("status") in RESUMABLE_STATUSES
        and isinstance(record.get("source"), str)
        and all(Path(output).is_file() for output in record.get("outputs", ()))
    }
    return {i: previous[str(f.source)] for i, f in enumerate(files) if str(f.source) in previous}


def build_models(options: PipelineOptions) -> LazyModels:
    """Model loaders that run on the first file needing them, so an all-skipped batch never imports torch."""

    def load_engine():
        from asr_core.engine import Engine

        return Engine.load(options.model)

    def load_vad():
        if not options.vad.enabled:
            return None
        from asr_core.vad import load_vad

        return load_vad(options.vad)

    return LazyModels(load_engine, load_vad)


def media_duration(source: Path, *, ffmpeg: str) -> float | None:
    """The file's length for the progress estimate; None when a quick probe cannot tell."""
    from asr_core.media import probe

    try:
        return probe(source, ffmpeg).duration_s
    except AsrError:
        return None


def file_size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def run_job(
    spec: JobSpec,
    data_dir: Path,
    *,
    ffmpeg: str | None = None,
    resume: bool = False,
    detached: bool = False,
    echo: Callable[[str], None] | None = None,
) -> JobHead:
    """Run ``spec`` to the end and return its final state; raises JobAlreadyRunning when another job holds
    the lock. ``detached`` is the launcher's worker: it waits for the lock the launcher left free for it."""
    paths = JobPaths(Path(data_dir))
    lock = worker_lock(paths.worker_lock)
    if detached:
        held = try_hold(lock, DETACHED_LOCK_WAIT_S)
    else:
        with control(paths.control_lock) as free:
            held = free and try_hold(lock)
            if held:  # by-products of an earlier detached run would be mistaken for this one's
                paths.worker_stderr.unlink(missing_ok=True)
                paths.cancel_marker.unlink(missing_ok=True)
    if not held:
        raise JobAlreadyRunning.describe(paths)
    try:
        return _run_claimed(spec, paths, ffmpeg=ffmpeg, resume=resume, echo=echo)
    finally:
        lock.release()


def _run_claimed(
    spec: JobSpec, paths: JobPaths, *, ffmpeg: str | None, resume: bool, echo: Callable[[str], None] | None
) -> JobHead:
    from asr_core.media import find_ffmpeg

    now = time.time()
    head = JobHead(job_id=uuid.uuid4().hex[:12], status=JobStatus.RUNNING, started_at=now, updated_at=now,
                   pid=os.getpid(), pgid=own_process_group())
    atomic_write_text(paths.spec, dump_json(spec.to_dict()))
    try:
        options = pipeline_options(spec)
        ffmpeg_path = find_ffmpeg(ffmpeg)
    except (ValueError, AsrError) as exc:
        return _fail_before_start(paths, head, str(exc))
    save_head(paths.state, replace(head, notice="scanning the input folders…"))  # can take a while on a NAS
    files = plan_files(spec)
    carried = carried_results(paths, files) if resume else {}
    sizes = [file_size(f.source) for f in files]
    head = _planned_head(head, files, sizes, carried)
    write_journal(paths.journal, {"schema_version": SCHEMA_VERSION, "job_id": head.job_id},
                  [*_plan_records(files, sizes), *_carried_records(carried)])
    save_head(paths.state, head)
    kept = f", {len(carried)} already done earlier" if resume else ""
    append_log(paths.log, f"job {head.job_id} {'resumed' if resume else 'started'}: {len(files)} file(s){kept}")
    remaining = [i for i in range(len(files)) if i not in carried]
    remove_partial_outputs(files[i].output_base.parent for i in remaining)
    recorder = JobRecorder(paths, head, remaining, sizes, measure_duration=partial(media_duration, ffmpeg=ffmpeg_path),
                           echo=echo)
    try:
        run_batch(
            [files[i] for i in remaining],
            options,
            models=build_models(options),
            ffmpeg=ffmpeg_path,
            reporter=recorder,
            already_written={Path(o): files[i].display_name for i, r in carried.items()
                             for o in r.get("outputs", ())},
            touch_album_roots=spec.touch_album_root,
        )
    except KeyboardInterrupt:
        recorder.finish(JobStatus.CANCELLED, "interrupted")
        raise
    except Exception as exc:
        logger.exception("the job stopped on an unexpected error")
        recorder.finish(JobStatus.FAILED, f"the job stopped on an unexpected error: {exc!r}")
        raise
    return recorder.finish(JobStatus.DONE, summary(recorder.head))


def summary(head: JobHead) -> str:
    if head.total_files == 0:
        return "no media files found"
    counts = head.counts
    return (f"{head.total_files} files: {counts['done']} done, {counts['empty']} empty, "
            f"{counts['skipped']} skipped, {counts['failed']} failed")


def _fail_before_start(paths: JobPaths, head: JobHead, reason: str) -> JobHead:
    failed = replace(head, status=JobStatus.FAILED, notice=reason, finished_at=time.time())
    save_head(paths.state, failed)
    append_log(paths.log, f"job {head.job_id} failed: {reason}")
    return failed


def _planned_head(
    head: JobHead, files: Sequence[PlannedFile], sizes: Sequence[int], carried: dict[int, dict]
) -> JobHead:
    counts = dict(head.counts)
    tally = Tally()
    for index, record in carried.items():
        counts[record["status"]] += 1
        tally = tally.add(sizes[index], float(record.get("duration_s", 0.0)))
    return replace(head, total_files=len(files), total_bytes=sum(sizes), counts=counts, tally=tally)


def _plan_records(files: Sequence[PlannedFile], sizes: Sequence[int]) -> list[dict]:
    return [{"i": i, "name": f.display_name, "source": str(f.source), "bytes": size}
            for i, (f, size) in enumerate(zip(files, sizes, strict=True))]


def _carried_records(carried: dict[int, dict]) -> list[dict]:
    keys = ("status", "reason", "outputs", "duration_s", "wall_s")
    return [{"i": i, **{k: record[k] for k in keys if k in record}} for i, record in carried.items()]
