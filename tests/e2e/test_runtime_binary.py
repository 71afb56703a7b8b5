"""The octo-runtime binary on the host, as its images start it: HTTP, worker, SIGTERM, crash."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import urllib.request

import pytest
from cluster.local_ports import free_port
from e2e_support import wait_until
from images.runtime_images import build_binary

EXIT_TIMEOUT_SECONDS = 10


@pytest.fixture(scope="module")
def binary() -> str:
    return str(build_binary())


def start(binary: str, **env: str) -> subprocess.Popen:
    base = {"PATH": os.environ["PATH"]}
    return subprocess.Popen(
        [binary], env={**base, **env}, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )


def get(url: str):
    with urllib.request.urlopen(url, timeout=2) as response:
        return response.status, response.read().decode()


def answered(url: str):
    try:
        return get(url)
    except OSError:
        return None


def test_serves_health_and_env_names_then_exits_0_on_sigterm(binary):
    port = free_port()
    process = start(binary, HTTP_PORT=str(port), HTTP_HOST="127.0.0.1", API_KEY="value-never-shown")
    try:
        assert wait_until("the health path", lambda: answered(f"http://127.0.0.1:{port}/healthz")) == (
            200,
            "ok\n",
        )
        status, body = get(f"http://127.0.0.1:{port}/")
        report = json.loads(body)
        assert status == 200 and report["hostname"] == socket.gethostname()
        assert {"API_KEY", "HTTP_PORT", "HTTP_HOST"} <= set(report["env"])
        assert "value-never-shown" not in body
    finally:
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=EXIT_TIMEOUT_SECONDS)
    assert process.returncode == 0
    assert f"serving on 127.0.0.1:{port}" in output and "SIGTERM received, exiting" in output


def test_a_worker_sleeps_until_sigterm(binary):
    process = start(binary)
    first_line = wait_until("the worker's first line", process.stdout.readline)
    assert process.poll() is None  # still running
    process.send_signal(signal.SIGTERM)
    output, _ = process.communicate(timeout=EXIT_TIMEOUT_SECONDS)
    assert first_line == "octo-runtime: worker running (no HTTP_PORT)\n"
    assert process.returncode == 0 and "SIGTERM received" in output


def test_the_crash_variant_exits_1(binary):
    process = start(binary, OCTO_RUNTIME_CRASH="1", HTTP_PORT=str(free_port()))
    output, _ = process.communicate(timeout=EXIT_TIMEOUT_SECONDS)
    assert process.returncode == 1 and "crashing as asked" in output
