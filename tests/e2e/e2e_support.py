"""Helpers of the end-to-end tier: its cluster's state directory and CLI, HTTP through Traefik, containerd."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from cluster import real_node

CLUSTER_SCRIPT = Path(__file__).resolve().parents[1] / "cluster" / "cluster.py"
CACHE_DIR = Path(os.environ.get("OCTO_CACHE_DIR", "~/.cache/octo-platform")).expanduser()
STATE_DIR = Path(os.environ.get("OCTO_E2E_CLUSTER_DIR", CACHE_DIR / "e2e-cluster")).expanduser()
CLUSTER_TIMEOUT_SECONDS = 300
HTTP_TIMEOUT_SECONDS = 5


def cluster_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(CLUSTER_SCRIPT), *args],
        env={**os.environ, "OCTO_CLUSTER_DIR": str(STATE_DIR)},
        capture_output=True,
        text=True,
        timeout=CLUSTER_TIMEOUT_SECONDS,
        check=False,
    )


def get_through_traefik(port: int, host: str) -> tuple[int, dict | str]:
    """GET / of `host` through Traefik's web entry point: (status, JSON body or text); 0 when unreachable."""
    request = urllib.request.Request(f"http://127.0.0.1:{port}/", headers={"Host": host})
    try:
        with urllib.request.urlopen(request, timeout=HTTP_TIMEOUT_SECONDS) as response:
            body = response.read().decode()
            return response.status, json.loads(body)
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode(errors="replace")
    except (OSError, ValueError) as error:
        return 0, str(error)


def wait_until(what: str, check, timeout: float = 90, interval: float = 0.5):
    """Poll `check` until it returns something true and return that; fail naming `what` after `timeout`."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            pytest.fail(f"gave up after {timeout:.0f}s waiting for {what}", pytrace=False)
        time.sleep(interval)


def _ctr(*args: str) -> list[str]:
    argv = ["ctr", "--address", str(real_node.Layout(STATE_DIR).socket), "-n", "k8s.io", *args]
    return subprocess.run(argv, capture_output=True, text=True, timeout=30, check=True).stdout.split()


def running_containers(namespace: str) -> set[str]:
    """containerd's running tasks (pod sandboxes and containers) of the pods of a namespace."""
    ours = set(_ctr("containers", "ls", "-q", f'labels."io.kubernetes.pod.namespace"=={namespace}'))
    lines = _ctr("tasks", "ls")[3:]  # TASK PID STATUS header, then three columns per task
    tasks = zip(lines[0::3], lines[2::3], strict=True)
    return {task for task, status in tasks if task in ours and status == "RUNNING"}
