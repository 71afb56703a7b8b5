"""Fixtures of the end-to-end tier: a real-node cluster (kubelet, containerd, Traefik) of its own.

The session starts `cluster.py up --node real` with OCTO_CLUSTER_DIR set to its own state directory
(OCTO_E2E_CLUSTER_DIR, default ~/.cache/octo-platform/e2e-cluster), imports the local runtime images into
the node's containerd, and stops the cluster at the end if this session started it. Every test gets a fresh
namespace and reaches its pods through Traefik with a Host header.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from images import runtime_images
from kubernetes import client, config
from kubernetes.client.rest import ApiException

CLUSTER_DIR = Path(__file__).resolve().parents[1] / "cluster"
CLUSTER_SCRIPT = CLUSTER_DIR / "cluster.py"
sys.path.insert(0, str(CLUSTER_DIR))
import real_node

CACHE_DIR = Path(os.environ.get("OCTO_CACHE_DIR", "~/.cache/octo-platform")).expanduser()
STATE_DIR = Path(os.environ.get("OCTO_E2E_CLUSTER_DIR", CACHE_DIR / "e2e-cluster")).expanduser()
CLUSTER_TIMEOUT_SECONDS = 300
SERVICE_ACCOUNT_TIMEOUT_SECONDS = 30
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


@pytest.fixture(scope="session")
def real_cluster():
    """The kubeconfig of the real-node cluster, with the runtime images imported; env points tools at it."""
    started_here = cluster_cli("status").returncode != 0
    up = cluster_cli("up", "--node", "real")
    if up.returncode != 0:
        pytest.fail(f"Failed to start the real-node cluster:\n{up.stdout}{up.stderr}", pytrace=False)
    kubeconfig = up.stdout.strip().splitlines()[-1]
    runtime_images.import_images(real_node.Layout(STATE_DIR).socket)
    environment = pytest.MonkeyPatch()
    environment.setenv("OCTO_CLUSTER_DIR", str(STATE_DIR))
    environment.setenv("K8S_AUTH_KUBECONFIG", kubeconfig)
    yield kubeconfig
    environment.undo()
    if started_here:
        cluster_cli("down")


@pytest.fixture(scope="session")
def core(real_cluster):
    api_client = config.new_client_from_config(config_file=real_cluster)
    yield client.CoreV1Api(api_client)
    api_client.close()


@pytest.fixture(scope="session")
def traefik_port(real_cluster) -> int:
    return json.loads((STATE_DIR / "ports.json").read_text())["traefik_web"]


@pytest.fixture
def namespace(core):
    """A fresh namespace whose default service account has its token (pods need it on 1.20); deleted after."""
    name = f"e2e-{secrets.token_hex(4)}"
    core.create_namespace({"metadata": {"name": name, "labels": {"octo.dev/test": "e2e"}}})
    deadline = time.monotonic() + SERVICE_ACCOUNT_TIMEOUT_SECONDS
    while not _token_ready(core, name):
        if time.monotonic() > deadline:
            pytest.fail(f"the default service account of namespace {name} did not appear", pytrace=False)
        time.sleep(0.2)
    yield name
    core.delete_namespace(name)


def _token_ready(core, namespace: str) -> bool:
    try:
        return bool(core.read_namespaced_service_account("default", namespace).secrets)
    except ApiException as error:
        if error.status == 404:
            return False
        raise


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
