"""docker/healthcheck.py against a real local HTTP server: healthy when the app answers, not otherwise."""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "docker" / "healthcheck.py"


class _Ok(BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args):
        pass


def run_healthcheck(port: int) -> subprocess.CompletedProcess[str]:
    # A proxy that refuses everything: the check must not go through it.
    env = {"PORT": str(port), "HTTP_PROXY": "http://127.0.0.1:9", "http_proxy": "http://127.0.0.1:9"}
    return subprocess.run([sys.executable, str(SCRIPT)], env=env, capture_output=True, text=True, timeout=30)


def test_healthcheck_passes_when_the_app_answers():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Ok)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        result = run_healthcheck(server.server_address[1])
    finally:
        server.shutdown()
        server.server_close()
    assert result.returncode == 0, result.stderr


def test_healthcheck_fails_when_nothing_listens():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        free_port = probe.getsockname()[1]
    result = run_healthcheck(free_port)
    assert result.returncode == 1
    assert "unhealthy" in result.stderr
