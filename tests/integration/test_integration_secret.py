"""integration_secret against the real API server: write-only values, catalog, rotation, rolls, concurrency."""

from __future__ import annotations

import json
import secrets as pysecrets
import string
import threading
import time
from datetime import UTC, datetime

import pytest
from k8s_support import (
    integration_params,
    module_params,
    orders_args,
    sample,
)
from support.playbook import run_tasks

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


def generation(kube, namespace, deployment_id):
    return kube.get(res.DEPLOYMENT, f"octo-dep-{deployment_id}", namespace)["metadata"]["generation"]


def next_second():
    """Creation times and catalog times have one-second resolution: start what follows in a later second."""
    start = int(time.time())
    while int(time.time()) == start:
        time.sleep(0.05)


class Killed(Exception):
    pass


class KilledBeforeRoll(Kube):
    """A run that dies after writing octo-secrets and before patching any Deployment."""

    def merge_patch(self, resource, name, namespace, patch, **kwargs):
        if resource == res.DEPLOYMENT:
            raise Killed("killed before the roll")
        return super().merge_patch(resource, name, namespace, patch, **kwargs)


def test_value_never_leaves_the_secret_data(kubeconfig, namespace, kube):
    value = sentinel()
    result = secrets.converge(secret_params(kubeconfig, namespace, values={"API_KEY": value}), diff=True)
    assert result["changed"] is True
    assert result["key_actions"] == [{"key": "API_KEY", "action": "create"}]
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
    assert rotated["key_actions"] == [{"key": "API_KEY", "action": "update"}]
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
    assert removed["key_actions"] == [{"key": "KEY_A", "action": "delete"}]
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


def test_rotation_killed_before_the_roll_is_rolled_by_the_next_run(kubeconfig, namespace, kube):
    secrets.converge(secret_params(kubeconfig, namespace, values={"KEY_A": sentinel()}))
    deploy(kubeconfig, namespace, "uses-a", "KEY_A")
    before = generation(kube, namespace, "uses-a")
    rotated = sentinel()
    with pytest.raises(Killed):
        secrets.converge(
            secret_params(kubeconfig, namespace, values={"KEY_A": rotated}),
            kube=KilledBeforeRoll({"kubeconfig": kubeconfig}),
        )
    stored = kube.get(res.SECRET, "octo-secrets", namespace)
    assert stored["data"]["KEY_A"] == secrets.secrets.encode(rotated)
    assert generation(kube, namespace, "uses-a") == before
    # Created after the write: its pods already read the rotated value, so it must not roll.
    deploy(kubeconfig, namespace, "late", "KEY_A")
    late = generation(kube, namespace, "late")

    again = secrets.converge(secret_params(kubeconfig, namespace, values={"KEY_A": rotated}))
    assert again["key_actions"] == [{"key": "KEY_A", "action": "none"}]
    assert again["changed"] is True and again["rolled"] == ["octo-dep-uses-a"]
    assert generation(kube, namespace, "uses-a") == before + 1
    assert generation(kube, namespace, "late") == late
    settled = secrets.converge(secret_params(kubeconfig, namespace, values={"KEY_A": rotated}))
    assert settled["changed"] is False and settled["rolled"] == []


def test_roll_false_leaves_the_roll_for_a_later_run(kubeconfig, namespace, kube):
    secrets.converge(secret_params(kubeconfig, namespace, values={"KEY_A": sentinel(), "KEY_B": sentinel()}))
    deploy(kubeconfig, namespace, "uses-a", "KEY_A")
    deploy(kubeconfig, namespace, "uses-b", "KEY_B")
    before = generation(kube, namespace, "uses-a")
    value = sentinel()
    skipped = secrets.converge(secret_params(kubeconfig, namespace, values={"KEY_A": value}, roll=False))
    assert skipped["changed"] is True and skipped["rolled"] == []
    assert secrets.converge(secret_params(kubeconfig, namespace, values={"KEY_A": value}, roll=False)) == {
        **skipped,
        "changed": False,
        "key_actions": [{"key": "KEY_A", "action": "none"}],
    }

    params = secret_params(kubeconfig, namespace, values={"KEY_A": value, "KEY_B": sentinel()})
    predicted = secrets.converge(params, check_mode=True, diff=True)
    assert predicted["rolled"] == ["octo-dep-uses-a", "octo-dep-uses-b"]
    assert predicted["diff"]["after"] == (
        "KEY_B: (changed value)\ndeployment octo-dep-uses-a: (rolled)\ndeployment octo-dep-uses-b: (rolled)\n"
    )
    assert value not in json.dumps(predicted)
    assert generation(kube, namespace, "uses-a") == before

    done = secrets.converge(params)
    assert done["rolled"] == predicted["rolled"]
    assert generation(kube, namespace, "uses-a") == before + 1
    assert secrets.converge(params)["changed"] is False


def test_deployment_created_right_after_the_write_is_not_rolled(kubeconfig, namespace, kube):
    value = sentinel()
    secrets.converge(secret_params(kubeconfig, namespace, values={"KEY_A": value}))
    deploy(kubeconfig, namespace, "uses-a", "KEY_A")  # most likely within the second of the write
    again = secrets.converge(secret_params(kubeconfig, namespace, values={"KEY_A": value}))
    assert again["changed"] is False and again["rolled"] == []
    rotated = sentinel()
    secrets.converge(secret_params(kubeconfig, namespace, values={"KEY_A": rotated}, roll=False))
    deploy(kubeconfig, namespace, "new", "KEY_A")
    pending = secrets.converge(
        secret_params(kubeconfig, namespace, values={"KEY_A": rotated}), check_mode=True
    )
    assert pending["rolled"] == ["octo-dep-uses-a"]


def test_two_rotations_in_one_second_roll_twice(kubeconfig, namespace, kube):
    secrets.converge(secret_params(kubeconfig, namespace, values={"KEY_A": sentinel()}))
    deploy(kubeconfig, namespace, "uses-a", "KEY_A")
    before = generation(kube, namespace, "uses-a")
    templates = []
    next_second()  # both rotations most likely fall in one second, where a per-second roll value repeated
    for _ in range(2):
        assert secrets.converge(secret_params(kubeconfig, namespace, values={"KEY_A": sentinel()}))["rolled"]
        template = kube.get(res.DEPLOYMENT, "octo-dep-uses-a", namespace)["spec"]["template"]
        templates.append(template["metadata"]["annotations"])
    assert generation(kube, namespace, "uses-a") == before + 2
    assert templates[0] != templates[1]


def test_old_catalog_entries_without_write_id_still_roll(kubeconfig, namespace, kube):
    secrets.converge(secret_params(kubeconfig, namespace, values={"KEY_A": sentinel()}))
    deploy(kubeconfig, namespace, "uses-a", "KEY_A")
    deploy(kubeconfig, namespace, "rolled", "KEY_A")
    next_second()
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    old_entry = json.dumps({"created": "2026-01-01T00:00:00Z", "updated": now, "by": "ops@old"})
    value = sentinel()
    patch = {
        "data": {"KEY_A": secrets.secrets.encode(value)},
        "metadata": {"annotations": {"catalog.octo.dev/KEY_A": old_entry}},
    }
    kube.merge_patch(res.SECRET, "octo-secrets", namespace, patch)  # as written by 0.1
    rolled_by_0_1 = {"spec": {"template": {"metadata": {"annotations": {secrets.secrets.ROTATED_AT: now}}}}}
    kube.merge_patch(
        res.DEPLOYMENT, "octo-dep-rolled", namespace, rolled_by_0_1, manager=secrets.ROLL_MANAGER
    )
    params = secret_params(kubeconfig, namespace, values={"KEY_A": value})
    assert secrets.converge(params)["rolled"] == ["octo-dep-uses-a"]  # 0.1 died before rolling this one
    assert secrets.converge(params)["changed"] is False


def test_pending_roll_through_ansible_playbook(kubeconfig, namespace, kube):
    first, rotated = sentinel(), sentinel()

    def secret_task(name, variable, **extra):
        values = {"ORDERS_API_KEY": "{{ " + variable + " }}"}
        return {
            "name": name,
            "octo.platform.integration_secret": {"namespace": namespace, "values": values, **extra},
        }

    deploy_task = {
        "name": "deploy",
        "octo.platform.integration": orders_args(namespace, env={"API_KEY": {"secret": "ORDERS_API_KEY"}}),
    }
    setup = [secret_task("set", "first"), deploy_task, secret_task("rotate, no roll", "rotated", roll=False)]
    pending = [secret_task("rotate", "rotated")]
    variables = {"first": first, "rotated": rotated}
    runs = [run_tasks(setup, extra_vars=variables)]
    before = generation(kube, namespace, "orders-1")
    runs += [
        run_tasks(pending, check=check, diff=True, extra_vars=variables) for check in (True, False, False)
    ]
    assert all(run.rc == 0 for run in runs), [run.output for run in runs if run.rc]
    assert runs[0].task("rotate, no roll")["result"]["rolled"] == []
    check, roll, settled = (run.task("rotate") for run in runs[1:])
    assert [check["status"], roll["status"], settled["status"]] == ["changed", "changed", "ok"]
    assert check["result"]["rolled"] == roll["result"]["rolled"] == ["octo-dep-orders-1"]
    assert settled["result"]["rolled"] == []
    assert generation(kube, namespace, "orders-1") == before + 1
    for run in runs:
        assert first not in run.output and rotated not in run.output and rotated not in str(run.results)
