"""The bulk form: one process converges a set; no-op runs make no writes and constant reads."""

from __future__ import annotations

import pytest
from k8s_support import TEST_IMAGE, integration_params, managed_objects, module_params, sample

from ansible_collections.octo.platform.plugins.module_utils.common.errors import OctoError
from ansible_collections.octo.platform.plugins.module_utils.kube import resources as res
from ansible_collections.octo.platform.plugins.module_utils.kube.client import Kube
from ansible_collections.octo.platform.plugins.module_utils.kube.integration import converge as single
from ansible_collections.octo.platform.plugins.module_utils.kube.integrations import converge
from ansible_collections.octo.platform.plugins.modules.integrations import ARGUMENT_SPEC


def items(count: int, **overrides) -> list[dict]:
    """A mix of exposed HTTP, private HTTP and worker integrations."""
    made = []
    for index in range(count):
        kind = index % 3
        if kind == 0:
            item = {
                "slug": f"orders-{index}",
                "definition": sample("http-orders"),
                "env": {"API_KEY": "k"},
                "expose": True,
            }
        elif kind == 1:
            item = {
                "slug": f"fulfil-{index}",
                "definition": sample("fulfilment"),
                "env": {"WAREHOUSE_DSN": "pg://x"},
            }
        else:
            item = {
                "slug": f"report-{index}",
                "definition": sample("nightly-report"),
                "env": {"REPORT_BUCKET": "b"},
            }
        made.append({**item, "deployment_id": f"dep-{index}", **overrides})
    return made


def bulk(kubeconfig, namespace, integrations, **params):
    return module_params(
        ARGUMENT_SPEC,
        kubeconfig=kubeconfig,
        namespace=namespace,
        image=TEST_IMAGE,
        base_domain="octo.example.com",
        wait_sleep=1,
        integrations=integrations,
        **params,
    )


def test_four_runs_and_constant_reads(kubeconfig, namespace):
    counts = {}
    for size in (4, 12):
        params = bulk(kubeconfig, namespace, items(size))
        check = converge(params, check_mode=True, diff=True)
        applied = converge(params, diff=True)
        assert check["changed"] and applied["changed"]
        assert [r["objects"] for r in check["integrations"]] == [
            r["objects"] for r in applied["integrations"]
        ]
        assert all(r["rollout"]["state"] == "complete" for r in applied["integrations"])
        assert converge(params, check_mode=True)["changed"] is False
        kube = Kube({"kubeconfig": kubeconfig})
        noop = converge(params, kube=kube)
        assert noop["changed"] is False and noop["summary"] == {"total": size, "changed": 0, "failed": 0}
        assert set(kube.requests) == {"GET"}, kube.requests
        counts[size] = kube.requests["GET"]
    assert counts[4] == counts[12], counts


class RecordingKube(Kube):
    """The real client, noting the method and path of every request it sends."""

    def __init__(self, auth: dict):
        super().__init__(auth)
        self.sent: list[tuple[str, str]] = []

    def request(self, method: str, path: str, *args, **kwargs):
        self.sent.append((method, path))
        return super().request(method, path, *args, **kwargs)


def test_deployments_are_written_after_every_object_their_pods_need(kubeconfig, namespace):
    kube = RecordingKube({"kubeconfig": kubeconfig})
    converge(bulk(kubeconfig, namespace, items(6), wait=False), kube=kube)

    writes = [path for method, path in kube.sent if method != "GET"]
    first = next(i for i, path in enumerate(writes) if "/deployments/" in path)
    assert first > 0 and all("/deployments/" in path for path in writes[first:]), writes
    assert len(writes[first:]) == 6
    assert {path.split("/")[-2] for path in writes[:first]} >= {"configmaps", "services", "ingresses"}


def comparable(obj: dict) -> dict:
    """What the form decides about an object: labels, annotations, spec and data; not server allocations."""
    annotations = dict(obj["metadata"].get("annotations") or {})
    for server_side in ("octo.dev/applied-hash", "deployment.kubernetes.io/revision"):
        annotations.pop(server_side, None)  # the hash covers the namespace, which differs here
    spec = {k: v for k, v in (obj.get("spec") or {}).items() if k not in ("clusterIP", "clusterIPs")}
    return {
        "labels": obj["metadata"].get("labels"),
        "annotations": annotations,
        "spec": spec,
        "data": obj.get("data"),
    }


def test_objects_match_the_single_form(kubeconfig, namespace):
    single_namespace = f"{namespace}-single"
    kube = Kube({"kubeconfig": kubeconfig})
    converge(bulk(kubeconfig, namespace, items(3)))
    try:
        for item in items(3):
            single(
                integration_params(
                    kubeconfig,
                    single_namespace,
                    base_domain="octo.example.com",
                    **item,
                )
            )
        bulk_objects, single_objects = (
            managed_objects(kube, namespace),
            managed_objects(kube, single_namespace),
        )
        assert sorted(bulk_objects) == sorted(single_objects)
        assert len(bulk_objects) == 5 + 4 + 2  # exposed HTTP, private HTTP, worker
        for key, obj in bulk_objects.items():
            assert comparable(obj) == comparable(single_objects[key]), key
    finally:
        kube.delete(res.NAMESPACE, single_namespace)


def test_bad_item_fails_before_any_write_naming_it(kubeconfig, namespace):
    batch = items(5)
    batch[3]["env"] = {**batch[3]["env"], "TYPO_VAR": "x"}
    kube = Kube({"kubeconfig": kubeconfig})
    with pytest.raises(OctoError, match=r"integrations\[3\] \(orders-3/dep-3\)") as err:
        converge(bulk(kubeconfig, namespace, batch), kube=kube)
    assert "TYPO_VAR" in str(err.value)
    assert kube.writes == 0 and kube.reads == 0
    assert managed_objects(kube, namespace) == {}


def test_duplicate_ids_fail_before_any_write(kubeconfig, namespace):
    batch = items(2)
    batch[1]["deployment_id"] = batch[0]["deployment_id"]
    kube = Kube({"kubeconfig": kubeconfig})
    with pytest.raises(OctoError, match="appears twice"):
        converge(bulk(kubeconfig, namespace, batch), kube=kube)
    assert kube.writes == 0


def test_one_failing_rollout_does_not_stop_the_others(kubeconfig, namespace):
    batch = items(3)
    batch[1]["image"] = f"{TEST_IMAGE}-crash"
    with pytest.raises(OctoError, match="1 of 3 integrations") as err:
        converge(bulk(kubeconfig, namespace, batch, wait_timeout=240))
    results = err.value.details["integrations"]
    assert [r["failed"] for r in results] == [False, True, False]
    assert results[1]["rollout"]["reason"] == "CrashLoopBackOff"
    assert results[0]["rollout"]["state"] == results[2]["rollout"]["state"] == "complete"
