"""Fixtures of the Kubernetes integration tests: a cluster (local or given), an API client, a namespace.

OCTO_TEST_KUBECONFIG points the tests at an existing cluster (kind, k3d, k3s), which is never started
or stopped here. Without it, tests/cluster/cluster.py starts the local control plane (or reuses a
running one) and stops it at the end of the session only if this session started it.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import time
from pathlib import Path

import pytest
from kubernetes import client, config
from kubernetes.client.rest import ApiException

CLUSTER_SCRIPT = Path(__file__).resolve().parents[1] / "cluster" / "cluster.py"
CLUSTER_TIMEOUT_SECONDS = 180
SERVICE_ACCOUNT_TIMEOUT_SECONDS = 30


def _cluster(command: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(CLUSTER_SCRIPT), command],
        capture_output=True,
        text=True,
        timeout=CLUSTER_TIMEOUT_SECONDS,
        check=False,
    )


@pytest.fixture(scope="session")
def kubeconfig():
    """Path of the kubeconfig of the test cluster; also exported as K8S_AUTH_KUBECONFIG."""
    external = os.environ.get("OCTO_TEST_KUBECONFIG")
    started_here = False
    if external:
        path = external
    else:
        started_here = _cluster("status").returncode != 0
        up = _cluster("up")
        if up.returncode != 0:
            pytest.fail(f"Failed to start the local cluster:\n{up.stdout}{up.stderr}", pytrace=False)
        path = up.stdout.strip().splitlines()[-1]
    environment = pytest.MonkeyPatch()
    environment.setenv("K8S_AUTH_KUBECONFIG", path)
    yield path
    environment.undo()
    if started_here:
        _cluster("down")


@pytest.fixture(scope="session")
def kube_client(kubeconfig):
    api_client = config.new_client_from_config(config_file=kubeconfig)
    yield api_client
    api_client.close()


@pytest.fixture
def namespace(kube_client):
    """A fresh namespace `t-<random>` whose default service account is usable; deleted afterwards."""
    core = client.CoreV1Api(kube_client)
    name = f"t-{secrets.token_hex(4)}"
    core.create_namespace({"metadata": {"name": name, "labels": {"octo.dev/test": "true"}}})
    deadline = time.monotonic() + SERVICE_ACCOUNT_TIMEOUT_SECONDS
    while not _service_account_ready(core, name):
        if time.monotonic() > deadline:
            pytest.fail(f"the default service account of namespace {name} did not appear", pytrace=False)
        time.sleep(0.2)
    yield name
    core.delete_namespace(name)


def _service_account_ready(core, namespace: str) -> bool:
    try:
        account = core.read_namespaced_service_account("default", namespace)
    except ApiException as error:
        if error.status == 404:
            return False
        raise
    # Kubernetes < 1.24 mounts the token Secret, which the token controller adds to the account.
    return bool(account.secrets) or _server_minor(core) >= 24


def _server_minor(core) -> int:
    version = client.VersionApi(core.api_client).get_code()
    return int("".join(ch for ch in version.minor if ch.isdigit()) or 0)
