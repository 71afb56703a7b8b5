"""The Kubernetes client's failure modes that need no server."""

from __future__ import annotations

import socket

import pytest

from ansible_collections.octo.platform.plugins.module_utils.common.errors import OctoError
from ansible_collections.octo.platform.plugins.module_utils.kube import resources as res
from ansible_collections.octo.platform.plugins.module_utils.kube.client import Kube


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_unreachable_server_is_a_clear_error_without_the_token():
    token = "sentinel-token-that-must-not-leak"
    kube = Kube({"host": f"https://127.0.0.1:{closed_port()}", "api_key": token, "validate_certs": False})
    with pytest.raises(
        OctoError, match=r"^Failed to read ConfigMap list: cannot reach https://127\.0\.0\.1:"
    ) as err:
        kube.list(res.CONFIG_MAP, "octo-dev")
    assert token not in str(err.value)
    assert kube.requests["GET"] == 1


def test_missing_kubeconfig_is_a_clear_error(tmp_path):
    with pytest.raises(OctoError, match=r"^Failed to load the Kubernetes configuration"):
        Kube({"kubeconfig": str(tmp_path / "absent.yaml")})


def test_resource_paths():
    assert res.DEPLOYMENT.path("ns", "a b") == "/apis/apps/v1/namespaces/ns/deployments/a%20b"
    assert res.NAMESPACE.path(None, "octo-dev") == "/api/v1/namespaces/octo-dev"
    assert res.resource_for({"apiVersion": "networking.k8s.io/v1", "kind": "Ingress"}) is res.INGRESS
    with pytest.raises(KeyError):
        res.resource_for({"apiVersion": "extensions/v1beta1", "kind": "Ingress"})
