"""A real ``python app.py`` server and a headless Debian chromium, for the browser tests and the screenshots.

The server runs in its own process group with every folder it uses (data, output, config) in a temp
root, and the tiny models as its default checkpoints. Stopping it cancels any job it started (a detached
worker would otherwise outlive the test) and then kills the whole group.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking"]
STARTUP_TIMEOUT_S = 120.0


@dataclass(frozen=True)
class AppServer:
    url: str
    root: Path
    data_dir: Path
    output_dir: Path
    config_path: Path
    log_path: Path
    pid: int


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _log_tail(path: Path, lines: int = 40) -> str:
    try:
        return "\n".join(path.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


def _wait_until_serving(url: str, process: subprocess.Popen, log_path: Path) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"app.py exited with {process.returncode}:\n{_log_tail(log_path)}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            time.sleep(0.3)
    raise RuntimeError(f"app.py did not serve {url} within {STARTUP_TIMEOUT_S:.0f} s:\n{_log_tail(log_path)}")


def _stop_group(process: subprocess.Popen) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=15)


@contextlib.contextmanager
def running_app(root: Path, asr_dir: Path, aligner_dir: Path, *, extra_env: dict[str, str] | None = None
                ) -> Iterator[AppServer]:
    """Serve app.py on a free port until the block ends; the job it may have started is cancelled first."""
    from worker.launcher import cancel_job

    port = free_port()
    server = AppServer(
        url=f"http://127.0.0.1:{port}/", root=root, data_dir=root / "data", output_dir=root / "output",
        config_path=root / "data" / "webui_config.json", log_path=root / "app.log", pid=0,
    )
    env = {
        **os.environ,
        "ASR_CHECKPOINT": str(asr_dir),
        "ALIGNER_CHECKPOINT": str(aligner_dir),
        "DATA_DIR": str(server.data_dir),
        "OUTPUT_DIR": str(server.output_dir),
        "WEBUI_CONFIG": str(server.config_path),
        "MODELS_DIR": str(root / "models"),
        "HF_HUB_OFFLINE": "1",
        "GRADIO_ANALYTICS_ENABLED": "False",
        "PYTHONUNBUFFERED": "1",
        **(extra_env or {}),
    }
    with open(server.log_path, "wb") as log:
        process = subprocess.Popen(
            [sys.executable, "app.py", "--host", "127.0.0.1", "--port", str(port)], cwd=REPO_ROOT, env=env,
            stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )
    try:
        _wait_until_serving(server.url, process, server.log_path)
        yield replace(server, pid=process.pid)
    finally:
        try:
            cancel_job(server.data_dir, timeout_s=10)
        finally:
            _stop_group(process)


def launch_chromium(playwright):
    return playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
