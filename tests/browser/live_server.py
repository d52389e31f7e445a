"""The real app under gunicorn on a free port, and how Chromium is launched here: shared by the browser
tests and the app benchmarks (`tests/bench/pwa_bench.py`)."""

import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def gunicorn(*, port: int, env: dict[str, str], log_path: Path) -> Iterator[None]:
    """Serve the app (test settings, `localhost` as the platform domain) until the block ends; the
    server's output goes to `log_path`, shown if it does not start."""
    env = {**env, "DJANGO_SETTINGS_MODULE": "config.settings_test", "PLATFORM_DOMAIN": "localhost", "DEBUG": "false"}
    command = [sys.executable, "-m", "gunicorn", "--pythonpath", "platform", "config.wsgi"]
    options = ["--bind", f"127.0.0.1:{port}", "--workers", "2", "--threads", "4", "--timeout", "120"]
    with open(log_path, "w") as log:
        server = subprocess.Popen([*command, *options], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            _wait_healthy(server, port, log_path)
            yield
        finally:
            server.terminate()
            server.wait(timeout=20)


def _wait_healthy(server: subprocess.Popen, port: int, log_path: Path) -> None:
    deadline = time.monotonic() + 60
    while True:
        try:
            request = urllib.request.Request(f"http://127.0.0.1:{port}/healthz", headers={"Host": "localhost"})
            with urllib.request.urlopen(request, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        if server.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError("gunicorn did not start:\n" + log_path.read_text())
        time.sleep(0.3)
