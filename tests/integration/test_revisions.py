"""Revisions against the real API server: record, scale without a revision, roll back, promote, prune,
atomic rollback of a failed rollout, drift in check mode, history in integration_info, secrets by reference."""

from __future__ import annotations

import base64
import contextlib
import json
import os
import pathlib
import signal
import subprocess
import sys
import time

import pytest
import yaml
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from k8s_support import TEST_IMAGE, orders_args, orders_params, sample
from support.playbook import REPO_ROOT, ansible_bin, run_tasks

from ansible_collections.octo.platform.plugins.module_utils.common.errors import OctoError
from ansible_collections.octo.platform.plugins.module_utils.kube import resources as res
from ansible_collections.octo.platform.plugins.module_utils.kube import revisions
from ansible_collections.octo.platform.plugins.module_utils.kube.client import Kube
from ansible_collections.octo.platform.plugins.module_utils.kube.integration import converge
from ansible_collections.octo.platform.plugins.module_utils.kube.integration_info import info
from ansible_collections.octo.platform.plugins.module_utils.kube.integrations import converge as converge_bulk
from ansible_collections.octo.platform.plugins.module_utils.render import revisions as rev
from ansible_collections.octo.platform.plugins.modules.integrations import ARGUMENT_SPEC as BULK_SPEC

SENTINEL = "sentinel-rev-5d2b"
IMAGE_2 = "registry.local/octo:2.0"
TASK = "deploy orders"
KILL_WAIT = 60  # seconds for the killed run to reach its rollout


@pytest.fixture
def kube(kubeconfig):
    return Kube({"kubeconfig": kubeconfig})


def history(kube: Kube, namespace: str, deployment_id: str = "orders-1") -> list[rev.Revision]:
    objects = kube.list(res.CONFIG_MAP, namespace, label_selector=rev.history_selector(deployment_id))
    return rev.histories(objects).get(deployment_id, [])


def live_image(kube: Kube, namespace: str, deployment_id: str = "orders-1") -> str:
    deployment = kube.get(res.DEPLOYMENT, f"octo-dep-{deployment_id}", namespace)
    return deployment["spec"]["template"]["spec"]["containers"][0]["image"]


def test_change_records_scale_does_not_rollback_reapplies(kubeconfig, namespace, kube):
    first = converge(orders_params(kubeconfig, namespace, actor="alice"))
    assert first["revision"]["revision"] == 1 and first["revision"]["result"] == "rolled-out"
    again = converge(orders_params(kubeconfig, namespace, actor="alice"))
    assert again["changed"] is False and again["revision"]["revision"] == 1

    scaled = converge(orders_params(kubeconfig, namespace, replicas=2))
    assert scaled["changed"] is True and scaled["revision"]["revision"] == 1
    second = converge(orders_params(kubeconfig, namespace, image=IMAGE_2, replicas=2, env={"API_KEY": "k2"}))
    assert second["revision"]["revision"] == 2

    one, two = history(kube, namespace)
    assert (one.actor, one.result, one.inputs["image"]) == ("alice", "rolled-out", TEST_IMAGE)
    assert (two.result, two.inputs["image"], two.inputs["env"]) == ("rolled-out", IMAGE_2, {"API_KEY": "k2"})
    assert one.content_hash != two.content_hash

    check = converge(orders_params(kubeconfig, namespace, rollback_to="1"), check_mode=True, diff=True)
    assert check["changed"] is True and check["revision"] == {
        "revision": 3,
        "hash": one.content_hash,
        "result": "pending",
        "new": True,
    }
    assert any(TEST_IMAGE in entry["after"] and IMAGE_2 in entry["before"] for entry in check["diff"])
    assert len(history(kube, namespace)) == 2 and live_image(kube, namespace) == IMAGE_2

    back = converge(orders_params(kubeconfig, namespace, rollback_to="1"))
    assert back["revision"]["revision"] == 3 and back["revision"]["hash"] == one.content_hash
    assert back["revision"]["source"] == "rollback to revision 1"
    assert back["rollout"]["desired"] == 2  # the live scale is kept
    assert live_image(kube, namespace) == TEST_IMAGE
    assert [r.number for r in history(kube, namespace)] == [1, 2, 3]

    previous = converge(orders_params(kubeconfig, namespace, rollback_to="previous"))
    assert previous["revision"]["revision"] == 4 and previous["revision"]["hash"] == two.content_hash
    with pytest.raises(OctoError, match="revision 9 not found; recorded: 1, 2, 3, 4"):
        converge(orders_params(kubeconfig, namespace, rollback_to="9"))


def test_history_limit_prunes_the_oldest(kubeconfig, namespace, kube):
    for number in range(1, 5):
        converge(
            orders_params(kubeconfig, namespace, env={"API_KEY": f"k{number}"}, history_limit=3, wait=False)
        )
    assert [r.number for r in history(kube, namespace)] == [2, 3, 4]
    assert kube.get(res.CONFIG_MAP, "octo-rev-orders-1-1", namespace) is None


def test_promote_keeps_the_target_bindings_and_refuses_missing_env(kubeconfig, namespace, kube):
    converge(orders_params(kubeconfig, namespace, deployment_id="orders-staging", image=IMAGE_2))
    converge(orders_params(kubeconfig, namespace, deployment_id="orders-prod", env={"API_KEY": "prod-key"}))

    promoted = converge(
        orders_params(
            kubeconfig,
            namespace,
            deployment_id="orders-prod",
            definition_file=None,
            env={"API_KEY": "prod-key"},
            promote_from={"deployment_id": "orders-staging"},
        )
    )
    assert promoted["revision"]["revision"] == 2
    assert (
        promoted["revision"]["source"] == f"promote of orders-staging revision 1 from namespace {namespace}"
    )
    assert live_image(kube, namespace, "orders-prod") == IMAGE_2
    [_, prod] = history(kube, namespace, "orders-prod")
    assert prod.inputs["env"] == {"API_KEY": "prod-key"}

    with pytest.raises(OctoError) as err:
        converge(
            orders_params(
                kubeconfig,
                namespace,
                deployment_id="orders-prod",
                definition_file=None,
                env={},
                promote_from={"deployment_id": "orders-staging"},
            )
        )
    assert str(err.value).startswith("Failed to promote orders-staging revision 1 to orders-prod:")
    assert "API_KEY" in str(err.value)
    assert len(history(kube, namespace, "orders-prod")) == 2


def test_atomic_returns_to_the_previous_pods_and_reports_both(kubeconfig, namespace, kube):
    converge(orders_params(kubeconfig, namespace))
    bad = "registry.local/octo:1.0-fail-pull"
    with pytest.raises(OctoError) as err:
        converge(orders_params(kubeconfig, namespace, image=bad, atomic=True, wait_timeout=120))
    message, details = str(err.value), err.value.details
    assert "ImagePullBackOff" in message and "rolled back to revision 1 (as revision 3)" in message
    assert details["rollout"]["reason"] == "ImagePullBackOff"
    assert details["rollback"]["failed"] is False and details["rollback"]["to_revision"] == 1
    assert details["rollback"]["rollout"]["state"] == "complete"
    assert live_image(kube, namespace) == TEST_IMAGE
    one, two, three = history(kube, namespace)
    assert (two.result, three.result, three.content_hash) == ("rolled-back", "rolled-out", one.content_hash)
    pods = kube.list(res.POD, namespace, label_selector="octo.dev/deployment=orders-1")
    assert {
        p["spec"]["containers"][0]["image"] for p in pods if not p["metadata"].get("deletionTimestamp")
    } == {TEST_IMAGE}


def test_drift_by_hand_is_reported_in_check_mode(kubeconfig, namespace, kube):
    converge(orders_params(kubeconfig, namespace))
    hand = {
        "spec": {
            "template": {"spec": {"containers": [{"name": "octo", "image": "registry.local/octo:hand"}]}}
        }
    }
    kube.request(
        "PATCH",
        res.DEPLOYMENT.path(namespace, "octo-dep-orders-1"),
        query={"fieldManager": "kubectl-edit"},
        body=hand,
        content_type="application/strategic-merge-patch+json",
    )
    kube.delete(res.SERVICE, "octo-dep-orders-1", namespace)
    writes = kube.writes
    check = converge(orders_params(kubeconfig, namespace), check_mode=True, kube=kube)
    assert kube.writes == writes
    drift = {(d["kind"], d["name"]): d["fields"] for d in check["drift"]}
    assert drift == {
        ("Deployment", "octo-dep-orders-1"): ["spec.template.spec.containers[0].image"],
        ("Service", "octo-dep-orders-1"): ["(deleted)"],
    }
    assert check["revision"]["revision"] == 1 and "new" not in check["revision"]


def test_secret_values_never_reach_a_revision(kubeconfig, namespace, kube):
    kube.create(
        res.SECRET,
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": "octo-secrets", "namespace": namespace},
            "data": {"ORDERS_API_KEY": base64.b64encode(SENTINEL.encode()).decode()},
        },
    )
    result = converge(orders_params(kubeconfig, namespace, env={"API_KEY": {"secret": "ORDERS_API_KEY"}}))
    [revision] = history(kube, namespace)
    assert revision.inputs["env"] == {"API_KEY": {"secret": "ORDERS_API_KEY"}}
    stored = kube.get(res.CONFIG_MAP, revision.name, namespace)
    assert SENTINEL not in json.dumps(stored) and SENTINEL not in json.dumps(result)
    encoded = base64.b64encode(SENTINEL.encode()).decode()
    assert encoded not in json.dumps(stored)


def test_info_returns_the_history(kubeconfig, namespace, kube):
    converge(orders_params(kubeconfig, namespace))
    converge(orders_params(kubeconfig, namespace, image=IMAGE_2))
    [entry] = info(
        {"namespace": namespace, "slug": None, "deployment_id": "orders-1", "events": False}, kube=kube
    )["deployments"]
    assert [h["revision"] for h in entry["history"]] == [1, 2]
    assert [h["image"] for h in entry["history"]] == [TEST_IMAGE, IMAGE_2]
    assert entry["revision"]["revision"] == 2 and entry["revision"]["result"] == "rolled-out"


def bulk(
    kubeconfig: str, namespace: str, items: list[dict], kube: Kube | None = None, wait: bool = True
) -> dict:
    params = {
        "kubeconfig": kubeconfig,
        "namespace": namespace,
        "image": TEST_IMAGE,
        "wait_sleep": 1,
        "wait": wait,
    }
    validated = ArgumentSpecValidator(BULK_SPEC).validate({**params, "integrations": items})
    assert not validated.error_messages, validated.error_messages
    return converge_bulk(validated.validated_parameters, kube=kube)


def test_bulk_items_record_and_roll_back_per_item_with_constant_reads(kubeconfig, namespace):
    item = {"slug": "http-orders", "definition": sample("http-orders"), "env": {"API_KEY": "a"}}
    items = [{**item, "deployment_id": "o-1"}, {**item, "deployment_id": "o-2"}]
    bulk(kubeconfig, namespace, items)
    items[1]["env"] = {"API_KEY": "b"}
    changed = bulk(kubeconfig, namespace, items)
    assert [r["revision"]["revision"] for r in changed["integrations"]] == [1, 2]

    reads = {}
    for size in (1, 2):
        counting = Kube({"kubeconfig": kubeconfig})
        noop = bulk(kubeconfig, namespace, items[:size], kube=counting)
        assert noop["changed"] is False and set(counting.requests) == {"GET"}
        reads[size] = counting.requests["GET"]
    assert reads[1] == reads[2], reads  # one LIST of revisions per namespace, not one per item

    back = bulk(
        kubeconfig, namespace, [{"slug": "http-orders", "deployment_id": "o-2", "rollback_to": "previous"}]
    )
    [result] = back["integrations"]
    assert result["revision"]["revision"] == 3 and result["revision"]["source"] == "rollback to revision 1"


def rolled_out(kube: Kube, namespace: str, deployment_ids: list[str]) -> bool:
    for deployment_id in deployment_ids:
        status = kube.get(res.DEPLOYMENT, f"octo-dep-{deployment_id}", namespace).get("status") or {}
        if status.get("availableReplicas") != 1 or status.get("updatedReplicas") != 1:
            return False
    return True


def test_runs_without_wait_write_nothing_again_and_a_waiting_run_records_the_result(
    kubeconfig, namespace, kube
):
    item = {"slug": "http-orders", "definition": sample("http-orders"), "env": {"API_KEY": "a"}}
    items = [{**item, "deployment_id": "o-1"}, {**item, "deployment_id": "o-2"}]
    first = bulk(kubeconfig, namespace, items, wait=False)
    assert [r["revision"]["result"] for r in first["integrations"]] == ["pending", "pending"]
    deadline = time.monotonic() + 120
    while not rolled_out(kube, namespace, ["o-1", "o-2"]):
        assert time.monotonic() < deadline, "the rollouts never completed"
        time.sleep(0.5)

    counting = Kube({"kubeconfig": kubeconfig})
    noop = bulk(kubeconfig, namespace, items, kube=counting, wait=False)
    assert noop["changed"] is False and set(counting.requests) == {"GET"}, counting.requests
    assert [r.result for r in history(kube, namespace, "o-1")] == ["pending"]

    waited = bulk(kubeconfig, namespace, items)
    assert waited["changed"] is False
    assert [r["revision"]["result"] for r in waited["integrations"]] == ["rolled-out", "rolled-out"]
    assert [r.result for r in history(kube, namespace, "o-2")] == ["rolled-out"]
    counting = Kube({"kubeconfig": kubeconfig})
    assert bulk(kubeconfig, namespace, items, kube=counting)["changed"] is False
    assert set(counting.requests) == {"GET"}, counting.requests


def test_a_result_recorded_meanwhile_is_never_overwritten(kubeconfig, namespace, kube):
    first = converge(orders_params(kubeconfig, namespace, wait=False))
    assert first["revision"]["result"] == "pending"
    [stored] = history(kube, namespace)
    revisions.set_result(kube, namespace, stored, rev.INTERRUPTED)  # another run superseded it meanwhile

    late = {**first, "revision": dict(first["revision"]), "rollout": {"state": "complete"}}
    revisions.settle_reported(kube, late)

    assert late["revision"]["result"] == "interrupted"
    assert [r.result for r in history(kube, namespace)] == ["interrupted"]
    fresh = {**first, "revision": dict(first["revision"]), "rollout": {"state": "failed"}}
    revisions.set_result(kube, namespace, stored, rev.PENDING)
    revisions.settle_reported(kube, fresh)
    assert fresh["revision"]["result"] == "failed"
    [settled] = history(kube, namespace)
    assert settled.result == "failed"
    labels = kube.get(res.CONFIG_MAP, settled.name, namespace)["metadata"]["labels"]
    assert labels[rev.LABEL_RESULT] == "failed"


def test_superseded_before_anyone_waited_is_interrupted(kubeconfig, namespace, kube):
    converge(orders_params(kubeconfig, namespace, wait=False))
    converge(orders_params(kubeconfig, namespace, image=IMAGE_2, wait=False))
    assert [r.result for r in history(kube, namespace)] == ["interrupted", "pending"]


def descendants(pid: int) -> list[int]:
    """Every process below ``pid`` (read from /proc, children first found first)."""
    parents = {}
    for entry in pathlib.Path("/proc").iterdir():
        with contextlib.suppress(OSError, ValueError, IndexError):
            if entry.name.isdigit():
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                parents[int(entry.name)] = int(fields[1])
    found, frontier = [], [pid]
    while frontier:
        children = [child for child, parent in parents.items() if parent in frontier]
        found.extend(children)
        frontier = children
    return found


def test_a_run_killed_mid_rollout_leaves_no_lock(kubeconfig, namespace, kube, tmp_path):
    converge(orders_params(kubeconfig, namespace))
    never_ready = "registry.local/octo:1.0-never-ready"
    task = {
        "name": TASK,
        "octo.platform.integration": orders_args(namespace, image=never_ready, wait_timeout=120),
    }
    playbook = tmp_path / "playbook.yml"
    playbook.write_text(yaml.safe_dump([{"hosts": "localhost", "gather_facts": False, "tasks": [task]}]))
    command = [ansible_bin("ansible-playbook"), "-i", "localhost,", "-c", "local", str(playbook)]
    command += ["-e", f"ansible_python_interpreter={sys.executable}"]
    environment = {**os.environ, "ANSIBLE_CONFIG": str(REPO_ROOT / "ansible.cfg")}
    run = subprocess.Popen(command, cwd=REPO_ROOT, env=environment, start_new_session=True)
    try:
        deadline = time.monotonic() + KILL_WAIT
        while not (len(history(kube, namespace)) == 2 and live_image(kube, namespace) == never_ready):
            assert run.poll() is None and time.monotonic() < deadline, "the rollout never started"
            time.sleep(0.2)
        time.sleep(1)  # the controller is following the rollout now
    finally:
        tree = [run.pid, *descendants(run.pid)]  # Ansible's workers may leave the process group
        for pid in tree:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        run.wait(timeout=30)
    assert run.returncode == -signal.SIGKILL
    assert [r.result for r in history(kube, namespace)] == ["rolled-out", "pending"]

    again = run_tasks([{"name": TASK, "octo.platform.integration": orders_args(namespace)}])
    assert again.rc == 0, again.output
    result = again.task(TASK)["result"]
    assert result["changed"] is True and result["rollout"]["state"] == "complete"
    assert (result["revision"]["revision"], result["revision"]["result"]) == (3, "rolled-out")
    assert [r.result for r in history(kube, namespace)] == ["rolled-out", "interrupted", "rolled-out"]
    steady = run_tasks([{"name": TASK, "octo.platform.integration": orders_args(namespace)}])
    assert steady.rc == 0 and steady.task(TASK)["result"]["changed"] is False
