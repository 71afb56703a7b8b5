"""Fixtures for the render/plan tests: request factories and a stand-in for what the API server returns."""

from __future__ import annotations

import copy

import pytest

from ansible_collections.octo.platform.plugins.module_utils.render.integration import (
    IntegrationRequest,
    TlsSettings,
)

NETWORK_DEFINITION = """\
name: Orders API
env:
  - { name: API_KEY, required: true }
  - { name: LOG_LEVEL, default: info }
  - { name: RETRIES, default: 3 }
  - { name: REGION }
  - { name: HTTP_PORT, default: "9090" }
flows:
  - id: orders
    trigger: { http: { path: /orders } }
"""

WORKER_DEFINITION = """\
name: Nightly sync
env:
  - { name: DSN, required: true }
flows:
  - id: sync
    trigger: { cron: "0 3 * * *" }
"""


@pytest.fixture
def network_request():
    """Factory for a request of a network service (HTTP_PORT 9090) with API_KEY bound to a secret."""

    def make(**overrides) -> IntegrationRequest:
        fields = {
            "name": "Orders API",
            "slug": "orders",
            "deployment_id": "d41",
            "definition": NETWORK_DEFINITION,
            "image": "ghcr.io/octo/runtime:0.1.4",
            "bindings": {"API_KEY": {"secret": "ORDERS_API_KEY"}},
        }
        fields.update(overrides)
        return IntegrationRequest(**fields)

    return make


@pytest.fixture
def worker_request():
    def make(**overrides) -> IntegrationRequest:
        fields = {
            "name": "Nightly sync",
            "slug": "nightly-sync",
            "deployment_id": "w7",
            "definition": WORKER_DEFINITION,
            "image": "ghcr.io/octo/runtime:0.1.4",
            "bindings": {"DSN": {"value": "postgres://sync@db/sync"}},
        }
        fields.update(overrides)
        return IntegrationRequest(**fields)

    return make


@pytest.fixture
def exposed_request(network_request):
    def make(mode: str = "http01", **overrides) -> IntegrationRequest:
        fields = {"expose": True, "base_domain": "apps.example.com", "tls": TlsSettings(mode=mode)}
        fields.update(overrides)
        return network_request(**fields)

    return make


PROBE_DEFAULTS = {"timeoutSeconds": 1, "periodSeconds": 10, "successThreshold": 1, "failureThreshold": 3}


def _server_defaults(obj: dict) -> None:
    """Fields a 1.20 API server adds on create (defaults and allocations), per kind."""
    kind, spec = obj["kind"], obj.get("spec")
    if kind == "Deployment":
        spec.update(
            {
                "revisionHistoryLimit": 10,
                "progressDeadlineSeconds": 600,
                "strategy": {
                    "type": "RollingUpdate",
                    "rollingUpdate": {"maxUnavailable": "25%", "maxSurge": "25%"},
                },
            }
        )
        pod = spec["template"]["spec"]
        pod.update(
            {
                "restartPolicy": "Always",
                "terminationGracePeriodSeconds": 30,
                "dnsPolicy": "ClusterFirst",
                "securityContext": {},
                "schedulerName": "default-scheduler",
            }
        )
        for container in pod["containers"]:
            container.setdefault("resources", {})
            container.update(
                {
                    "terminationMessagePath": "/dev/termination-log",
                    "terminationMessagePolicy": "File",
                    "imagePullPolicy": "IfNotPresent",
                }
            )
            for probe in (container.get(kind) for kind in ("readinessProbe", "livenessProbe")):
                if probe is None:
                    continue
                for key, value in PROBE_DEFAULTS.items():
                    probe.setdefault(key, value)
                if "httpGet" in probe:
                    probe["httpGet"].setdefault("scheme", "HTTP")
        for volume in pod["volumes"]:
            volume["configMap"]["defaultMode"] = 420
        obj["metadata"]["annotations"]["deployment.kubernetes.io/revision"] = "1"
        obj["status"] = {"observedGeneration": 1, "replicas": 1, "readyReplicas": 1}
    elif kind == "Service":
        spec.update(
            {
                "clusterIP": "10.0.0.17",
                "clusterIPs": ["10.0.0.17"],
                "sessionAffinity": "None",
                "ipFamilies": ["IPv4"],
                "ipFamilyPolicy": "SingleStack",
            }
        )
        obj["status"] = {"loadBalancer": {}}
    elif kind == "Ingress":
        obj["status"] = {"loadBalancer": {"ingress": [{"ip": "203.0.113.9"}]}}


@pytest.fixture
def server_copy():
    """What reading ``obj`` back from the API server looks like: bookkeeping metadata plus defaults."""

    def make(obj: dict) -> dict:
        served = copy.deepcopy(obj)
        served["metadata"].update(
            {
                "uid": "2d3c1a4e-0000-4000-8000-000000000001",
                "resourceVersion": "4711",
                "generation": 1,
                "creationTimestamp": "2025-01-01T00:00:00Z",
                "managedFields": [{"manager": "octo.platform", "operation": "Apply", "fieldsV1": {}}],
            }
        )
        _server_defaults(served)
        return served

    return make
