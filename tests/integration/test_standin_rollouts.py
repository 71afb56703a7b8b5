"""The integration module against the kubelet-like node stand-in: a rollout that never becomes Ready is
detected, and undeploy waits (or not) for pods that terminate through their grace period."""

from __future__ import annotations

import time

import pytest
from k8s_support import SAMPLES, integration_params, orders_params
from support.playbook import run_tasks

from ansible_collections.octo.platform.plugins.module_utils.common.errors import OctoError
from ansible_collections.octo.platform.plugins.module_utils.kube import resources as res
from ansible_collections.octo.platform.plugins.module_utils.kube.client import Kube
from ansible_collections.octo.platform.plugins.module_utils.kube.integration import converge

NEVER_READY_IMAGE = "registry.local/octo:1.0-never-ready"
SHORT_TIMEOUT = 5
GONE_TIMEOUT = 60


@pytest.fixture
def kube(kubeconfig):
    return Kube({"kubeconfig": kubeconfig})


def pods_of_orders(kube, namespace) -> list[dict]:
    return kube.list(res.POD, namespace, label_selector="octo.dev/deployment=orders-1")


def test_never_ready_rollout_times_out_with_the_ready_count(kubeconfig, namespace):
    params = orders_params(
        kubeconfig, namespace, image=NEVER_READY_IMAGE, replicas=2, wait_timeout=SHORT_TIMEOUT
    )

    with pytest.raises(OctoError) as err:
        converge(params)

    rollout = err.value.details["rollout"]
    assert (rollout["state"], rollout["reason"]) == ("failed", "Timeout")
    assert (rollout["desired"], rollout["updated"], rollout["ready"]) == (2, 2, 0)
    assert str(err.value).startswith(f"Failed to roll out Deployment {namespace}/octo-dep-orders-1: Timeout")
    assert "with 0 of 2 pods ready" in str(err.value)
    assert err.value.details["changed"] is True
    assert any("0/2 pods ready" in entry.get("status", "") for entry in err.value.details["timeline"])


def test_never_ready_rollout_fails_the_playbook_task(kubeconfig, namespace):
    task = {
        "name": "deploy orders",
        "octo.platform.integration": {
            "namespace": namespace,
            "slug": "http-orders",
            "deployment_id": "orders-1",
            "definition_file": str(SAMPLES / "http-orders.yaml"),
            "image": NEVER_READY_IMAGE,
            "env": {"API_KEY": "literal-api-key"},
            "wait_timeout": SHORT_TIMEOUT,
            "wait_sleep": 1,
        },
    }

    run = run_tasks([task])

    assert run.rc != 0
    result = run.task("deploy orders")
    assert result["status"] == "failed"
    assert result["result"]["rollout"]["reason"] == "Timeout"
    assert result["result"]["rollout"]["ready"] == 0
    assert "Timeout" in result["result"]["msg"] and "0 of 1" in result["result"]["msg"]
    assert "octo-dep-orders-1: 0/1 pods ready" in run.stdout


def test_undeploy_with_wait_returns_after_the_pods_are_gone(kubeconfig, namespace, kube):
    converge(orders_params(kubeconfig, namespace, replicas=2))
    assert len(pods_of_orders(kube, namespace)) == 2

    result = converge(integration_params(kubeconfig, namespace, deployment_id="orders-1", state="absent"))

    assert result["changed"] is True
    assert pods_of_orders(kube, namespace) == []


def test_undeploy_without_wait_returns_while_pods_terminate(kubeconfig, namespace, kube):
    converge(orders_params(kubeconfig, namespace, replicas=2))
    absent = integration_params(kubeconfig, namespace, deployment_id="orders-1", state="absent", wait=False)

    result = converge(absent)

    assert result["changed"] is True
    assert len(pods_of_orders(kube, namespace)) == 2, "the pods were already gone"
    terminating = set()
    deadline = time.monotonic() + GONE_TIMEOUT
    while pods := pods_of_orders(kube, namespace):
        terminating |= {p["metadata"]["name"] for p in pods if p["metadata"].get("deletionTimestamp")}
        assert time.monotonic() < deadline, f"pods still present after {GONE_TIMEOUT}s"
        time.sleep(0.2)
    assert len(terminating) == 2, "the pods went without a terminating phase"
