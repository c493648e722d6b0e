"""Process environment fixed up once at start-up, before transformers, torch or huggingface_hub is imported.

Those libraries read their cache locations and offline flags when they are first imported, so
app.py and the worker call prepare_environment(os.environ) as their very first step.
Standard library only: importing this module must not import any of them.
"""

from __future__ import annotations

import os
import sys
from collections.abc import MutableMapping
from pathlib import Path

IN_DOCKER_VAR = "QWEN_ASR_IN_DOCKER"
NO_TORCHVISION_VAR = "TRANSFORMERS_NO_TORCHVISION"

# Cache roots used inside the image; the Dockerfile sets the same values as ENV (a test keeps them equal).
# HF_HUB_CACHE is deliberately absent: it follows HF_HOME, so `-e HF_HOME=/hf_cache` moves the hub cache too.
DOCKER_CACHE_DEFAULTS: dict[str, str] = {
    "XDG_CACHE_HOME": "/cache",
    "HF_HOME": "/cache/hf",
    "TORCH_HOME": "/cache/torch",
}

# Older names for the hub cache, in the order transformers itself resolves them; any of them being
# set (even empty) makes transformers 4.x emit a FutureWarning at import.
LEGACY_HUB_CACHE_VARS = ("TRANSFORMERS_CACHE", "PYTORCH_TRANSFORMERS_CACHE", "PYTORCH_PRETRAINED_BERT_CACHE")

_TRUE_VALUES = {"1", "ON", "YES", "TRUE"}


def is_true(value: str | None) -> bool:
    """The truth test huggingface_hub and transformers apply to their flags."""
    return value is not None and value.strip().upper() in _TRUE_VALUES


def _filled(env: MutableMapping[str, str], name: str) -> str:
    return env.get(name, "").strip()


def _same_path(a: str, b: str) -> bool:
    return os.path.normcase(os.path.normpath(a)) == os.path.normcase(os.path.normpath(b))


def migrate_legacy_hub_cache(env: MutableMapping[str, str]) -> list[str]:
    """Move TRANSFORMERS_CACHE (and its older aliases) to HF_HUB_CACHE and remove them.

    They named the folder that holds the `models--*` directories, which is what HF_HUB_CACHE names
    today, so models downloaded under the old setting are still found. An explicit HF_HUB_CACHE wins.
    """
    present = [(name, env.pop(name).strip()) for name in LEGACY_HUB_CACHE_VARS if name in env]
    values = [(name, value) for name, value in present if value]
    if not values:
        return [f"{name} was set but empty: removed" for name, _ in present]
    name, legacy = values[0]
    hub_cache = _filled(env, "HF_HUB_CACHE")
    notices = [f"{other}={value} ignored: {name} takes precedence" for other, value in values[1:]]
    if not hub_cache:
        env["HF_HUB_CACHE"] = legacy
        notices.insert(0, f"{name}={legacy} moved to HF_HUB_CACHE")
    elif _same_path(hub_cache, legacy):
        notices.insert(0, f"{name}={legacy} removed: HF_HUB_CACHE already names the same folder")
    else:
        notices.insert(0, f"{name}={legacy} ignored: HF_HUB_CACHE={hub_cache} is set and wins")
    return notices


def apply_docker_cache_defaults(env: MutableMapping[str, str]) -> None:
    """Inside the image every cache lives under /cache (one volume) unless a variable says otherwise."""
    for name, default in DOCKER_CACHE_DEFAULTS.items():
        if not _filled(env, name):
            env[name] = default
    if not _filled(env, "HF_HUB_CACHE"):
        env["HF_HUB_CACHE"] = str(Path(env["HF_HOME"]) / "hub")


def _nearest_existing(path: Path) -> Path:
    while not path.exists() and path != path.parent:
        path = path.parent
    return path


def unwritable_caches(env: MutableMapping[str, str]) -> list[str]:
    """Cache folders this user cannot create or write, a common surprise with NAS mounts and non-root users."""
    notices = []
    for name in ("HF_HUB_CACHE", "TORCH_HOME"):
        path = _filled(env, name)
        if path and not os.access(_nearest_existing(Path(path)), os.W_OK | os.X_OK):
            notices.append(
                f"{name}={path} is not writable by this user: downloads into it will fail "
                "(make the mounted folder writable, or build with ENABLE_NONROOT and a matching UID/GID)"
            )
    return notices


def apply_offline_mode(env: MutableMapping[str, str]) -> list[str]:
    """HF_HUB_OFFLINE (or TRANSFORMERS_OFFLINE) turns every network path off, not just the hub client's."""
    if not (is_true(env.get("HF_HUB_OFFLINE")) or is_true(env.get("TRANSFORMERS_OFFLINE"))):
        return []
    env["HF_HUB_OFFLINE"] = "1"
    env["TRANSFORMERS_OFFLINE"] = "1"
    env.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
    env.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    return ["offline mode: models load from local folders or the Hugging Face cache only"]


def hide_torchvision(modules: MutableMapping[str, object]) -> list[str]:
    """Make torchvision look absent so transformers never imports it.

    transformers imports torchvision whenever it is installed; a torchvision built for another torch
    then crashes the import ("operator torchvision::nms does not exist"). Speech models never need it.
    A None entry in sys.modules makes both `import torchvision` and importlib.util.find_spec report
    it missing, which is what transformers checks.
    """
    if "torchvision" in modules:
        if modules["torchvision"] is None:
            return []
        return [f"{NO_TORCHVISION_VAR} has no effect: torchvision was imported before start-up"]
    modules["torchvision"] = None
    return []


def prepare_environment(env: MutableMapping[str, str], *, in_docker: bool | None = None) -> list[str]:
    """Fix up cache and offline variables in env; return one human-readable line per change worth logging.

    in_docker=None reads QWEN_ASR_IN_DOCKER, which only the Dockerfile sets (/.dockerenv is not used:
    it also exists in CI and dev containers, where the /cache defaults would be wrong). Outside Docker
    the libraries' own cache defaults stay, so a local install shares the user's existing model cache.
    When env is the live os.environ, TRANSFORMERS_NO_TORCHVISION (default 1) also hides torchvision
    from this process.
    """
    if in_docker is None:
        in_docker = is_true(env.get(IN_DOCKER_VAR))
    notices = migrate_legacy_hub_cache(env)
    if in_docker:
        apply_docker_cache_defaults(env)
        notices += unwritable_caches(env)
    notices += apply_offline_mode(env)
    if not _filled(env, NO_TORCHVISION_VAR):
        env[NO_TORCHVISION_VAR] = "1"
    if env is os.environ and is_true(env[NO_TORCHVISION_VAR]):
        notices += hide_torchvision(sys.modules)
    return notices
