"""The buttons: check what the user entered, turn it into a JobSpec, and start, cancel, resume or retry.

Every mistake a user can make in the form becomes one plain sentence saying what is wrong and what to
do, before any worker starts; problems only the worker can find (a model that fails to load) come back
through the job state and log.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

from asr_core.engine import check_checkpoint
from asr_core.errors import ModelLoadError
from asr_core.options import CueOptions, ModelOptions, VadOptions, WriterOptions
from webui.access import PathRefused, allowed_roots
from webui.choices import vllm_unavailable_reason
from webui.fields import AUTO_LANGUAGE, AUTO_PRESET, CUE_LIMITS, cue_key
from worker.launcher import JobAlreadyRunning, NothingToRun, cancel_job, resume_job, retry_failed, start_job
from worker.protocol import JobSpec
from worker.scan import normalise_extensions, walk_media
from worker.settings import Settings

logger = logging.getLogger(__name__)

UPLOADS_FOLDER = "uploads"


class InputProblem(ValueError):
    """Something in the form that would make the batch fail; the message is shown to the user as is."""

    @classmethod
    def from_error(cls, exc: Exception) -> InputProblem:
        """A library message ("another job is running") as a sentence ("Another job is running.")."""
        text = str(exc).strip()
        return cls(text[:1].upper() + text[1:] + ("" if text.endswith(".") else "."))


def parse_extensions(text: str) -> tuple[str, ...]:
    """``"mp3, .FLAC wav"`` -> ``(".flac", ".mp3", ".wav")``; blank means every media extension, ``()``."""
    items = [item for item in re.split(r"[\s,;]+", text) if item.strip(".")]
    return tuple(sorted(normalise_extensions(items))) if items else ()


def check_input_folder(text: str, extensions: tuple[str, ...], recursive: bool) -> Path:
    """The folder (or single file) to scan; InputProblem when it is missing or holds no media."""
    if not text.strip():
        raise InputProblem("Enter the folder to scan (a path on the server), or switch to Upload.")
    path = Path(text.strip()).expanduser()
    if not path.exists():
        raise InputProblem(f"The input folder {path} does not exist on the server.")
    if path.is_file():
        return path
    wanted = normalise_extensions(extensions)
    if next(walk_media(path, wanted, recursive=recursive), None) is None:
        kinds = ", ".join(e.lstrip(".") for e in extensions) if extensions else "audio or video"
        hint = "" if recursive or next(walk_media(path, wanted), None) is None else (
            " There are some in its sub-folders: tick 'Include sub-folders'."
        )
        raise InputProblem(f"The input folder {path} contains no {kinds} files.{hint}")
    return path


def check_writable_folder(folder: Path) -> None:
    """Create the folder if needed and prove a file can be written there (removed at once)."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        handle, probe = tempfile.mkstemp(prefix=".write-test-", dir=folder)
        os.close(handle)
        os.unlink(probe)
    except OSError as exc:
        raise InputProblem(f"The output folder {folder} is not writable: {exc.strerror or exc}.") from exc


def checkpoint_problem(checkpoint: str, role: str) -> str | None:
    """Why ``checkpoint`` cannot be loaded, as far as can be told without loading it; None when it looks fine."""
    if not checkpoint.strip():
        return f"Enter the {role} model: a folder with config.json, or a hub ID."
    try:
        check_checkpoint(checkpoint.strip(), role)
    except ModelLoadError as exc:
        return str(InputProblem.from_error(exc))
    return None


def check_model(values: Mapping[str, Any]) -> None:
    for key, role in (("asr_checkpoint", "ASR"), ("aligner_checkpoint", "Aligner")):
        problem = checkpoint_problem(str(values[key]), role)
        if problem:
            raise InputProblem(problem)
    if values["backend"] == "vllm" and (reason := vllm_unavailable_reason()):
        raise InputProblem(f"The vLLM backend cannot be used: {reason}.")


def model_hints(asr_checkpoint: str, aligner_checkpoint: str, dtype: str, attn_implementation: str) -> str:
    """Warnings shown under the model settings as soon as they are edited, before any start."""
    hints = [checkpoint_problem(str(asr_checkpoint or ""), "ASR"),
             checkpoint_problem(str(aligner_checkpoint or ""), "Aligner")]
    if attn_implementation == "flash_attention_2" and dtype == "fp32":
        hints.append("flash_attention_2 needs dtype fp16 or bf16; with fp32 the worker falls back to sdpa.")
    return "\n\n".join(f"⚠ {hint}" for hint in hints if hint)


def model_kwargs(values: Mapping[str, Any], settings: Settings) -> dict[str, Any]:
    """ModelOptions keyword arguments, validated by building the options once."""
    language = values["language"]
    kwargs = {
        "asr_checkpoint": str(values["asr_checkpoint"]).strip(),
        "aligner_checkpoint": str(values["aligner_checkpoint"]).strip(),
        "backend": values["backend"],
        "device": str(values["device"]).strip() or "auto",
        "dtype": values["dtype"],
        "attn_implementation": values["attn_implementation"],
        "batch_size": int(values["batch_size"]),
        "max_new_tokens": int(values["max_new_tokens"]),
        "language": None if language == AUTO_LANGUAGE else language,
        "context": values["context"],
        "gpu_memory_utilization": float(values["gpu_memory_utilization"]),
        "max_model_len": settings.vllm_max_model_len,
    }
    try:
        return asdict(ModelOptions(**kwargs))
    except ValueError as exc:
        raise InputProblem(f"Model settings: {exc}.") from exc


def vad_kwargs(values: Mapping[str, Any]) -> dict[str, Any]:
    kwargs = {
        "enabled": bool(values["vad_enabled"]),
        "source": values["vad_source"],
        "repo_dir": str(values["vad_repo_dir"]).strip() or None,
        "threshold": float(values["vad_threshold"]),
        "min_speech_ms": int(values["vad_min_speech_ms"]),
        "min_silence_ms": int(values["vad_min_silence_ms"]),
        "speech_pad_ms": int(values["vad_speech_pad_ms"]),
        "max_span_s": float(values["vad_max_span_s"]),
    }
    try:
        return asdict(VadOptions(**kwargs))
    except ValueError as exc:
        raise InputProblem(f"VAD settings: {exc}.") from exc


def cue_kwargs(values: Mapping[str, Any]) -> dict[str, Any]:
    """CueOptions keyword arguments; the automatic preset and blank limits stay None (the preset decides),
    exactly as the command line leaves an option it was not given."""
    preset = values["cue_preset"]
    kwargs: dict[str, Any] = {"preset": None if preset == AUTO_PRESET else preset}
    for option, kind in CUE_LIMITS.items():
        value = values[cue_key(option)]
        kwargs[option] = None if value is None else kind(value)
    try:
        return asdict(CueOptions(**kwargs))
    except ValueError as exc:
        raise InputProblem(f"Subtitle layout: {exc}.") from exc


def writer_kwargs(values: Mapping[str, Any]) -> dict[str, Any]:
    return asdict(WriterOptions(lrc_header_tags=bool(values["lrc_header_tags"])))


def build_spec(
    values: Mapping[str, Any], inputs: Sequence[Path], output_dir: Path | None, settings: Settings
) -> JobSpec:
    if not values["formats"]:
        raise InputProblem("Choose at least one subtitle format.")
    check_model(values)
    return JobSpec(
        inputs=tuple(str(p) for p in inputs),
        output_dir=None if output_dir is None else str(output_dir),
        formats=tuple(values["formats"]),
        overwrite=bool(values["overwrite"]),
        touch_album_root=bool(values["touch_album_root"]),
        include_subfolders=bool(values["include_subfolders"]),
        extensions=parse_extensions(values["extensions"]),
        model=model_kwargs(values, settings),
        vad=vad_kwargs(values),
        cues=cue_kwargs(values),
        writer=writer_kwargs(values),
    )


def check_allowed(path: Path, role: str, settings: Settings) -> None:
    """InputProblem when ALLOWED_ROOTS (or the default for a LAN server) does not cover ``path``."""
    roots = allowed_roots(settings)
    if roots is None:
        return
    try:
        roots.check(path, role)
    except PathRefused as exc:
        raise InputProblem(str(exc)) from exc


def _output_folder(values: Mapping[str, Any], settings: Settings, *, allow_next_to_source: bool) -> Path | None:
    if allow_next_to_source and values["save_next_to_source"]:
        return None
    text = str(values["output_dir"]).strip()
    if not text:
        raise InputProblem("Enter the output folder, or tick 'Save next to source'.")
    folder = Path(text).expanduser()
    check_allowed(folder, "output folder", settings)  # before anything is created there
    check_writable_folder(folder)
    return folder


def _launch(spec: JobSpec, data_dir: Path, what: str) -> str:
    try:
        pid = start_job(spec, data_dir)
    except JobAlreadyRunning as exc:
        raise InputProblem.from_error(exc) from exc
    except OSError as exc:
        raise InputProblem(f"The worker could not be started: {exc}") from exc
    where = "next to each source" if spec.output_dir is None else f"in {spec.output_dir}"
    return (f"Started {what} (worker pid {pid}); subtitles are written {where}. "
            "It keeps running if you close this page.")


def start_folder_job(values: Mapping[str, Any], settings: Settings) -> str:
    extensions = parse_extensions(values["extensions"])
    text = str(values["input_dir"]).strip()
    if text:  # refused before its contents are listed
        check_allowed(Path(text).expanduser(), "input folder", settings)
    source = check_input_folder(text, extensions, bool(values["include_subfolders"]))
    output_dir = _output_folder(values, settings, allow_next_to_source=True)
    if output_dir is None and not os.access(source if source.is_dir() else source.parent, os.W_OK):
        raise InputProblem(f"Subtitles should be saved next to the sources, but {source} is not writable.")
    spec = build_spec(values, [source], output_dir, settings)
    return _launch(spec, settings.data_dir, f"a batch of {source}")


def _unique_name(folder: Path, name: str) -> Path:
    target = folder / name
    stem, suffix, number = target.stem, target.suffix, 2
    while target.exists():
        target = folder / f"{stem} ({number}){suffix}"
        number += 1
    return target


def store_uploads(files: Sequence[str], uploads_root: Path) -> Path:
    """Copy uploaded files out of Gradio's temporary cache, so resume and retry still find them later."""
    uploads_root.mkdir(parents=True, exist_ok=True)
    batch = _unique_name(uploads_root, time.strftime("%Y%m%d-%H%M%S"))
    batch.mkdir()
    for file in files:
        shutil.copy2(file, _unique_name(batch, Path(file).name))
    return batch


def start_upload_job(values: Mapping[str, Any], files: Sequence[str] | None, settings: Settings) -> str:
    """Uploads have no source folder on the server, so their subtitles always go to the output folder."""
    if not files:
        raise InputProblem("Add the files to upload first (or switch to 'Folder on the server').")
    output_dir = _output_folder(values, settings, allow_next_to_source=False)
    uploads_root = settings.data_dir / UPLOADS_FOLDER
    # Every check runs before anything is copied; the extension filter is for folder scans only.
    spec = build_spec(dict(values, extensions="", include_subfolders=True), [uploads_root], output_dir, settings)
    batch = store_uploads(files, uploads_root)
    try:
        message = _launch(replace(spec, inputs=(str(batch),)), settings.data_dir,
                          f"{len(files)} uploaded file{'s' if len(files) != 1 else ''}")
    except InputProblem:
        shutil.rmtree(batch, ignore_errors=True)
        raise
    for older in uploads_root.iterdir():
        if older != batch:
            shutil.rmtree(older, ignore_errors=True)
    return message


def cancel(settings: Settings, *, clear: bool) -> str:
    if cancel_job(settings.data_dir, clear=clear):
        return "Cancelled: the worker and all its processes were stopped." + (
            " The job state and log were cleared." if clear else "")
    return "Nothing was cancelled: no job is running (or it is still starting; try again in a moment)."


def resume(settings: Settings) -> str:
    try:
        pid = resume_job(settings.data_dir)
    except (NothingToRun, JobAlreadyRunning) as exc:
        raise InputProblem.from_error(exc) from exc
    return f"Resumed the last batch (worker pid {pid}); files already finished are skipped."


def retry(settings: Settings) -> str:
    try:
        pid = retry_failed(settings.data_dir)
    except (NothingToRun, JobAlreadyRunning) as exc:
        raise InputProblem.from_error(exc) from exc
    return f"Retrying the failed files (worker pid {pid}), overwriting what they left."
