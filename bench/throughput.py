"""Batch throughput: sequential (one file at a time), pipelined (files decoded ahead of the model) and
pipelined with short files grouped into one recognition call.

Generates ``--files`` media files of ``--seconds`` each from the test corpus's speech, then reports per
stage (decode with VAD, model, cues + writing) and per batch design files/hour, audio seconds per wall second
and wall time over model time (1.0 means the model never waits). The model is a stand-in that sleeps
``--cost`` seconds per audio second (as a GPU model leaves the CPU free) in steps of ``--batch-size`` clips,
each step costing as much as its longest clip, as on a GPU; or with ``--tiny`` the tiny real-architecture
models on CPU. ``--long-minutes`` also prepares one long file per design (decoding alone, decoding then VAD,
VAD streamed with the decode), each in a child process, and prints its peak memory next to the size of its
samples, and its seconds. Run from the repository root:

    python -m bench.throughput [--files 8] [--seconds 60] [--cost 0.05] [--batch-size 8] [--workers 2]
                               [--tiny] [--long-minutes 180]"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path

from asr_core.media import find_ffmpeg
from asr_core.options import ModelOptions, OutputOptions, PipelineOptions, VadOptions
from asr_core.pipeline import FileResult, finish_file, prepare_file, recognise_files
from asr_core.vad import load_vad
from bench.stand_ins import ProportionalCostRecogniser, TimedRecogniser, TimedSpeechFinder
from worker.batch import LazyModels, run_batch
from worker.scan import PlannedFile, plan_batch

SPEECH = Path(__file__).resolve().parents[1] / "tests" / "data" / "speech.mp3"


class QuietReporter:
    def file_started(self, index: int, planned: PlannedFile) -> None: ...

    def stage(self, index: int, stage: str, fraction: float) -> None: ...

    def recognising_together(self, index: int, durations_s: Mapping[int, float]) -> None: ...

    def file_finished(self, index: int, planned: PlannedFile, result: FileResult) -> None: ...


def make_files(folder: Path, count: int, seconds: float, ffmpeg: str) -> None:
    """``count`` mp3 files of looped speech (pauses included, so VAD finds several spans)."""
    folder.mkdir(parents=True)
    for index in range(count):
        subprocess.run([ffmpeg, "-hide_banner", "-nostdin", "-loglevel", "error", "-stream_loop", "-1",
                        "-i", str(SPEECH), "-t", str(seconds), "-ac", "1", str(folder / f"{index:03d}.mp3")],
                       check=True)


def load_recogniser(args: argparse.Namespace, scratch: Path):
    if not args.tiny:
        return ProportionalCostRecogniser(args.cost, batch_size=args.batch_size)
    from asr_core.engine import Engine
    from tests.tiny_models import build_tiny_models

    tiny = build_tiny_models(scratch / "tiny")
    return Engine.load(ModelOptions(asr_checkpoint=str(tiny.asr_dir), aligner_checkpoint=str(tiny.aligner_dir),
                                    device="cpu", batch_size=args.batch_size))


def stage_rows(files: list[PlannedFile], recogniser, vad, ffmpeg: str, out: Path) -> list[tuple[str, float]]:
    """Each stage timed on its own, file after file."""
    timed_model, timed_vad = TimedRecogniser(recogniser), TimedSpeechFinder(vad)
    prepare_s = finish_s = 0.0
    options = PipelineOptions(output=OutputOptions(formats=("srt", "lrc")))
    for planned in files:
        start = time.perf_counter()
        prepared = prepare_file(planned.source, ffmpeg=ffmpeg, vad=timed_vad)
        middle = time.perf_counter()
        (recognitions,) = recognise_files([prepared], timed_model)
        finish_file(prepared, out / planned.source.stem, options, recognitions=recognitions, ffmpeg=ffmpeg)
        finish_s += time.perf_counter() - middle
        prepare_s += middle - start
    # VAD runs on its own thread while the file decodes, so its seconds are part of, not added to, the first row.
    return [("decode + vad", prepare_s), ("  vad in it", timed_vad.seconds), ("model", timed_model.seconds),
            ("cues + write", finish_s - timed_model.seconds)]


def batch_row(
    files: list[PlannedFile], recogniser, ffmpeg: str, prefetch: int, batch_size: int, workers: int
) -> tuple[float, float]:
    """Wall time of the whole batch and the model's share of it; ``batch_size`` 1 gives each file its own call,
    ``workers`` threads prepare files (each with its own VAD model, loaded before the clock starts)."""
    timed = TimedRecogniser(recogniser)
    vads = [load_vad(VadOptions(enabled=True)) for _ in range(workers)]
    options = PipelineOptions(model=ModelOptions(batch_size=batch_size),
                              output=OutputOptions(formats=("srt", "lrc"), overwrite=True))
    start = time.perf_counter()
    run_batch(files, options, models=LazyModels(lambda: timed, vads.pop), ffmpeg=ffmpeg,
              reporter=QuietReporter(), prefetch=prefetch, prepare_workers=workers)
    return time.perf_counter() - start, timed.seconds


# Each design runs in a fresh child process, so its peak RSS is its own; the baseline is taken after torch and
# the VAD model are loaded. "concatenate" is the first decode design (collect the blocks, then join them) and
# "decode, then VAD" the former preparation (the whole file decoded, then a peak pass, then VAD over the
# array), both kept here as baselines for the growing buffer and for VAD streamed alongside the decode.
_LONG_FILE_CHILD = """
import resource, sys, time
from pathlib import Path
import numpy as np
from asr_core.media import decode, iter_decode
from asr_core.options import VadOptions
from asr_core.pipeline import prepare_file
from asr_core.vad import PeakMeter, load_vad
path, ffmpeg, design = Path(sys.argv[1]), sys.argv[2], sys.argv[3]
detector = load_vad(VadOptions(enabled=True))
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
start = time.perf_counter()
if design == "concatenate":
    samples = np.concatenate(list(iter_decode(path, ffmpeg)))
elif design == "buffer":
    samples = decode(path, ffmpeg).samples
elif design == "vad-after":
    audio = decode(path, ffmpeg)
    PeakMeter().feed(audio.samples)
    detector.detect(audio)
    samples = audio.samples
else:
    samples = prepare_file(path, ffmpeg=ffmpeg, vad=detector).audio.samples
print(len(samples), base, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, time.perf_counter() - start)
"""
LONG_FILE_DESIGNS = {
    "concatenate": "decode: concatenate",
    "buffer": "decode: growing buffer",
    "vad-after": "decode, then VAD",
    "vad-streamed": "decode with streamed VAD",
}


def long_file_rows(minutes: float, folder: Path, ffmpeg: str) -> list[tuple[str, float, float, float]]:
    """Per design: samples size and peak memory added (MB), and seconds."""
    target = folder / "long.opus"
    subprocess.run([ffmpeg, "-hide_banner", "-nostdin", "-loglevel", "error", "-f", "lavfi", "-i",
                    f"anoisesrc=color=pink:sample_rate=16000:amplitude=0.2:duration={minutes * 60}",
                    "-ac", "1", "-b:a", "16k", str(target)], check=True)
    rows = []
    for design, label in LONG_FILE_DESIGNS.items():
        output = subprocess.run([sys.executable, "-c", _LONG_FILE_CHILD, str(target), ffmpeg, design],
                                check=True, capture_output=True, text=True).stdout
        count, base_kb, peak_kb, seconds = output.split()
        rows.append((label, int(count) * 4 / 1e6, (int(peak_kb) - int(base_kb)) / 1e3, float(seconds)))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--files", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--cost", type=float, default=0.05, help="stand-in model seconds per audio second")
    parser.add_argument("--workers", type=int, default=2, help="also run the grouped batch with this many "
                        "threads preparing files (the product uses one per two CPU cores, at most four)")
    parser.add_argument("--batch-size", type=int, default=8,
                        help="clips the model takes per step; a step costs as much as its longest clip")
    parser.add_argument("--tiny", action="store_true", help="use the tiny real-architecture models on CPU")
    parser.add_argument("--long-minutes", type=float, default=0.0, help="also measure one file this long")
    args = parser.parse_args()
    ffmpeg = find_ffmpeg()
    audio_s = args.files * args.seconds
    with tempfile.TemporaryDirectory() as scratch_name:
        scratch = Path(scratch_name)
        make_files(scratch / "in", args.files, args.seconds, ffmpeg)
        files = plan_batch([scratch / "in"], scratch / "out")
        recogniser = load_recogniser(args, scratch)
        vad = load_vad(VadOptions(enabled=True))
        model = "tiny models, CPU" if args.tiny else f"stand-in, {args.cost} s per audio s"
        print(f"\n{args.files} files x {args.seconds:.0f} s ({audio_s:.0f} s of audio), VAD on, model: {model}\n")
        (scratch / "stages").mkdir()
        print(f"{'stage':<14}{'seconds':>9}{'audio s / s':>13}")
        for name, seconds in stage_rows(files, recogniser, vad, ffmpeg, scratch / "stages"):
            print(f"{name:<14}{seconds:>9.2f}{audio_s / max(seconds, 1e-9):>13.1f}")
        print(f"\n{'batch':<22}{'wall s':>8}{'model s':>9}{'files/h':>9}{'audio s / s':>13}{'wall/model':>12}")
        designs = [("sequential", 0, 1, 1), ("pipelined (2 ahead)", 2, 1, 1),
                   ("pipelined + grouped", 2, args.batch_size, 1)]
        if args.workers > 1:
            designs.append((f"+ {args.workers} preparing", 2, args.batch_size, args.workers))
        for name, prefetch, batch_size, workers in designs:
            wall, model_s = batch_row(files, recogniser, ffmpeg, prefetch, batch_size, workers)
            print(f"{name:<22}{wall:>8.2f}{model_s:>9.2f}{args.files * 3600 / wall:>9.0f}"
                  f"{audio_s / wall:>13.1f}{wall / model_s:>12.2f}")
        if args.long_minutes:
            print(f"\none {args.long_minutes:.0f}-minute file, each design in a fresh process")
            print(f"{'design':<26}{'samples MB':>11}{'peak +MB':>10}{'x samples':>11}{'seconds':>9}")
            for label, samples_mb, peak_mb, seconds in long_file_rows(args.long_minutes, scratch, ffmpeg):
                print(f"{label:<26}{samples_mb:>11.0f}{peak_mb:>10.0f}{peak_mb / samples_mb:>11.2f}{seconds:>9.1f}")

if __name__ == "__main__":
    main()
