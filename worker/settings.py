"""The one place that reads the environment. Both the CLI and the WebUI build their defaults from here."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from asr_core.options import DEFAULT_VLLM_MAX_MODEL_LEN, HUB_ALIGNER_CHECKPOINT, HUB_ASR_CHECKPOINT

LOCAL_ASR_FOLDER = "Qwen3-ASR-1.7B"
LOCAL_ALIGNER_FOLDER = "Qwen3-ForcedAligner-0.6B"


def _float(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        return float(raw)
    except ValueError as exc:
        raise ValueError(f"{name} must be a number, got {raw!r}") from exc


def _int(env: Mapping[str, str], name: str, default: int) -> int:
    return int(_float(env, name, default))


def _paths(env: Mapping[str, str], name: str) -> tuple[Path, ...] | None:
    """An ``os.pathsep``-separated list of folders; None when the variable is unset or blank."""
    parts = [part.strip() for part in env.get(name, "").split(os.pathsep) if part.strip()]
    return tuple(Path(part) for part in parts) if parts else None


def default_checkpoint(env_value: str, models_dir: Path, folder: str, hub_id: str) -> str:
    """Env var first, then the model folder under ./models when present, then the hub ID."""
    if env_value.strip():
        return env_value.strip()
    local = models_dir / folder
    if (local / "config.json").is_file():
        return str(local)
    return hub_id


@dataclass(frozen=True)
class Settings:
    """Process-wide defaults taken from environment variables."""

    asr_checkpoint: str
    aligner_checkpoint: str
    output_dir: Path
    data_dir: Path
    models_dir: Path
    webui_config_path: Path
    port: int
    vad_repo_dir: str | None
    ffmpeg_binary: str | None
    vllm_max_model_len: int
    progress_rtf: float
    done_flash_s: float
    server_name: str | None = None
    webui_username: str | None = None
    webui_password: str | None = None
    # Folders the WebUI may read from and write to; None: not configured (see webui.access for the default).
    allowed_roots: tuple[Path, ...] | None = None

    @property
    def job_state_path(self) -> Path:
        return self.data_dir / "job_state.json"

    @property
    def job_log_path(self) -> Path:
        return self.data_dir / "job.log"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        models_dir = Path(env.get("MODELS_DIR", "") or "models")
        data_dir = Path(env.get("DATA_DIR", "") or "data")
        config_path = env.get("WEBUI_CONFIG", "") or env.get("WEBUI_CONFIG_PATH", "")
        return cls(
            asr_checkpoint=default_checkpoint(
                env.get("ASR_CHECKPOINT", ""), models_dir, LOCAL_ASR_FOLDER, HUB_ASR_CHECKPOINT
            ),
            aligner_checkpoint=default_checkpoint(
                env.get("ALIGNER_CHECKPOINT", ""), models_dir, LOCAL_ALIGNER_FOLDER, HUB_ALIGNER_CHECKPOINT
            ),
            output_dir=Path(env.get("OUTPUT_DIR", "") or "output"),
            data_dir=data_dir,
            models_dir=models_dir,
            webui_config_path=Path(config_path) if config_path else data_dir / "webui_config.json",
            port=_int(env, "PORT", 7860),
            vad_repo_dir=env.get("VAD_REPO_DIR") or None,
            ffmpeg_binary=env.get("FFMPEG_BINARY") or None,
            vllm_max_model_len=_int(env, "VLLM_MAX_MODEL_LEN", DEFAULT_VLLM_MAX_MODEL_LEN),
            progress_rtf=_float(env, "ASR_PROGRESS_RTF", 0.18),
            done_flash_s=_float(env, "WEBUI_DONE_FLASH_S", 2.0),
            server_name=env.get("GRADIO_SERVER_NAME", "").strip() or None,
            webui_username=env.get("WEBUI_USERNAME", "").strip() or None,
            webui_password=env.get("WEBUI_PASSWORD") or None,
            allowed_roots=_paths(env, "ALLOWED_ROOTS"),
        )
