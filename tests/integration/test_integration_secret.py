"""integration_secret against the real API server: write-only values, catalog, rotation, concurrency."""

from __future__ import annotations

import json
import secrets as pysecrets
import string
import threading

import pytest
from k8s_support import integration_params, module_params, sample

from ansible_collections.octo.platform.plugins.module_utils.common.errors import ValidationError
from ansible_collections.octo.platform.plugins.module_utils.kube import integration, secrets
from ansible_collections.octo.platform.plugins.module_utils.kube import resources as res
from ansible_collections.octo.platform.plugins.module_utils.kube.client import Kube
from ansible_collections.octo.platform.plugins.modules.integration_secret import ARGUMENT_SPEC


def sentinel() -> str:
    return "".join(pysecrets.choice(string.ascii_letters + string.digits) for _ in range(40))


@pytest.fixture
def kube(kubeconfig):
    return Kube({"kubeconfig": kubeconfig})


def secret_params(kubeconfig, namespace, **params):
    return module_params(ARGUMENT_SPEC, kubeconfig=kubeconfig, namespace=namespace, **params)


def deploy(kubeconfig, namespace, deployment_id, key):
    params = integration_params(
        kubeconfig,
        namespace,
        slug="http-orders",
        deployment_id=deployment_id,
        definition=sample("http-orders"),
        env={"API_KEY": {"secret": key}},
    )
    return integration.converge(params)


def test_value_never_leaves_the_secret_data(kubeconfig, namespace, kube):
    value = sentinel()
    result = secrets.converge(secret_params(kubeconfig, namespace, values={"API_KEY": value}), diff=True)
    assert result["changed"] is True
    assert result["keys"] == [{"key": "API_KEY", "action": "create"}]
    assert value not in json.dumps(result)

    stored = kube.get(res.SECRET, "octo-secrets", namespace)
    assert stored["data"]["API_KEY"] == secrets.secrets.encode(value)
    assert value not in json.dumps(stored["metadata"])
    assert secrets.secrets.encode(value) not in json.dumps(stored["metadata"])

    catalog = secrets.info(secret_params(kubeconfig, namespace))
    [entry] = catalog["secrets"]
    assert entry["name"] == "API_KEY" and entry["created"] == entry["updated"] and entry["by"]
    assert value not in json.dumps(catalog)


def test_same_value_is_unchanged_and_rotation_updates_the_timestamp(kubeconfig, namespace):
    value = sentinel()
    first = secrets.converge(secret_params(kubeconfig, namespace, values={"API_KEY": value}))
    again = secrets.converge(secret_params(kubeconfig, namespace, values={"API_KEY": value}), diff=True)
    assert first["changed"] is True and again["changed"] is False
    assert again["diff"] == {}
    rotated = secrets.converge(
        secret_params(kubeconfig, namespace, values={"API_KEY": sentinel()}), diff=True
    )
    assert rotated["keys"] == [{"key": "API_KEY", "action": "update"}]
    assert rotated["diff"]["after"] == "API_KEY: (changed value)\n"


def test_check_mode_writes_nothing(kubeconfig, namespace, kube):
    result = secrets.converge(
        secret_params(kubeconfig, namespace, values={"API_KEY": sentinel()}), check_mode=True
    )
    assert result["changed"] is True
    assert kube.get(res.SECRET, "octo-secrets", namespace) is None


def test_invalid_names_fail_with_no_write(kubeconfig, namespace, kube):
    value = sentinel()
    with pytest.raises(ValidationError, match="api-key") as err:
        secrets.converge(
            secret_params(kubeconfig, namespace, values={"api-key": value, "GOOD": value}), kube=kube
        )
    assert value not in str(err.value)
    assert kube.writes == 0
    assert kube.get(res.SECRET, "octo-secrets", namespace) is None


def test_rotation_rolls_exactly_the_bound_deployments(kubeconfig, namespace, kube):
    secrets.converge(secret_params(kubeconfig, namespace, values={"KEY_A": sentinel(), "KEY_B": sentinel()}))
    deploy(kubeconfig, namespace, "uses-a", "KEY_A")
    deploy(kubeconfig, namespace, "uses-b", "KEY_B")
    before = {
        n: kube.get(res.DEPLOYMENT, f"octo-dep-{n}", namespace)["metadata"]["generation"]
        for n in ("uses-a", "uses-b")
    }

    result = secrets.converge(secret_params(kubeconfig, namespace, values={"KEY_A": sentinel()}))
    assert result["rolled"] == ["octo-dep-uses-a"]
    after = {
        n: kube.get(res.DEPLOYMENT, f"octo-dep-{n}", namespace)["metadata"]["generation"]
        for n in ("uses-a", "uses-b")
    }
    assert after["uses-a"] == before["uses-a"] + 1
    assert after["uses-b"] == before["uses-b"]
    # The roll annotation is not ours to own: redeploying the same integration is still a no-op.
    assert deploy(kubeconfig, namespace, "uses-a", "KEY_A")["changed"] is False


def test_removing_a_bound_key_needs_force(kubeconfig, namespace, kube):
    secrets.converge(secret_params(kubeconfig, namespace, values={"KEY_A": sentinel()}))
    deploy(kubeconfig, namespace, "uses-a", "KEY_A")
    with pytest.raises(ValidationError, match="octo-dep-uses-a"):
        secrets.converge(secret_params(kubeconfig, namespace, remove=["KEY_A"]))
    removed = secrets.converge(secret_params(kubeconfig, namespace, remove=["KEY_A"], force=True))
    assert removed["keys"] == [{"key": "KEY_A", "action": "delete"}]
    assert "KEY_A" not in (kube.get(res.SECRET, "octo-secrets", namespace).get("data") or {})


def test_parallel_writers_of_different_keys_keep_both(kubeconfig, namespace, kube):
    keys = [f"KEY_{i}" for i in range(6)]
    errors = []

    def write(key):
        try:
            secrets.converge(secret_params(kubeconfig, namespace, values={key: sentinel()}))
        except Exception as err:  # collected and asserted below
            errors.append(err)

    threads = [threading.Thread(target=write, args=(key,)) for key in keys]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    stored = kube.get(res.SECRET, "octo-secrets", namespace)
    assert sorted(stored["data"]) == keys
    assert sorted(e["name"] for e in secrets.info(secret_params(kubeconfig, namespace))["secrets"]) == keys


def test_binding_to_a_missing_key_fails_before_any_object(kubeconfig, namespace, kube):
    secrets.converge(secret_params(kubeconfig, namespace, values={"OTHER": sentinel()}))
    with pytest.raises(ValidationError, match="API_KEY_MISSING"):
        deploy(kubeconfig, namespace, "orders-1", "API_KEY_MISSING")
    assert (
        kube.list(res.CONFIG_MAP, namespace, label_selector="app.kubernetes.io/managed-by=octo.platform")
        == []
    )


def test_rotation_without_roll_leaves_deployments_alone(kubeconfig, namespace, kube):
    secrets.converge(secret_params(kubeconfig, namespace, values={"KEY_A": sentinel()}))
    deploy(kubeconfig, namespace, "uses-a", "KEY_A")
    generation = kube.get(res.DEPLOYMENT, "octo-dep-uses-a", namespace)["metadata"]["generation"]
    result = secrets.converge(secret_params(kubeconfig, namespace, values={"KEY_A": sentinel()}, roll=False))
    assert result["changed"] is True and result["rolled"] == []
    assert kube.get(res.DEPLOYMENT, "octo-dep-uses-a", namespace)["metadata"]["generation"] == generation
