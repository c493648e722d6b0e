"""Cost of the batch's bookkeeping for 1,000, 10,000 and 100,000 files, with empty stand-in media files.

Per size: scanning the input folder (``plan_batch``), the skip check of a batch whose subtitles all exist
(``run_batch`` through the job recorder, journal and state file included, no model loaded), and one UI
poll (``read_job``) of the finished job, first and repeated. Run from the repository root:

    python -m bench.scaling [--sizes 1000 10000 100000]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from asr_core.options import OutputOptions, PipelineOptions
from worker.batch import LazyModels, run_batch
from worker.jobfiles import JobPaths, write_journal
from worker.jobstate import SCHEMA_VERSION, JobHead, JobStatus, save_head
from worker.protocol import read_job
from worker.recorder import JobRecorder
from worker.scan import plan_batch

FILES_PER_ALBUM = 100


def make_library(root: Path, count: int) -> tuple[Path, Path]:
    """``count`` empty .flac files in albums of 100, each with its .srt already written."""
    inputs, out = root / "in", root / "out"
    for index in range(count):
        album = f"artist {index // 1000:03d}/album {index // FILES_PER_ALBUM:04d}"
        if index % FILES_PER_ALBUM == 0:
            (inputs / album).mkdir(parents=True)
            (out / album).mkdir(parents=True)
        (inputs / album / f"{index:06d} track.flac").touch()
        (out / album / f"{index:06d} track.srt").touch()
    return inputs, out


def refuse_to_load():
    raise AssertionError("an all-skipped batch must not load a model")


def measure(root: Path, count: int) -> dict[str, float]:
    inputs, out = make_library(root, count)
    start = time.perf_counter()
    files = plan_batch([inputs], out)
    scanned = time.perf_counter()
    assert len(files) == count

    paths = JobPaths(root / "data")
    paths.journal.parent.mkdir()
    head = JobHead(job_id="bench", status=JobStatus.RUNNING, started_at=time.time(), updated_at=time.time(),
                   pid=1, pgid=1, total_files=count)
    write_journal(paths.journal, {"schema_version": SCHEMA_VERSION, "job_id": "bench"},
                  [{"i": i, "name": f.display_name, "source": str(f.source), "bytes": 0} for i, f in enumerate(files)])
    save_head(paths.state, head)
    recorder = JobRecorder(paths, head, range(count), [0] * count, measure_duration=lambda _: None)
    planned = time.perf_counter()
    totals = run_batch(files, PipelineOptions(output=OutputOptions(formats=("srt",))),
                       models=LazyModels(refuse_to_load, refuse_to_load), ffmpeg="ffmpeg", reporter=recorder)
    skipped = time.perf_counter()
    recorder.finish(JobStatus.DONE, "bench")
    assert totals.skipped == count
    first_poll = time.perf_counter()
    read_job(root / "data")
    polled = time.perf_counter()
    read_job(root / "data")
    polled_again = time.perf_counter()
    return {"scan": scanned - start, "journal": planned - scanned, "skip": skipped - planned,
            "poll_first": polled - first_poll, "poll": polled_again - polled}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10_000, 100_000])
    args = parser.parse_args()
    print(f"\n{'files':>8}{'scan s':>9}{'plan journal s':>16}{'skip check s':>14}{'files/s':>10}"
          f"{'first poll ms':>15}{'poll ms':>9}")
    for count in args.sizes:
        with tempfile.TemporaryDirectory() as scratch:
            row = measure(Path(scratch), count)
        rate = count / (row["scan"] + row["skip"])
        print(f"{count:>8}{row['scan']:>9.2f}{row['journal']:>16.2f}{row['skip']:>14.2f}{rate:>10.0f}"
              f"{row['poll_first'] * 1000:>15.1f}{row['poll'] * 1000:>9.1f}")


if __name__ == "__main__":
    main()
