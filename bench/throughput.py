"""Batch throughput, sequential (one file at a time) against pipelined (files decoded ahead of the model).

Generates ``--files`` media files of ``--seconds`` each from the test corpus's speech, then reports per
stage (decode, VAD, model, cues + writing) and per batch design files/hour, audio seconds per wall second
and wall time over model time (1.0 means the model never waits). The model is a stand-in that sleeps
``--cost`` seconds per audio second (as a GPU model leaves the CPU free), or with ``--tiny`` the tiny
real-architecture models on CPU. ``--long-minutes`` also decodes one long file in a child process and
prints its peak memory next to the size of its samples. Run from the repository root:

    python -m bench.throughput [--files 8] [--seconds 60] [--cost 0.05] [--tiny] [--long-minutes 180]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from asr_core.media import find_ffmpeg
from asr_core.options import OutputOptions, PipelineOptions, VadOptions
from asr_core.pipeline import FileResult, finish_file, prepare_file
from asr_core.vad import load_vad
from bench.stand_ins import ProportionalCostRecogniser, TimedRecogniser, TimedSpeechFinder
from worker.batch import LazyModels, run_batch
from worker.scan import PlannedFile, plan_batch

SPEECH = Path(__file__).resolve().parents[1] / "tests" / "data" / "speech.mp3"


class QuietReporter:
    def file_started(self, index: int, planned: PlannedFile) -> None: ...

    def stage(self, index: int, stage: str, fraction: float) -> None: ...

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
        return ProportionalCostRecogniser(args.cost)
    from asr_core.engine import Engine
    from asr_core.options import ModelOptions
    from tests.tiny_models import build_tiny_models

    tiny = build_tiny_models(scratch / "tiny")
    return Engine.load(ModelOptions(asr_checkpoint=str(tiny.asr_dir), aligner_checkpoint=str(tiny.aligner_dir),
                                    device="cpu"))


def stage_rows(files: list[PlannedFile], recogniser, vad, ffmpeg: str, out: Path) -> list[tuple[str, float]]:
    """Each stage timed on its own, file after file."""
    timed_model, timed_vad = TimedRecogniser(recogniser), TimedSpeechFinder(vad)
    prepare_s = finish_s = 0.0
    options = PipelineOptions(output=OutputOptions(formats=("srt", "lrc")))
    for planned in files:
        start = time.perf_counter()
        prepared = prepare_file(planned.source, ffmpeg=ffmpeg, vad=timed_vad)
        middle = time.perf_counter()
        finish_file(prepared, out / planned.source.stem, options, engine=timed_model, ffmpeg=ffmpeg)
        finish_s += time.perf_counter() - middle
        prepare_s += middle - start
    return [("decode", prepare_s - timed_vad.seconds), ("vad", timed_vad.seconds), ("model", timed_model.seconds),
            ("cues + write", finish_s - timed_model.seconds)]


def batch_row(files: list[PlannedFile], recogniser, vad, ffmpeg: str, prefetch: int) -> tuple[float, float]:
    """Wall time of the whole batch and the model's share of it."""
    timed = TimedRecogniser(recogniser)
    start = time.perf_counter()
    run_batch(files, PipelineOptions(output=OutputOptions(formats=("srt", "lrc"), overwrite=True)),
              models=LazyModels(lambda: timed, lambda: vad), ffmpeg=ffmpeg, reporter=QuietReporter(),
              prefetch=prefetch)
    return time.perf_counter() - start, timed.seconds


# Decoding in a fresh child process, so its peak RSS is the decode's alone. "concatenate" is the former
# design (collect the blocks, then join them), kept here as the baseline.
_DECODE_CHILD = """
import resource, sys, time
from pathlib import Path
import numpy as np
from asr_core.media import decode, iter_decode
path, ffmpeg, how = Path(sys.argv[1]), sys.argv[2], sys.argv[3]
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
start = time.perf_counter()
samples = decode(path, ffmpeg).samples if how == "buffer" else np.concatenate(list(iter_decode(path, ffmpeg)))
print(len(samples), base, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, time.perf_counter() - start)
"""


def long_file_rows(minutes: float, folder: Path, ffmpeg: str) -> list[tuple[str, float, float, float]]:
    """Per decode design: samples size and peak memory added by decoding (MB), and decode seconds."""
    target = folder / "long.opus"
    subprocess.run([ffmpeg, "-hide_banner", "-nostdin", "-loglevel", "error", "-f", "lavfi", "-i",
                    f"anoisesrc=color=pink:sample_rate=16000:amplitude=0.2:duration={minutes * 60}",
                    "-ac", "1", "-b:a", "16k", str(target)], check=True)
    rows = []
    for how in ("concatenate", "buffer"):
        output = subprocess.run([sys.executable, "-c", _DECODE_CHILD, str(target), ffmpeg, how],
                                check=True, capture_output=True, text=True).stdout
        count, base_kb, peak_kb, seconds = output.split()
        rows.append((how, int(count) * 4 / 1e6, (int(peak_kb) - int(base_kb)) / 1e3, float(seconds)))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--files", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--cost", type=float, default=0.05, help="stand-in model seconds per audio second")
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
        for name, prefetch in (("sequential", 0), ("pipelined (2 ahead)", 2)):
            wall, model_s = batch_row(files, recogniser, vad, ffmpeg, prefetch)
            print(f"{name:<22}{wall:>8.2f}{model_s:>9.2f}{args.files * 3600 / wall:>9.0f}"
                  f"{audio_s / wall:>13.1f}{wall / model_s:>12.2f}")
        if args.long_minutes:
            print(f"\none {args.long_minutes:.0f}-minute file, decoded in a fresh process")
            print(f"{'decode':<14}{'samples MB':>11}{'peak +MB':>10}{'x samples':>11}{'seconds':>9}")
            for how, samples_mb, peak_mb, seconds in long_file_rows(args.long_minutes, scratch, ffmpeg):
                print(f"{how:<14}{samples_mb:>11.0f}{peak_mb:>10.0f}{peak_mb / samples_mb:>11.2f}{seconds:>9.1f}")

if __name__ == "__main__":
    main()
