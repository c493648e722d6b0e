"""Cost of recording a job's progress, for batches of 100, 1,000 and 10,000 files.

Drives the real recorder (the worker's batch reporter) through every event of every file — start, three
stages, finish — with a programmed result, and reports per event what it costs, how big the files get and
what one UI poll (``read_job``) costs at the end. For comparison it also times the naive design this
replaces: rewriting one JSON document that holds every file's entry on each update. Run from the
repository root (``--dir`` to measure on the disk that will hold the data folder, e.g. a NAS mount):

    python -m bench.state_update [--sizes 100 1000 10000] [--dir PATH]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from asr_core.pipeline import FileResult, FileStatus
from worker.jobfiles import JobPaths, atomic_write_text, dump_json, write_journal
from worker.jobstate import SCHEMA_VERSION, JobHead, JobStatus, save_head
from worker.protocol import read_job
from worker.recorder import JobRecorder
from worker.scan import PlannedFile

STAGES = ("decoding", "recognising", "aligning")


def timed(action: Callable[[], object], repeat: int) -> float:
    """Median seconds of ``repeat`` runs."""
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        action()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def planned_files(count: int) -> list[PlannedFile]:
    return [
        PlannedFile(
            source=Path(f"/music/Artist {i // 100:03d}/Album/{i:05d} - a fairly typical track title.flac"),
            output_base=Path(f"/output/Artist {i // 100:03d}/Album/{i:05d} - a fairly typical track title.flac"),
            display_name=f"Artist {i // 100:03d}/Album/{i:05d} - a fairly typical track title.flac",
        )
        for i in range(count)
    ]


def run_batch_events(folder: Path, count: int) -> dict[str, float]:
    paths = JobPaths(folder)
    files = planned_files(count)
    sizes = [30_000_000] * count
    now = time.time()
    head = JobHead(job_id="bench", status=JobStatus.RUNNING, started_at=now, updated_at=now, pid=1, pgid=1,
                   total_files=count, total_bytes=sum(sizes))
    plan = [{"i": i, "name": f.display_name, "source": str(f.source), "bytes": s}
            for i, (f, s) in enumerate(zip(files, sizes, strict=True))]
    plan_s = timed(lambda: write_journal(paths.journal, {"schema_version": SCHEMA_VERSION, "job_id": "bench"},
                                         plan), 1)
    save_head(paths.state, head)
    recorder = JobRecorder(paths, head, range(count), sizes, measure_duration=lambda _: 240.0)
    event_times: list[float] = []
    for index, planned in enumerate(files):
        result = FileResult(planned.source, FileStatus.DONE, duration_s=240.0,
                            outputs=(planned.output_base.with_suffix(".srt"), planned.output_base.with_suffix(".lrc")))
        events = [lambda i=index, p=planned: recorder.file_started(i, p)]
        events += [lambda i=index, s=stage: recorder.stage(i, s, 0.0) for stage in STAGES]
        events.append(lambda i=index, p=planned, r=result: recorder.file_finished(i, p, r))
        for event in events:
            start = time.perf_counter()
            event()
            event_times.append(time.perf_counter() - start)
    first_poll_s = timed(lambda: read_job(folder, log_lines=200), 1)  # a UI that just started: parses it all
    poll_s = timed(lambda: read_job(folder, log_lines=200), 5)
    return {
        "plan_write_ms": plan_s * 1000,
        "event_median_ms": statistics.median(event_times) * 1000,
        "event_p99_ms": sorted(event_times)[int(len(event_times) * 0.99)] * 1000,
        "state_bytes": paths.state.stat().st_size,
        "journal_bytes": paths.journal.stat().st_size,
        "log_bytes": paths.log.stat().st_size,
        "first_read_job_ms": first_poll_s * 1000,
        "read_job_ms": poll_s * 1000,
    }


def naive_rewrite(folder: Path, count: int) -> dict[str, float]:
    """One document with every entry, rewritten atomically on each update (the design not taken)."""
    entries = [{"index": i, "name": f.display_name, "source": str(f.source), "status": "done", "reason": "",
                "outputs": [str(f.output_base.with_suffix(".srt")), str(f.output_base.with_suffix(".lrc"))],
                "duration_s": 240.0, "wall_s": 12.3} for i, f in enumerate(planned_files(count))]
    path = folder / "naive_state.json"
    cost = timed(lambda: atomic_write_text(path, dump_json({"status": "running", "files": entries})), 20)
    return {"naive_update_ms": cost * 1000, "naive_bytes": path.stat().st_size}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 1000, 10000])
    parser.add_argument("--dir", type=Path, default=None, help="where to write (default: a temp folder)")
    args = parser.parse_args()
    header = (f"{'files':>6} | {'update med ms':>13} | {'update p99 ms':>13} | {'job_state.json':>14} | "
              f"{'journal':>10} | {'plan write ms':>13} | {'1st read_job ms':>15} | {'read_job ms':>11} | "
              f"{'naive update ms':>15} | "
              f"{'naive doc':>10}")
    print(header)
    print("-" * len(header))
    for count in args.sizes:
        with tempfile.TemporaryDirectory(dir=args.dir) as work:
            ours = run_batch_events(Path(work) / "data", count)
            naive = naive_rewrite(Path(work), count)
        print(f"{count:>6} | {ours['event_median_ms']:>13.3f} | {ours['event_p99_ms']:>13.3f} | "
              f"{ours['state_bytes']:>12} B | {ours['journal_bytes'] / 1024:>7.0f} KB | "
              f"{ours['plan_write_ms']:>13.1f} | {ours['first_read_job_ms']:>15.1f} | {ours['read_job_ms']:>11.1f} | "
              f"{naive['naive_update_ms']:>15.2f} | "
              f"{naive['naive_bytes'] / 1024:>7.0f} KB")


if __name__ == "__main__":
    main()
