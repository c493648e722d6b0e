"""What this machine offers the model panel: checkpoints under ./models, and whether vLLM can run here.

Both are answered without importing torch, qwen_asr or vllm, so the UI process stays small.
"""

from __future__ import annotations

import importlib.util
import json
import logging
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

logger = logging.getLogger(__name__)

VLLM_LABEL = "vLLM (faster, Linux only)"


@dataclass(frozen=True)
class LocalModels:
    """Checkpoint folders found under the models folder, split by what their config says they are."""

    asr: tuple[str, ...] = ()
    aligner: tuple[str, ...] = ()


def _is_aligner(config_path: Path) -> bool:
    """Qwen3-ForcedAligner marks itself in thinker_config.model_type; fall back to the folder name."""
    try:
        config = json.loads(config_path.read_text(encoding="utf-8"))
        model_type = str(config.get("thinker_config", {}).get("model_type", ""))
    except (OSError, ValueError, AttributeError) as exc:
        logger.info("cannot read %s: %s", config_path, exc)
        model_type = ""
    return "aligner" in model_type.lower() or "aligner" in config_path.parent.name.lower()


def find_local_models(models_dir: Path) -> LocalModels:
    """Folders with a config.json directly under ``models_dir`` (one level deep, as the docs lay them out)."""
    try:
        folders = sorted(p for p in Path(models_dir).iterdir() if (p / "config.json").is_file())
    except OSError:
        return LocalModels()
    asr = tuple(str(p) for p in folders if not _is_aligner(p / "config.json"))
    aligner = tuple(str(p) for p in folders if _is_aligner(p / "config.json"))
    return LocalModels(asr=asr, aligner=aligner)


def vllm_unavailable_reason(
    platform: str = sys.platform, find_spec: Callable[[str], object] = importlib.util.find_spec
) -> str | None:
    """Why the vLLM backend cannot be chosen here, or None when it can."""
    if platform.startswith("win"):
        return "vLLM does not run on Windows; use transformers"
    if find_spec("vllm") is None:
        return "vLLM is not installed (on Linux: pip install -r requirements-vllm.txt, or build with INSTALL_VLLM=1)"
    return None
