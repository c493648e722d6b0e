"""The recognition engine on a CUDA GPU: same answers as on CPU, the flash-attention fallback, and speed.

Three parts, all through the product's ``Engine.load`` / ``Engine.recognise`` and qwen-asr's real
``from_pretrained`` path, with no model download:

a. the tiny programmed checkpoints (``tests.tiny_models``) on the GPU in fp32 with sdpa must give the
   programmed text and exactly the unit times the CPU gives, for 3 s, 10 s and 60 s noise and a batch of 4;
b. asking for ``flash_attention_2`` in bf16 where the flash-attn package is missing must fall back to sdpa
   with a warning and still transcribe;
c. (``--real-dims``) random-weight checkpoints with the dimensions of Qwen3-ASR-1.7B and
   Qwen3-ForcedAligner-0.6B, built in bf16 on the GPU and saved as ordinary folders, time ``recognise`` on a
   batch of 60 s clips. Random weights rarely emit an end token, so every clip decodes the whole
   ``max_new_tokens`` budget: the numbers are an upper bound of the cost of that token budget, not a
   prediction of the speed on speech.

Run from the repository root on a machine with a GPU (``--device cpu --dims small`` checks the script
itself on a CPU in a minute):

    python -m bench.gpu_engine [--real-dims] [--budget-s 300] [--report FILE]

The result table also goes to ``--report`` (default ``$OUT/gpu_engine.txt`` when ``OUT`` is set).
"""

from __future__ import annotations

import argparse
import logging
import os
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from qwen_asr.core.transformers_backend import Qwen3ASRConfig, Qwen3ASRForConditionalGeneration
from qwen_asr.inference.utils import SUPPORTED_LANGUAGES

from asr_core.engine import Engine, package_installed, resolve_setup
from asr_core.options import ModelOptions
from asr_core.types import SAMPLE_RATE, Recognition
from tests.tiny_models import (
    AUDIO_PAD_ID,
    AUDIO_START_ID,
    CLASSIFY_NUM,
    ENDOFTEXT_ID,
    TIMESTAMP_ID,
    TIMESTAMP_SEGMENT_MS,
    TinyModels,
    build_processor,
    build_tiny_models,
    save_checkpoint,
)

logger = logging.getLogger(__name__)
# Rough cost of part c on an H100-class GPU (build, save, load, warm-up, one timed batch); skipped below it.
REAL_DIMS_MIN_S = 150.0


class Report:
    """Collects result lines, prints each at once, and can write them all to a file at the end."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.failures = 0

    def say(self, line: str = "") -> None:
        print(line, flush=True)
        self.lines.append(line)

    def check(self, name: str, passed: bool, detail: str = "") -> None:
        self.failures += not passed
        self.say(f"{'PASS' if passed else 'FAIL'}  {name}" + (f"  ({detail})" if detail else ""))

    def write(self, path: Path) -> None:
        staging = path.with_name(f".{path.name}.tmp")
        staging.write_text("\n".join(self.lines) + "\n", encoding="utf-8")
        os.replace(staging, path)


class EngineWarnings(logging.Handler):
    """Keeps the engine's warnings (device, dtype and attention fallbacks) for the report."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())

    def take(self) -> list[str]:
        taken, self.messages = self.messages, []
        return taken


def noise(seconds: float, seed: int) -> np.ndarray:
    return (np.random.default_rng(seed).standard_normal(int(seconds * SAMPLE_RATE)) * 0.1).astype(np.float32)


def load_engine(
    asr_dir: Path, aligner_dir: Path, warnings: EngineWarnings, report: Report, **choices
) -> Engine:
    """Load through the product path and report the setup it resolved to, with any fallback warning."""
    started = time.perf_counter()
    engine = Engine.load(
        ModelOptions(asr_checkpoint=str(asr_dir), aligner_checkpoint=str(aligner_dir), **choices)
    )
    setup = engine.setup
    report.say(
        f"loaded in {time.perf_counter() - started:.1f} s, asked {choices} -> "
        f"device={setup.device} dtype={setup.dtype} attn={setup.attn_implementation}"
    )
    for message in warnings.take():
        report.say(f"WARNING  {message}")
    return engine


def describe(result: Recognition) -> str:
    units = " ".join(f"{u.text}@{u.start_s:g}-{u.end_s:g}" for u in result.units)
    return f"{result.language!r} {result.text!r} [{units}]"


# --- part a: correctness against CPU ------------------------------------------------------------------


def check_tiny_models(folder: Path, device: str, warnings: EngineWarnings, report: Report) -> TinyModels:
    report.say("== a. tiny programmed models: GPU fp32/sdpa against CPU and the programmed answer")
    models = build_tiny_models(folder)
    gpu = load_engine(
        models.asr_dir,
        models.aligner_dir,
        warnings,
        report,
        device=device,
        dtype="fp32",
        attn_implementation="sdpa",
    )
    cpu = load_engine(
        models.asr_dir,
        models.aligner_dir,
        warnings,
        report,
        device="cpu",
        dtype="fp32",
        attn_implementation="sdpa",
    )
    cases = {
        "3 s": [noise(3, 1)],
        "10 s": [noise(10, 2)],
        "60 s": [noise(60, 3)],
        "batch of 4 (3/10/60/25 s)": [noise(3, 4), noise(10, 5), noise(60, 6), noise(25, 7)],
    }
    for name, clips in cases.items():
        started = time.perf_counter()
        on_gpu = gpu.recognise(clips)
        gpu_s = time.perf_counter() - started
        on_cpu = cpu.recognise(clips)
        texts_ok = all((r.language, r.text) == (models.language, models.text) for r in on_gpu)
        units_ok = all(r.units == models.units for r in on_gpu)
        report.check(f"{name}: programmed text", texts_ok, "" if texts_ok else describe(on_gpu[0]))
        report.check(f"{name}: programmed unit times", units_ok, "" if units_ok else describe(on_gpu[0]))
        report.check(
            f"{name}: identical to CPU ({gpu_s:.2f} s on {device})",
            on_gpu == on_cpu,
            "" if on_gpu == on_cpu else f"gpu {describe(on_gpu[0])} cpu {describe(on_cpu[0])}",
        )
    del gpu, cpu
    return models


# --- part b: the flash-attention fallback ----------------------------------------------------------------


def check_flash_attention_fallback(
    models: TinyModels, device: str, warnings: EngineWarnings, report: Report
) -> None:
    report.say("== b. flash_attention_2 + bf16 requested")
    flash_installed = package_installed("flash_attn")
    auto = resolve_setup(
        ModelOptions(), cuda_available=torch.cuda.is_available(), flash_attn_installed=flash_installed
    )
    report.say(
        f"flash-attn installed: {flash_installed}; 'auto' resolves to "
        f"device={auto.device} dtype={auto.dtype} attn={auto.attn_implementation}"
    )
    before = len(report.lines)
    engine = load_engine(
        models.asr_dir,
        models.aligner_dir,
        warnings,
        report,
        device=device,
        dtype="bf16",
        attn_implementation="flash_attention_2",
    )
    warned = any("flash_attention_2 unavailable" in line for line in report.lines[before:])
    expected = ("bf16", "flash_attention_2" if flash_installed else "sdpa")
    if not engine.setup.device.startswith("cuda"):
        expected = ("fp32", "sdpa")  # a CPU run falls back further, which this bench only reports
    report.check(
        f"resolved to {expected[0]} with {expected[1]}",
        (engine.setup.dtype, engine.setup.attn_implementation) == expected,
    )
    report.check(
        "fallback warning logged" if not flash_installed else "no fallback warning", warned != flash_installed
    )
    result = engine.recognise([noise(3, 8)])[0]
    report.check(
        f"{engine.setup.dtype} transcribes the programmed text",
        (result.language, result.text) == (models.language, models.text),
        describe(result),
    )
    report.say("(unit times are not checked here: the counter aligner's weights need fp32)")


# --- part c: real dimensions, random weights -----------------------------------------------------------------


@dataclass(frozen=True)
class ThinkerDims:
    """The sizes that set the cost of a Qwen3-ASR thinker (audio encoder plus text decoder)."""

    encoder_width: int
    encoder_layers: int
    encoder_heads: int
    encoder_ffn: int
    encoder_output: int
    text_width: int
    text_layers: int
    text_heads: int
    text_kv_heads: int
    head_dim: int
    text_ffn: int
    vocab: int
    mrope_section: tuple[int, int, int]
    downsample_width: int = 480


DIMS = {
    "real": (
        ThinkerDims(1024, 24, 16, 4096, 2048, 2048, 28, 16, 8, 128, 6144, 151936, (24, 20, 20)),  # ASR-1.7B
        ThinkerDims(
            1024, 24, 16, 4096, 1024, 1024, 28, 16, 8, 128, 3072, 152064, (24, 20, 20)
        ),  # Aligner-0.6B
    ),
    "small": (
        ThinkerDims(64, 2, 4, 128, 64, 64, 2, 4, 2, 16, 128, 151936, (4, 2, 2), 16),
        ThinkerDims(64, 2, 4, 128, 64, 64, 2, 4, 2, 16, 128, 152064, (4, 2, 2), 16),
    ),
}


def thinker_config(dims: ThinkerDims) -> dict:
    return {
        "audio_config": {
            "num_mel_bins": 128,
            "encoder_layers": dims.encoder_layers,
            "encoder_attention_heads": dims.encoder_heads,
            "encoder_ffn_dim": dims.encoder_ffn,
            "d_model": dims.encoder_width,
            "output_dim": dims.encoder_output,
            "downsample_hidden_size": dims.downsample_width,
            "n_window": 50,
            "n_window_infer": 800,
            "max_source_positions": 1500,
            "conv_chunksize": 500,
        },
        "text_config": {
            "vocab_size": dims.vocab,
            "hidden_size": dims.text_width,
            "intermediate_size": dims.text_ffn,
            "num_hidden_layers": dims.text_layers,
            "num_attention_heads": dims.text_heads,
            "num_key_value_heads": dims.text_kv_heads,
            "head_dim": dims.head_dim,
            "rope_theta": 1_000_000.0,
            "max_position_embeddings": 65536,
            "rope_scaling": {
                "rope_type": "default",
                "mrope_section": list(dims.mrope_section),
                "interleaved": True,
            },
        },
        "audio_token_id": AUDIO_PAD_ID,
        "audio_start_token_id": AUDIO_START_ID,
        "pad_token_id": ENDOFTEXT_ID,
    }


def build_random_checkpoint(dims: ThinkerDims, dest: Path, device: str, aligner: bool) -> float:
    """Initialise straight on ``device`` in bf16 and save next to the tiny processor; returns parameters (B)."""
    thinker = thinker_config(dims)
    extra = {}
    if aligner:
        thinker |= {"model_type": "qwen3_forced_aligner", "classify_num": CLASSIFY_NUM}
        extra = {"timestamp_token_id": TIMESTAMP_ID, "timestamp_segment_time": TIMESTAMP_SEGMENT_MS}
    config = Qwen3ASRConfig(
        thinker_config=thinker,
        support_languages=list(SUPPORTED_LANGUAGES),
        architectures=["Qwen3ASRForConditionalGeneration"],
        **extra,
    )
    default_dtype = torch.get_default_dtype()
    torch.set_default_dtype(torch.bfloat16)
    try:
        with torch.device(device), torch.no_grad():
            model = Qwen3ASRForConditionalGeneration(config).eval()
    finally:
        torch.set_default_dtype(default_dtype)
    billions = sum(p.numel() for p in model.parameters()) / 1e9
    overrides = {"thinker_config": {"model_type": "qwen3_forced_aligner"}} if aligner else None
    save_checkpoint(model, build_processor(), dest, overrides)
    del model
    return billions


@dataclass(frozen=True)
class Timing:
    recognise_s: float
    align_s: float

    @property
    def total_s(self) -> float:
        return self.recognise_s + self.align_s


def timed_recognise(engine: Engine, clips: Sequence[np.ndarray]) -> tuple[Timing, list[Recognition]]:
    """Split the wall time at the engine's stage change; results are host strings, so the GPU is done."""
    marks: dict[str, float] = {}
    started = time.perf_counter()
    results = engine.recognise(clips, on_stage=lambda stage: marks.setdefault(stage, time.perf_counter()))
    ended = time.perf_counter()
    return Timing(marks["aligning"] - started, ended - marks["aligning"]), results


def measure_real_dims(
    args: argparse.Namespace, folder: Path, deadline: float, warnings: EngineWarnings, report: Report
) -> None:
    report.say(f"== c. random-weight checkpoints, {args.dims} dimensions, bf16 on {args.device}")
    asr_dims, aligner_dims = DIMS[args.dims]
    folder.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    asr_b = build_random_checkpoint(asr_dims, folder / "asr", args.device, aligner=False)
    aligner_b = build_random_checkpoint(aligner_dims, folder / "aligner", args.device, aligner=True)
    report.say(
        f"built and saved ASR {asr_b:.2f} B and aligner {aligner_b:.2f} B parameters in "
        f"{time.perf_counter() - started:.1f} s"
    )
    if args.device.startswith("cuda"):
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats()
    engine = load_engine(
        folder / "asr",
        folder / "aligner",
        warnings,
        report,
        device=args.device,
        dtype="bf16",
        attn_implementation="sdpa",
        batch_size=args.batch,
        max_new_tokens=args.max_new_tokens,
    )
    clips = [noise(args.clip_s, 100 + i) for i in range(args.batch)]
    warm_up, _ = timed_recognise(engine, clips[:1])
    report.say(f"warm-up (1 clip): {warm_up.total_s:.2f} s")
    audio_s = args.clip_s * args.batch
    rows: list[tuple[str, Timing]] = []
    for repeat in range(1, args.repeats + 1):
        if rows and time.monotonic() + rows[-1][1].total_s * 1.5 > deadline:
            report.say("time guard: skipping further repetitions")
            break
        timing, results = timed_recognise(engine, clips)
        rows.append((f"run {repeat}", timing))
        report.say(
            f"run {repeat}: text lengths {[len(r.text) for r in results]} chars, "
            f"aligned units {[len(r.units) for r in results]}"
        )
    if args.device.startswith("cuda"):
        report.say(
            f"peak GPU memory: {torch.cuda.max_memory_allocated() / 2**30:.1f} GiB; GPU: {torch.cuda.get_device_name()}"
        )
    report.say("")
    report.say(
        f"recognise() on {args.batch} x {args.clip_s:g} s noise, {engine.setup.dtype}/"
        f"{engine.setup.attn_implementation}, batch_size {args.batch}, "
        f"max_new_tokens {args.max_new_tokens} (random weights decode the whole budget: an upper bound)"
    )
    report.say(
        "the aligner sees the random text's few units; a minute of speech gives 150-200 words, "
        "so its row is a lower bound"
    )
    report.say(f"{'run':<8}{'stage':<12}{'wall s':>10}{'RTF':>10}{'x realtime':>12}")
    for label, timing in rows:
        for stage, seconds in (
            ("ASR", timing.recognise_s),
            ("aligner", timing.align_s),
            ("total", timing.total_s),
        ):
            report.say(
                f"{label:<8}{stage:<12}{seconds:>10.2f}{seconds / audio_s:>10.4f}{audio_s / seconds:>12.0f}"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cuda")
    parser.add_argument(
        "--real-dims", action="store_true", help="also time random-weight full-size checkpoints"
    )
    parser.add_argument(
        "--dims", choices=sorted(DIMS), default="real", help="'small' checks the script on a CPU"
    )
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--clip-s", type=float, default=60.0)
    parser.add_argument("--max-new-tokens", type=int, default=128)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--budget-s", type=float, default=300.0, help="stop starting new work after this long"
    )
    default_report = Path(os.environ["OUT"]) / "gpu_engine.txt" if os.environ.get("OUT") else None
    parser.add_argument("--report", type=Path, default=default_report)
    args = parser.parse_args()

    deadline = time.monotonic() + args.budget_s
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    warnings = EngineWarnings()
    logging.getLogger("asr_core.engine").addHandler(warnings)
    report = Report()
    cuda = torch.cuda.is_available()
    report.say(
        f"torch {torch.__version__}, CUDA available: {cuda}"
        + (f", {torch.cuda.get_device_name()}" if cuda else "")
    )
    try:
        with tempfile.TemporaryDirectory(prefix="gpu-engine-") as folder:
            models = check_tiny_models(Path(folder) / "tiny", args.device, warnings, report)
            check_flash_attention_fallback(models, args.device, warnings, report)
            if args.real_dims:
                if deadline - time.monotonic() < REAL_DIMS_MIN_S:
                    report.say(
                        f"time guard: part c skipped, under {REAL_DIMS_MIN_S:.0f} s of the budget left"
                    )
                else:
                    measure_real_dims(args, Path(folder) / "real", deadline, warnings, report)
    finally:
        report.say(f"{report.failures} check(s) failed")
        if args.report:
            report.write(args.report)
    raise SystemExit(1 if report.failures else 0)


if __name__ == "__main__":
    main()
