"""Dockerfile, docker-compose.yml and the requirements files keep the promises of the README.

No Docker engine is needed: the files are parsed, every RUN step is syntax-checked with /bin/sh, and
`docker compose config` validates the compose file when a Compose v2 client is installed.
"""

from __future__ import annotations

import json
import shlex
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml
from packaging.requirements import Requirement

from worker.environment import DOCKER_CACHE_DEFAULTS, prepare_environment
from worker.settings import Settings

REPO_ROOT = Path(__file__).resolve().parents[2]
SERVICE = "qwen3-asr-webui"

DEFAULT_BASE_IMAGE = "pytorch/pytorch:2.4.1-cuda12.4-cudnn9-runtime"
# Build arguments named by the README, with their defaults (None: no default, unset unless given).
SPEC_BUILD_ARGS = {
    "INSTALL_VLLM": "0",
    "INSTALL_FLASH_ATTN": "0",
    "PIP_INDEX_URL": None,
    "PIP_EXTRA_INDEX_URL": None,
    "PIP_TRUSTED_HOST": None,
    "ENABLE_NONROOT": "0",
    "UID": "1000",
    "GID": "1000",
    "RUN_USER": "root",
}
# Runtime variables named by the README; each must appear in docker-compose.yml, set or commented.
SPEC_RUNTIME_VARS = (
    "ASR_CHECKPOINT",
    "ALIGNER_CHECKPOINT",
    "OUTPUT_DIR",
    "PORT",
    "HF_HOME",
    "HF_HUB_CACHE",
    "TORCH_HOME",
    "XDG_CACHE_HOME",
    "HF_HUB_OFFLINE",
    "WEBUI_CONFIG",
    "VAD_REPO_DIR",
    "VLLM_MAX_MODEL_LEN",
    "TRANSFORMERS_NO_TORCHVISION",
    "ASR_PROGRESS_RTF",
    "WEBUI_DONE_FLASH_S",
)
MOUNT_POINTS = ["/models", "/data", "/output", "/cache"]
COMPOSE_VOLUMES = ["./models:/models:ro", "./data:/data", "./output:/output", "./cache:/cache"]


@dataclass(frozen=True)
class Instruction:
    keyword: str
    args: str


def parse_dockerfile(text: str) -> list[Instruction]:
    """Instructions with continuation lines joined and comment lines dropped, as the builder reads them."""
    instructions: list[Instruction] = []
    pending = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        keyword, _, args = (pending + line).partition(" ")
        instructions.append(Instruction(keyword.upper(), args.strip()))
        pending = ""
    assert not pending, "the Dockerfile ends inside a continued line"
    return instructions


@pytest.fixture(scope="module")
def dockerfile() -> list[Instruction]:
    return parse_dockerfile((REPO_ROOT / "Dockerfile").read_text(encoding="utf-8"))


def index_of(instructions: list[Instruction], keyword: str, predicate=lambda args: True) -> list[int]:
    return [i for i, ins in enumerate(instructions) if ins.keyword == keyword and predicate(ins.args)]


def declared_args(instructions: list[Instruction]) -> dict[str, tuple[int, str | None]]:
    args = {}
    for i, ins in enumerate(instructions):
        if ins.keyword == "ARG":
            name, has_default, default = ins.args.partition("=")
            args[name] = (i, default if has_default else None)
    return args


def image_env(instructions: list[Instruction]) -> dict[str, str]:
    env = {}
    for ins in instructions:
        if ins.keyword == "ENV":
            for pair in shlex.split(ins.args):
                name, _, value = pair.partition("=")
                env[name] = value
    return env


@pytest.fixture(scope="module")
def compose_text() -> str:
    return (REPO_ROOT / "docker-compose.yml").read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def service(compose_text) -> dict:
    return yaml.safe_load(compose_text)["services"][SERVICE]


# --- Dockerfile -------------------------------------------------------------------------------------


def test_base_image_is_a_build_arg_with_the_documented_default(dockerfile):
    args = declared_args(dockerfile)
    (from_index,) = index_of(dockerfile, "FROM")
    assert args["BASE_IMAGE"] == (0, DEFAULT_BASE_IMAGE)
    assert dockerfile[from_index].args == "${BASE_IMAGE}"


def test_every_documented_build_arg_is_declared_inside_the_stage_with_its_default(dockerfile):
    args = declared_args(dockerfile)
    (from_index,) = index_of(dockerfile, "FROM")
    for name, default in SPEC_BUILD_ARGS.items():
        assert name in args, f"build arg {name} is missing"
        position, declared_default = args[name]
        # An ARG declared before FROM is invisible to RUN steps.
        assert position > from_index, f"{name} is declared before FROM"
        assert declared_default == default, f"{name} defaults to {declared_default!r}, README says {default!r}"


@pytest.mark.parametrize("name", ["INSTALL_VLLM", "INSTALL_FLASH_ATTN", "ENABLE_NONROOT", "UID", "GID", "RUN_USER"])
def test_each_switch_is_used_after_it_is_declared(dockerfile, name):
    position, _ = declared_args(dockerfile)[name]
    later = " ".join(ins.args for ins in dockerfile[position + 1 :])
    assert f"${name}" in later or f"${{{name}}}" in later


def test_pip_index_args_are_in_scope_for_every_pip_install(dockerfile):
    args = declared_args(dockerfile)
    pip_steps = index_of(dockerfile, "RUN", lambda a: "pip install" in a)
    assert pip_steps
    for name in ("PIP_INDEX_URL", "PIP_EXTRA_INDEX_URL", "PIP_TRUSTED_HOST"):
        assert args[name][0] < min(pip_steps)


def test_vllm_and_flash_attn_are_installed_only_when_switched_on(dockerfile):
    (vllm,) = index_of(dockerfile, "RUN", lambda a: "requirements-vllm.txt" in a)
    (flash,) = index_of(dockerfile, "RUN", lambda a: "flash-attn" in a)
    assert dockerfile[vllm].args.startswith('if [ "$INSTALL_VLLM" = "1" ]; then')
    assert dockerfile[flash].args.startswith('if [ "$INSTALL_FLASH_ATTN" = "1" ]; then')
    assert "nvcc" in dockerfile[flash].args
    assert vllm < flash, "FlashAttention must be built against the torch that vLLM installs"


def test_requirements_keep_the_base_image_torch(dockerfile):
    (step,) = index_of(dockerfile, "RUN", lambda a: "-r requirements.txt" in a)
    assert "--upgrade-strategy only-if-needed" in dockerfile[step].args
    assert "-c /tmp/keep-torch.txt" in dockerfile[step].args


def test_ffmpeg_and_tini_are_installed_and_tini_is_pid_1(dockerfile):
    apt = " ".join(dockerfile[i].args for i in index_of(dockerfile, "RUN", lambda a: "apt-get install" in a))
    assert "ffmpeg" in apt.split()
    assert "tini" in apt.split()
    (entrypoint,) = index_of(dockerfile, "ENTRYPOINT")
    assert json.loads(dockerfile[entrypoint].args) == ["/usr/bin/tini", "--"]


def test_runtime_env_gives_the_documented_defaults(dockerfile):
    env = image_env(dockerfile)
    assert env["QWEN_ASR_IN_DOCKER"] == "1"
    assert env["PORT"] == "80"
    assert env["TRANSFORMERS_NO_TORCHVISION"] == "1"
    assert {name: env[name] for name in DOCKER_CACHE_DEFAULTS} == DOCKER_CACHE_DEFAULTS
    assert "HF_HUB_CACHE" not in env, "a fixed HF_HUB_CACHE would ignore a user's HF_HOME (NAS example)"
    assert "TRANSFORMERS_CACHE" not in env
    settings = Settings.from_env(env)
    assert settings.output_dir == Path("/output")
    assert settings.data_dir == Path("/data")
    assert settings.models_dir == Path("/models")
    assert settings.webui_config_path == Path("/data/webui_config.json")
    assert settings.job_state_path == Path("/data/job_state.json")
    assert settings.job_log_path == Path("/data/job.log")
    assert settings.port == 80
    prepared = dict(env)
    prepare_environment(prepared)
    assert prepared["HF_HUB_CACHE"] == "/cache/hf/hub"


def test_expose_is_the_default_port(dockerfile):
    (expose,) = index_of(dockerfile, "EXPOSE")
    assert dockerfile[expose].args == image_env(dockerfile)["PORT"]


def test_the_four_mount_points_are_volumes(dockerfile):
    (volume,) = index_of(dockerfile, "VOLUME")
    assert json.loads(dockerfile[volume].args) == MOUNT_POINTS


def test_healthcheck_runs_the_bundled_script(dockerfile):
    (health,) = index_of(dockerfile, "HEALTHCHECK")
    command = json.loads(dockerfile[health].args.partition("CMD")[2])
    assert command == ["python", "/app/docker/healthcheck.py"]
    assert (REPO_ROOT / "docker" / "healthcheck.py").is_file()


def test_code_is_copied_after_every_install_step(dockerfile):
    copies = index_of(dockerfile, "COPY")
    code_copy = index_of(dockerfile, "COPY", lambda a: a == ". /app")
    assert code_copy == [copies[-1]]
    assert max(index_of(dockerfile, "RUN")) < code_copy[0]
    for early in copies[:-1]:
        *sources, _destination = dockerfile[early].args.split()
        assert all(source.startswith("requirements") for source in sources), sources
        assert all((REPO_ROOT / source).is_file() for source in sources)


def test_app_listens_on_all_interfaces_and_takes_the_port_from_env(dockerfile):
    (cmd,) = index_of(dockerfile, "CMD")
    assert json.loads(dockerfile[cmd].args) == ["python", "app.py", "--host", "0.0.0.0"]
    (user,) = index_of(dockerfile, "USER")
    assert dockerfile[user].args == "${RUN_USER}"


def test_every_run_step_is_valid_posix_sh(dockerfile):
    for i in index_of(dockerfile, "RUN"):
        check = subprocess.run(["sh", "-n", "-c", dockerfile[i].args], capture_output=True, text=True)
        assert check.returncode == 0, f"RUN step {dockerfile[i].args[:60]!r}: {check.stderr}"


def test_models_caches_and_job_data_never_enter_the_image(dockerfile):
    ignored = {line.strip() for line in (REPO_ROOT / ".dockerignore").read_text().splitlines()}
    assert {"models/", "cache/", "data/", "output/", ".venv/", ".git/"} <= ignored
    sources = " ".join(dockerfile[i].args for i in index_of(dockerfile, "COPY") + index_of(dockerfile, "ADD"))
    assert "models" not in sources


# --- docker-compose.yml -----------------------------------------------------------------------------


def test_compose_publishes_7860_to_the_container_port(service):
    assert service["ports"] == ["7860:80"]
    assert service["ports"][0].split(":")[1] == service["environment"]["PORT"]


def test_compose_mounts_the_four_folders(service):
    assert service["volumes"] == COMPOSE_VOLUMES


def test_compose_names_every_documented_variable(service, compose_text):
    commented = {
        line.strip()[1:].strip().partition(":")[0] for line in compose_text.splitlines() if line.strip().startswith("#")
    }
    missing = [name for name in SPEC_RUNTIME_VARS if name not in service["environment"] and name not in commented]
    assert missing == []


def test_compose_environment_means_what_the_app_reads(service):
    settings = Settings.from_env({k: str(v) for k, v in service["environment"].items()})
    assert settings.asr_checkpoint == "/models/Qwen3-ASR-1.7B"
    assert settings.aligner_checkpoint == "/models/Qwen3-ForcedAligner-0.6B"
    assert settings.output_dir == Path("/output")
    assert settings.webui_config_path == Path("/data/webui_config.json")
    assert settings.port == 80
    assert settings.vllm_max_model_len == 16384
    assert settings.progress_rtf == pytest.approx(0.18)
    assert settings.done_flash_s == pytest.approx(2.0)
    assert {name: service["environment"][name] for name in DOCKER_CACHE_DEFAULTS} == DOCKER_CACHE_DEFAULTS


def test_compose_gpu_line_is_present_but_commented(service, compose_text):
    assert "gpus" not in service
    assert "    # gpus: all" in compose_text.splitlines()


def test_compose_build_args_are_the_dockerfile_defaults(service, dockerfile):
    args = declared_args(dockerfile)
    assert service["build"]["context"] == "."
    for name, value in service["build"]["args"].items():
        assert args[name][1] == value, name
    assert service["build"]["args"]["BASE_IMAGE"] == DEFAULT_BASE_IMAGE


def compose_client() -> list[str] | None:
    """`docker compose` (the plugin) or a standalone Compose v2 `docker-compose`; neither needs an engine."""
    candidates = [["docker", "compose"], ["docker-compose"]]
    for command in candidates:
        if shutil.which(command[0]) is None:
            continue
        version = subprocess.run([*command, "version"], capture_output=True, text=True)
        if version.returncode == 0 and "version v2" in version.stdout.lower():
            return command
    return None


@pytest.mark.parametrize("gpu", [False, True], ids=["as-shipped", "gpus-uncommented"])
def test_docker_compose_config_accepts_the_file(compose_text, tmp_path, gpu):
    client = compose_client()
    if client is None:
        pytest.skip("no Docker Compose v2 client on this machine (docker compose plugin or docker-compose)")
    text = compose_text.replace("    # gpus: all", "    gpus: all") if gpu else compose_text
    compose_file = tmp_path / "docker-compose.yml"
    compose_file.write_text(text, encoding="utf-8")
    command = [*client, "-f", str(compose_file), "--project-directory", str(REPO_ROOT), "config", "--format", "json"]
    result = subprocess.run(command, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    rendered = json.loads(result.stdout)["services"][SERVICE]
    assert [(p["published"], p["target"]) for p in rendered["ports"]] == [("7860", 80)]
    mounts = {
        (Path(v["source"]).relative_to(REPO_ROOT).as_posix(), v["target"], v.get("read_only", False))
        for v in rendered["volumes"]
    }
    assert mounts == {
        ("models", "/models", True),
        ("data", "/data", False),
        ("output", "/output", False),
        ("cache", "/cache", False),
    }
    assert ("gpus" in rendered) == gpu


# --- requirements files -----------------------------------------------------------------------------


def requirement_lines(name: str) -> list[str]:
    lines = (REPO_ROOT / name).read_text(encoding="utf-8").splitlines()
    return [line.strip() for line in lines if line.strip() and not line.strip().startswith("#")]


def pinned(lines: list[str]) -> dict[str, Requirement]:
    return {Requirement(line).name: Requirement(line) for line in lines if not line.startswith("-")}


def test_requirements_txt_leaves_an_installed_torch_alone():
    assert "torch" not in pinned(requirement_lines("requirements.txt"))


def test_vllm_extra_uses_the_same_qwen_asr_and_the_working_vllm():
    base = pinned(requirement_lines("requirements.txt"))["qwen-asr"]
    extra = pinned(requirement_lines("requirements-vllm.txt"))
    assert extra["qwen-asr"].extras == {"vllm"}
    assert str(extra["qwen-asr"].specifier) == str(base.specifier)
    assert str(extra["vllm"].specifier) == "==0.14.0"


def test_windows_cu130_file_is_the_fixed_torch_plus_the_project_requirements():
    lines = requirement_lines("requirements-win-cu130.txt")
    assert "--extra-index-url https://download.pytorch.org/whl/cu130" in lines
    assert str(pinned(lines)["torch"].specifier) == "==2.10.0+cu130"
    assert "-r requirements.txt" in lines
