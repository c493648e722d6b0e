"""prepare_environment against the real libraries, each case in a fresh interpreter with a clean environment.

The libraries read their variables once at import, so only a new process shows what they really see.
Every case has a control run without the fix-up that shows the failure the fix-up prevents.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]

PREPARE = "from worker.environment import prepare_environment\nNOTICES = prepare_environment(os.environ)\n"
NO_PREPARE = "NOTICES = []\n"


def run_clean(
    body: str, home: Path, *, prepare: bool = True, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run `body` in a new interpreter whose environment is PATH, HOME and `env` only (like `env -i`)."""
    script = "import json, os, sys, warnings\n" + (PREPARE if prepare else NO_PREPARE) + textwrap.dedent(body)
    clean = {"PATH": os.environ.get("PATH", ""), "HOME": str(home), **(env or {})}
    return subprocess.run(
        [sys.executable, "-W", "error::FutureWarning", "-c", script],
        cwd=REPO_ROOT,
        env=clean,
        capture_output=True,
        text=True,
        timeout=120,
    )


def result_of(proc: subprocess.CompletedProcess[str]) -> dict:
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


IMPORT_TRANSFORMERS_HUB = """
import huggingface_hub.constants as hub_constants
import transformers.utils.hub as transformers_hub
print(json.dumps({
    "notices": NOTICES,
    "legacy_set": "TRANSFORMERS_CACHE" in os.environ,
    "hub_cache": hub_constants.HF_HUB_CACHE,
    "transformers_cache": transformers_hub.TRANSFORMERS_CACHE,
}))
"""


def test_transformers_cache_is_migrated_without_future_warning(tmp_path):
    old_cache = tmp_path / "old-transformers-cache"
    env = {"TRANSFORMERS_CACHE": str(old_cache)}
    result = result_of(run_clean(IMPORT_TRANSFORMERS_HUB, tmp_path, env=env))
    assert result["notices"] == [f"TRANSFORMERS_CACHE={old_cache} moved to HF_HUB_CACHE"]
    assert result["legacy_set"] is False
    assert result["hub_cache"] == str(old_cache)
    assert result["transformers_cache"] == str(old_cache)


def test_control_transformers_cache_left_alone_raises_future_warning(tmp_path):
    env = {"TRANSFORMERS_CACHE": str(tmp_path / "old-transformers-cache")}
    proc = run_clean(IMPORT_TRANSFORMERS_HUB, tmp_path, prepare=False, env=env)
    assert proc.returncode != 0
    assert "FutureWarning" in proc.stderr
    assert "TRANSFORMERS_CACHE" in proc.stderr


CACHE_LOCATIONS = """
import huggingface_hub.constants as hub_constants
import torch.hub
print(json.dumps({
    "hf_home": hub_constants.HF_HOME,
    "hub_cache": hub_constants.HF_HUB_CACHE,
    "torch_hub": torch.hub.get_dir(),
    "no_torchvision": os.environ.get("TRANSFORMERS_NO_TORCHVISION"),
}))
"""


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        (
            {"QWEN_ASR_IN_DOCKER": "1"},
            {"hf_home": "/cache/hf", "hub_cache": "/cache/hf/hub", "torch_hub": "/cache/torch/hub"},
        ),
        (
            {"QWEN_ASR_IN_DOCKER": "1", "HF_HOME": "/hf_cache", "TORCH_HOME": "/torch_cache"},
            {"hf_home": "/hf_cache", "hub_cache": "/hf_cache/hub", "torch_hub": "/torch_cache/hub"},
        ),
    ],
    ids=["docker-defaults", "nas-separate-caches"],
)
def test_docker_cache_locations_reach_the_libraries(tmp_path, env, expected):
    result = result_of(run_clean(CACHE_LOCATIONS, tmp_path, env=env))
    assert result == {**expected, "no_torchvision": "1"}


def test_local_run_keeps_the_users_own_caches(tmp_path):
    result = result_of(run_clean(CACHE_LOCATIONS, tmp_path))
    assert result == {
        "hf_home": str(tmp_path / ".cache" / "huggingface"),
        "hub_cache": str(tmp_path / ".cache" / "huggingface" / "hub"),
        "torch_hub": str(tmp_path / ".cache" / "torch" / "hub"),
        "no_torchvision": "1",
    }


# Every way a socket reaches the network is recorded and stopped before anything leaves the machine. The
# guard raises a BaseException so that no retry loop in the hub client catches it and tries again.
LOAD_UNKNOWN_HUB_ID = """
import socket
class NetworkAttempt(BaseException):
    pass
def refuse(kind):
    def guard(*args, **kwargs):
        raise NetworkAttempt(kind)
    return guard
socket.getaddrinfo = refuse("getaddrinfo")
socket.create_connection = refuse("create_connection")
socket.socket.connect = refuse("connect")
from transformers import AutoConfig
try:
    AutoConfig.from_pretrained("Qwen/no-such-model-for-offline-tests")
    outcome = "loaded"
except NetworkAttempt as exc:
    outcome = f"network attempt: {exc}"
except OSError:
    outcome = "OSError"
print(json.dumps({"outcome": outcome, "transformers_offline": os.environ.get("TRANSFORMERS_OFFLINE")}))
"""


def test_offline_flag_fails_a_hub_id_without_touching_the_network(tmp_path):
    env = {"HF_HUB_OFFLINE": "1", "HF_HOME": str(tmp_path / "hf")}
    result = result_of(run_clean(LOAD_UNKNOWN_HUB_ID, tmp_path, env=env))
    assert result == {"outcome": "OSError", "transformers_offline": "1"}


def test_control_without_offline_flag_a_hub_id_goes_to_the_network(tmp_path):
    env = {"HF_HOME": str(tmp_path / "hf")}
    result = result_of(run_clean(LOAD_UNKNOWN_HUB_ID, tmp_path, env=env))
    assert result["outcome"].startswith("network attempt"), "the guard saw nothing: the offline test proves nothing"


def make_broken_torchvision(site: Path) -> None:
    """An installed-looking torchvision whose import fails like one built for another torch."""
    package = site / "torchvision"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text('raise RuntimeError("operator torchvision::nms does not exist")\n')
    dist_info = site / "torchvision-0.19.1.dist-info"
    dist_info.mkdir()
    (dist_info / "METADATA").write_text("Metadata-Version: 2.1\nName: torchvision\nVersion: 0.19.1\n")


IMPORT_IMAGE_UTILS = """
import transformers.image_utils
from transformers.utils import is_torchvision_available
print(json.dumps({"torchvision_available": is_torchvision_available()}))
"""


def test_no_torchvision_default_survives_a_broken_torchvision(tmp_path):
    make_broken_torchvision(tmp_path / "site")
    env = {"PYTHONPATH": str(tmp_path / "site")}
    result = result_of(run_clean(IMPORT_IMAGE_UTILS, tmp_path, env=env))
    assert result == {"torchvision_available": False}


def test_control_no_torchvision_off_crashes_on_a_broken_torchvision(tmp_path):
    make_broken_torchvision(tmp_path / "site")
    env = {"PYTHONPATH": str(tmp_path / "site"), "TRANSFORMERS_NO_TORCHVISION": "0"}
    proc = run_clean(IMPORT_IMAGE_UTILS, tmp_path, env=env)
    assert proc.returncode != 0
    assert "torchvision::nms" in proc.stderr
