"""prepare_environment on plain dicts: cache defaults, TRANSFORMERS_CACHE migration, offline flags."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from worker import environment
from worker.environment import DOCKER_CACHE_DEFAULTS, prepare_environment

REPO_ROOT = Path(__file__).resolve().parents[2]


def test_docker_defaults_put_every_cache_under_cache():
    env: dict[str, str] = {}
    prepare_environment(env, in_docker=True)
    assert env["XDG_CACHE_HOME"] == "/cache"
    assert env["HF_HOME"] == "/cache/hf"
    assert env["HF_HUB_CACHE"] == "/cache/hf/hub"
    assert env["TORCH_HOME"] == "/cache/torch"


def test_docker_hub_cache_follows_a_user_hf_home():
    env = {"HF_HOME": "/hf_cache", "TORCH_HOME": "/torch_cache"}
    prepare_environment(env, in_docker=True)
    assert env["HF_HUB_CACHE"] == "/hf_cache/hub"
    assert env["TORCH_HOME"] == "/torch_cache"
    assert env["XDG_CACHE_HOME"] == "/cache"


def test_docker_blank_values_get_the_defaults():
    env = {"HF_HOME": "  ", "TORCH_HOME": ""}
    prepare_environment(env, in_docker=True)
    assert env["HF_HOME"] == "/cache/hf"
    assert env["TORCH_HOME"] == "/cache/torch"


def test_outside_docker_library_cache_defaults_are_kept():
    env: dict[str, str] = {}
    prepare_environment(env, in_docker=False)
    assert not {"HF_HOME", "HF_HUB_CACHE", "TORCH_HOME", "XDG_CACHE_HOME"} & env.keys()


def test_docker_detection_reads_only_the_image_variable():
    inside = {"QWEN_ASR_IN_DOCKER": "1"}
    outside: dict[str, str] = {}
    prepare_environment(inside)
    prepare_environment(outside)
    assert inside["HF_HOME"] == DOCKER_CACHE_DEFAULTS["HF_HOME"]
    assert "HF_HOME" not in outside


def test_transformers_cache_moves_to_hub_cache_and_is_removed():
    env = {"TRANSFORMERS_CACHE": "/old/models"}
    notices = prepare_environment(env, in_docker=False)
    assert "TRANSFORMERS_CACHE" not in env
    assert env["HF_HUB_CACHE"] == "/old/models"
    assert notices == ["TRANSFORMERS_CACHE=/old/models moved to HF_HUB_CACHE"]


def test_transformers_cache_beats_docker_default_hub_cache():
    env = {"TRANSFORMERS_CACHE": "/old/models"}
    prepare_environment(env, in_docker=True)
    assert env["HF_HUB_CACHE"] == "/old/models"
    assert env["HF_HOME"] == "/cache/hf"


def test_explicit_hub_cache_wins_over_transformers_cache():
    env = {"TRANSFORMERS_CACHE": "/old", "HF_HUB_CACHE": "/new"}
    notices = prepare_environment(env, in_docker=False)
    assert env["HF_HUB_CACHE"] == "/new"
    assert "TRANSFORMERS_CACHE" not in env
    assert notices == ["TRANSFORMERS_CACHE=/old ignored: HF_HUB_CACHE=/new is set and wins"]


def test_same_folder_is_not_reported_as_a_conflict():
    env = {"TRANSFORMERS_CACHE": "/x/hub/", "HF_HUB_CACHE": "/x/hub"}
    notices = prepare_environment(env, in_docker=False)
    assert notices == ["TRANSFORMERS_CACHE=/x/hub/ removed: HF_HUB_CACHE already names the same folder"]


def test_older_aliases_are_removed_and_resolved_like_transformers():
    env = {"PYTORCH_TRANSFORMERS_CACHE": "/b", "PYTORCH_PRETRAINED_BERT_CACHE": "/c", "TRANSFORMERS_CACHE": ""}
    notices = prepare_environment(env, in_docker=False)
    assert env["HF_HUB_CACHE"] == "/b"
    assert not set(environment.LEGACY_HUB_CACHE_VARS) & env.keys()
    assert "PYTORCH_PRETRAINED_BERT_CACHE=/c ignored: PYTORCH_TRANSFORMERS_CACHE takes precedence" in notices


def test_empty_transformers_cache_is_removed_without_moving_anything():
    env = {"TRANSFORMERS_CACHE": ""}
    notices = prepare_environment(env, in_docker=False)
    assert "TRANSFORMERS_CACHE" not in env
    assert "HF_HUB_CACHE" not in env
    assert notices == ["TRANSFORMERS_CACHE was set but empty: removed"]


def test_no_torchvision_defaults_to_on_and_an_explicit_value_stays():
    default: dict[str, str] = {}
    explicit = {"TRANSFORMERS_NO_TORCHVISION": "0"}
    prepare_environment(default, in_docker=False)
    prepare_environment(explicit, in_docker=False)
    assert default["TRANSFORMERS_NO_TORCHVISION"] == "1"
    assert explicit["TRANSFORMERS_NO_TORCHVISION"] == "0"


@pytest.mark.parametrize("flag", ["HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"])
@pytest.mark.parametrize("value", ["1", "true", "YES", "on"])
def test_offline_flag_turns_on_both_offline_switches(flag, value):
    env = {flag: value}
    notices = prepare_environment(env, in_docker=False)
    assert env["HF_HUB_OFFLINE"] == "1"
    assert env["TRANSFORMERS_OFFLINE"] == "1"
    assert env["GRADIO_ANALYTICS_ENABLED"] == "False"
    assert any(notice.startswith("offline mode") for notice in notices)


@pytest.mark.parametrize("value", ["0", "", "false", "no"])
def test_offline_off_values_change_nothing(value):
    env = {"HF_HUB_OFFLINE": value}
    notices = prepare_environment(env, in_docker=False)
    assert env == {"HF_HUB_OFFLINE": value, "TRANSFORMERS_NO_TORCHVISION": "1"}
    assert notices == []


def test_unwritable_cache_is_reported_from_the_nearest_existing_folder(monkeypatch, tmp_path):
    readonly = tmp_path / "ro"
    readonly.mkdir()
    real_access = os.access
    monkeypatch.setattr(os, "access", lambda path, mode: path != readonly and real_access(path, mode))
    env = {"HF_HOME": str(readonly / "hf"), "TORCH_HOME": str(tmp_path / "torch")}
    notices = prepare_environment(env, in_docker=True)
    assert len(notices) == 1
    assert notices[0].startswith(f"HF_HUB_CACHE={readonly / 'hf' / 'hub'} is not writable")


def test_torchvision_is_hidden_only_when_not_already_imported():
    modules: dict[str, object] = {}
    assert environment.hide_torchvision(modules) == []
    assert modules == {"torchvision": None}
    assert environment.hide_torchvision({"torchvision": None}) == []
    late = environment.hide_torchvision({"torchvision": sys})
    assert late == ["TRANSFORMERS_NO_TORCHVISION has no effect: torchvision was imported before start-up"]


def test_a_plain_dict_never_touches_this_process():
    env = {"TRANSFORMERS_NO_TORCHVISION": "1"}
    had_entry = "torchvision" in sys.modules
    prepare_environment(env, in_docker=False)
    assert ("torchvision" in sys.modules) == had_entry


def test_importing_the_module_loads_none_of_the_libraries_it_prepares():
    code = (
        "import sys, worker.environment; print(sorted({'torch', 'transformers', 'huggingface_hub'} & set(sys.modules)))"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"
