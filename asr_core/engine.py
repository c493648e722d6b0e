"""Qwen3-ASR plus Qwen3-ForcedAligner, loaded once per process and used for every file of a batch."""

from __future__ import annotations

import importlib.util
import logging
import math
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from asr_core.errors import AlignmentError, ModelLoadError, RecognitionError
from asr_core.options import ModelOptions
from asr_core.textwidth import joins_without_space
from asr_core.types import SAMPLE_RATE, AlignedUnit, Recognition

logger = logging.getLogger(__name__)

# The aligner is reliable on windows up to 180 s; qwen-asr also cuts there when timestamps are asked for.
MAX_WINDOW_S = 180.0
StageCallback = Callable[[str], None]
_TORCH_DTYPES = {"fp32": "float32", "fp16": "float16", "bf16": "bfloat16"}


@dataclass(frozen=True)
class ResolvedModelSetup:
    """The concrete device, dtype and attention kernel chosen from the user's (possibly "auto") options."""

    device: str
    dtype: str
    attn_implementation: str
    warnings: tuple[str, ...] = ()


def package_installed(name: str) -> bool:
    """Optional accelerators (vllm, flash_attn) are detected without importing them."""
    return importlib.util.find_spec(name) is not None


def check_checkpoint(checkpoint: str, role: str) -> None:
    """Fail early with a readable message when a local model folder is missing or incomplete.

    Anything that is not an existing folder and looks like ``org/name`` is treated as a hub ID.
    """
    path = Path(checkpoint).expanduser()
    if path.is_dir():
        if not (path / "config.json").is_file():
            raise ModelLoadError(f"{role} model folder {checkpoint} has no config.json; is it a complete checkpoint?")
        return
    looks_like_hub_id = (
        checkpoint.count("/") == 1 and not checkpoint.startswith((".", "/", "~")) and "\\" not in checkpoint
    )
    if not looks_like_hub_id:
        raise ModelLoadError(f"{role} model folder {checkpoint} does not exist")


def resolve_setup(options: ModelOptions, *, cuda_available: bool, flash_attn_installed: bool) -> ResolvedModelSetup:
    """Turn "auto" choices into concrete ones and fall back, with a warning, where a choice cannot work."""
    warnings: list[str] = []
    device = options.device
    if device == "auto":
        device = "cuda:0" if cuda_available else "cpu"
    elif device.startswith("cuda") and not cuda_available:
        warnings.append(f"device {device} requested but CUDA is not available (CPU torch build?); using cpu")
        device = "cpu"
    on_gpu = device.startswith("cuda")

    dtype = options.dtype
    if dtype == "auto":
        dtype = "bf16" if on_gpu else "fp32"
    elif dtype in ("fp16", "bf16") and not on_gpu:
        warnings.append(f"dtype {dtype} is slow or unsupported on cpu; using fp32")
        dtype = "fp32"

    attn = options.attn_implementation
    if attn == "auto":
        attn = "flash_attention_2" if (on_gpu and flash_attn_installed and dtype != "fp32") else "sdpa"
    elif attn == "flash_attention_2":
        reason = None
        if not flash_attn_installed:
            reason = "the flash-attn package is not installed"
        elif dtype == "fp32":
            reason = "it needs dtype fp16 or bf16"
        elif not on_gpu:
            reason = "it needs a CUDA device"
        if reason:
            warnings.append(f"flash_attention_2 unavailable ({reason}); falling back to sdpa")
            attn = "sdpa"
    return ResolvedModelSetup(device=device, dtype=dtype, attn_implementation=attn, warnings=tuple(warnings))


def join_separator(left: str, right: str) -> str:
    """A space between two recognised windows unless either side ends in CJK text or whitespace."""
    if not left or not right or left[-1].isspace() or right[0].isspace():
        return ""
    return "" if joins_without_space(left[-1], right[0]) else " "


def clean_units(items: Sequence[Any] | None, clip_s: float) -> tuple[AlignedUnit, ...]:
    """Clamp aligner times into the clip and make them monotone; ``None`` (nothing to align) gives no units."""
    units: list[AlignedUnit] = []
    previous_end = 0.0
    for item in items or ():
        start = min(max(float(item.start_time), previous_end), clip_s)
        end = min(max(float(item.end_time), start), clip_s)
        units.append(AlignedUnit(text=str(item.text), start_s=start, end_s=end))
        previous_end = end
    return tuple(units)


def merge_windows(parts: Sequence[tuple[float, Recognition]]) -> Recognition:
    """Join the recognitions of consecutive windows of one clip, shifting unit times by each window's offset."""
    text = ""
    units: list[AlignedUnit] = []
    languages: list[str] = []
    for offset, part in parts:
        if part.text.strip():
            text += join_separator(text, part.text) + part.text
        units.extend(AlignedUnit(u.text, u.start_s + offset, u.end_s + offset) for u in part.units)
        for language in filter(None, part.language.split(",")):
            if language not in languages:
                languages.append(language)
    return Recognition(language=",".join(languages), text=text, units=tuple(units))


def window_count(samples: int) -> int:
    """How many windows of the model's batch a clip of ``samples`` fills (at least one)."""
    return max(1, math.ceil(samples / (MAX_WINDOW_S * SAMPLE_RATE)))


class Engine:
    """A loaded recogniser. ``recognise`` is the only thing the pipeline calls."""

    def __init__(self, model: Any, options: ModelOptions, setup: ResolvedModelSetup) -> None:
        self._model = model
        self.options = options
        self.setup = setup

    @classmethod
    def load(cls, options: ModelOptions, *, platform: str = sys.platform) -> Engine:
        """Load both checkpoints; every failure becomes a ModelLoadError carrying the reason."""
        if options.backend == "vllm" and platform.startswith("win"):
            raise ModelLoadError("the vLLM backend does not run on Windows; choose the transformers backend")
        check_checkpoint(options.asr_checkpoint, "ASR")
        check_checkpoint(options.aligner_checkpoint, "Aligner")
        import torch  # heavy: imported only when a model is really loaded

        setup = resolve_setup(
            options,
            cuda_available=torch.cuda.is_available(),
            flash_attn_installed=package_installed("flash_attn"),
        )
        for warning in setup.warnings:
            logger.warning(warning)
        torch_dtype = getattr(torch, _TORCH_DTYPES[setup.dtype])
        try:
            from qwen_asr import Qwen3ASRModel

            aligner_kwargs = {
                "dtype": torch_dtype,
                "device_map": setup.device,
                "attn_implementation": setup.attn_implementation,
            }
            if options.backend == "vllm":
                model = _load_vllm(Qwen3ASRModel, options, aligner_kwargs)
            else:
                model = Qwen3ASRModel.from_pretrained(
                    options.asr_checkpoint,
                    forced_aligner=options.aligner_checkpoint,
                    forced_aligner_kwargs=aligner_kwargs,
                    max_inference_batch_size=options.batch_size,
                    max_new_tokens=options.max_new_tokens,
                    **aligner_kwargs,
                )
        except ModelLoadError:
            raise
        except (OSError, ValueError, RuntimeError, ImportError, TypeError, KeyError) as exc:
            raise ModelLoadError(f"could not load the model: {type(exc).__name__}: {exc}") from exc
        logger.info(
            "loaded %s (%s, %s, %s, %s)",
            options.asr_checkpoint,
            options.backend,
            setup.device,
            setup.dtype,
            setup.attn_implementation,
        )
        return cls(model, options, setup)

    def recognise(self, clips: Sequence[np.ndarray], on_stage: StageCallback | None = None) -> list[Recognition]:
        """Transcribe, then align, each clip; long clips are cut into ≤180 s windows at quiet points."""
        from qwen_asr.inference.utils import split_audio_into_chunks

        windows: list[tuple[int, float, np.ndarray]] = []
        for index, clip in enumerate(clips):
            for samples, offset in split_audio_into_chunks(clip, SAMPLE_RATE, MAX_WINDOW_S):
                windows.append((index, float(offset), samples))
        audio = [(samples, SAMPLE_RATE) for _, _, samples in windows]
        if on_stage:
            on_stage("recognising")
        try:
            results = self._model.transcribe(audio=audio, context=self.options.context, language=self.options.language)
        except (RuntimeError, ValueError, IndexError) as exc:
            raise RecognitionError(f"recognition failed: {type(exc).__name__}: {exc}") from exc
        if on_stage:
            on_stage("aligning")
        units = self._align(audio, [r.text or "" for r in results], [r.language or "" for r in results])
        per_clip: list[list[tuple[float, Recognition]]] = [[] for _ in clips]
        for (index, offset, _), result, window_units in zip(windows, results, units, strict=True):
            part = Recognition(language=result.language or "", text=result.text or "", units=window_units)
            per_clip[index].append((offset, part))
        return [merge_windows(parts) for parts in per_clip]

    def _align(
        self, audio: list[tuple[np.ndarray, int]], texts: list[str], languages: list[str]
    ) -> list[tuple[AlignedUnit, ...]]:
        """Align only windows with text; the aligner has nothing to do (and returns nothing) for the rest."""
        todo = [i for i, text in enumerate(texts) if text.strip()]
        units: list[tuple[AlignedUnit, ...]] = [() for _ in texts]
        batch = self.options.batch_size
        for first in range(0, len(todo), batch):
            chosen = todo[first : first + batch]
            try:
                aligned = self._model.forced_aligner.align(
                    audio=[audio[i] for i in chosen],
                    text=[texts[i] for i in chosen],
                    language=[languages[i] for i in chosen],
                )
            except (RuntimeError, ValueError, IndexError) as exc:
                raise AlignmentError(f"alignment failed: {type(exc).__name__}: {exc}") from exc
            for i, result in zip(chosen, aligned, strict=True):
                units[i] = clean_units(result.items, len(audio[i][0]) / SAMPLE_RATE)
        return units


def _load_vllm(model_class: Any, options: ModelOptions, aligner_kwargs: dict[str, Any]) -> Any:
    if not package_installed("vllm"):
        raise ModelLoadError(
            "the vLLM backend is not installed; install it with `pip install -r requirements-vllm.txt` "
            "(Linux only) or choose the transformers backend"
        )
    return model_class.LLM(
        model=options.asr_checkpoint,
        forced_aligner=options.aligner_checkpoint,
        forced_aligner_kwargs=aligner_kwargs,
        max_inference_batch_size=options.batch_size,
        max_new_tokens=options.max_new_tokens,
        gpu_memory_utilization=options.gpu_memory_utilization,
        max_model_len=options.max_model_len,
    )
