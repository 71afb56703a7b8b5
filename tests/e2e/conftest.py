"""Fixtures of the end-to-end tier: a real-node cluster (kubelet, containerd, Traefik) of its own.

The session starts `cluster.py up --node real` with OCTO_CLUSTER_DIR set to its own state directory
(OCTO_E2E_CLUSTER_DIR, default ~/.cache/octo-platform/e2e-cluster), imports the local runtime images into
the node's containerd, and stops the cluster at the end if this session started it. Every test gets a fresh
namespace and reaches its pods through Traefik with a Host header.
"""

from __future__ import annotations

import json
import secrets
import time

import pytest
from cluster import real_node
from e2e_support import STATE_DIR, cluster_cli
from images import postgres_image, runtime_images
from images.image_builder import import_image
from kubernetes import client, config
from kubernetes.client.rest import ApiException

SERVICE_ACCOUNT_TIMEOUT_SECONDS = 30


@pytest.fixture(scope="session")
def real_cluster():
    """The kubeconfig of the real-node cluster, with the runtime images imported; env points tools at it."""
    started_here = cluster_cli("status").returncode != 0
    up = cluster_cli("up", "--node", "real")
    if up.returncode != 0:
        pytest.fail(f"Failed to start the real-node cluster:\n{up.stdout}{up.stderr}", pytrace=False)
    kubeconfig = up.stdout.strip().splitlines()[-1]
    runtime_images.import_images(real_node.Layout(STATE_DIR).socket)
    import_image(postgres_image.build(), real_node.Layout(STATE_DIR).socket)  # the platform's Postgres
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
