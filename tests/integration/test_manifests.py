"""The manifests module against the real API server: apply, idempotence, prune, check/diff, validation, waits."""

from __future__ import annotations

import base64
import re
import secrets as pysecrets
import time

import pytest
from k8s_support import TEST_IMAGE, module_params
from support.playbook import run_tasks

from ansible_collections.octo.platform.plugins.module_utils.common.errors import OctoError, ValidationError
from ansible_collections.octo.platform.plugins.module_utils.kube import resources as res
from ansible_collections.octo.platform.plugins.module_utils.kube.client import Kube
from ansible_collections.octo.platform.plugins.module_utils.kube.manifests import converge
from ansible_collections.octo.platform.plugins.module_utils.render.kinds import (
    CERTIFICATE,
    CERTIFICATE_REQUEST,
    CHALLENGE,
    ORDER,
)
from ansible_collections.octo.platform.plugins.modules.manifests import ARGUMENT_SPEC


@pytest.fixture
def kube(kubeconfig):
    return Kube({"kubeconfig": kubeconfig})


def params(kubeconfig, namespace, definitions, **extra):
    extra.setdefault("owner", "t")
    return module_params(
        ARGUMENT_SPEC, kubeconfig=kubeconfig, namespace=namespace, definitions=definitions, **extra
    )


def config_map(name, **data):
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}, "data": data}


def secret(name, **string_data):
    return {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": name}, "stringData": string_data}


def certificate(name, namespace, dns_names):
    return {
        "apiVersion": "cert-manager.io/v1",
        "kind": "Certificate",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {
            "secretName": f"{name}-tls",
            "dnsNames": dns_names,
            "issuerRef": {"name": "x", "kind": "ClusterIssuer"},
        },
    }


def actions(result):
    return {(o["kind"], o["name"]): o["action"] for o in result["objects"]}


def test_apply_is_idempotent_and_labels_objects(kubeconfig, namespace, kube):
    objs = [config_map("a", K="1"), secret("s", TOKEN="v1"), certificate("c", namespace, ["a.example.com"])]
    first = converge(params(kubeconfig, namespace, objs))
    assert first["changed"] is True
    assert set(actions(first).values()) == {"created"}
    stored = kube.get(res.CONFIG_MAP, "a", namespace)
    assert stored["metadata"]["labels"]["octo.platform/owner"] == "t"
    assert stored["metadata"]["labels"]["app.kubernetes.io/managed-by"] == "octo.platform"
    assert base64.b64decode(kube.get(res.SECRET, "s", namespace)["data"]["TOKEN"]) == b"v1"
    writes = kube.writes
    second = converge(params(kubeconfig, namespace, objs), kube=kube)
    assert second["changed"] is False and set(actions(second).values()) == {"unchanged"}
    assert kube.writes == writes  # nothing written at all
    check = converge(params(kubeconfig, namespace, objs), check_mode=True, kube=kube)
    assert check["changed"] is False


def test_sorted_results_independent_of_input_order(kubeconfig, namespace):
    objs = [config_map("b"), config_map("a"), secret("z", K="v")]
    one = converge(params(kubeconfig, namespace, objs), check_mode=True)
    two = converge(params(kubeconfig, namespace, list(reversed(objs))), check_mode=True)
    assert one["objects"] == two["objects"]
    assert [(o["kind"], o["name"]) for o in one["objects"]] == [
        ("ConfigMap", "a"),
        ("ConfigMap", "b"),
        ("Secret", "z"),
    ]


def test_update_prune_and_check_mode_predicts(kubeconfig, namespace, kube):
    converge(params(kubeconfig, namespace, [config_map("a", K="1"), config_map("b"), secret("s", T="1")]))
    after = [config_map("a", K="2"), secret("s", T="2")]
    predicted = converge(params(kubeconfig, namespace, after), check_mode=True, diff=True)
    assert actions(predicted) == {
        ("ConfigMap", "a"): "updated",
        ("ConfigMap", "b"): "deleted",
        ("Secret", "s"): "updated",
    }
    assert kube.get(res.CONFIG_MAP, "b", namespace) is not None  # check mode wrote nothing
    assert kube.get(res.CONFIG_MAP, "a", namespace)["data"] == {"K": "1"}
    real = converge(params(kubeconfig, namespace, after), diff=True)
    assert real["objects"] == predicted["objects"]
    assert kube.get(res.CONFIG_MAP, "b", namespace) is None
    assert kube.get(res.CONFIG_MAP, "a", namespace)["data"] == {"K": "2"}
    diffs = {d["after_header"]: d for d in real["diff"]}
    assert "K: '2'" in diffs[f"ConfigMap {namespace}/a"]["after"]
    secret_diff = diffs[f"Secret {namespace}/s"]
    assert "(hidden)" in secret_diff["after"] and "(hidden)" in secret_diff["before"]
    assert base64.b64encode(b"2").decode() not in str(real)


def test_prune_off_keeps_and_prune_kinds_reach_absent_kinds(kubeconfig, namespace, kube):
    converge(params(kubeconfig, namespace, [config_map("a"), secret("s", K="v")]))
    kept = converge(params(kubeconfig, namespace, [secret("s", K="v")], prune=False))
    assert kept["changed"] is False and kube.get(res.CONFIG_MAP, "a", namespace) is not None
    no_kind = converge(params(kubeconfig, namespace, [secret("s", K="v")]))
    assert kube.get(res.CONFIG_MAP, "a", namespace) is not None and not no_kind["changed"]
    pruned = converge(params(kubeconfig, namespace, [secret("s", K="v")], prune_kinds=["v1/ConfigMap"]))
    assert actions(pruned)[("ConfigMap", "a")] == "deleted"
    assert kube.get(res.CONFIG_MAP, "a", namespace) is None


def test_prune_leaves_other_owners_and_foreign_objects(kubeconfig, namespace, kube):
    converge(params(kubeconfig, namespace, [config_map("theirs")], owner="other"))
    labels = {"octo.platform/owner": "t", "app.kubernetes.io/managed-by": "octo.platform"}
    hand = {**config_map("hand"), "metadata": {"name": "hand", "labels": labels}}
    kube.request("POST", res.CONFIG_MAP.path(namespace), query={"fieldManager": "kubectl"}, body=hand)
    converge(params(kubeconfig, namespace, [config_map("mine")]))
    assert kube.get(res.CONFIG_MAP, "theirs", namespace) is not None
    assert kube.get(res.CONFIG_MAP, "hand", namespace) is not None  # labels copied by hand prove nothing


def test_state_absent_deletes_the_owners_objects(kubeconfig, namespace, kube):
    objs = [config_map("a"), config_map("b")]
    converge(params(kubeconfig, namespace, objs))
    gone = converge(params(kubeconfig, namespace, [config_map("a")], state="absent"))
    assert set(actions(gone).values()) == {"deleted"} and len(gone["objects"]) == 2
    assert kube.get(res.CONFIG_MAP, "b", namespace) is None
    again = converge(params(kubeconfig, namespace, [config_map("a")], state="absent"))
    assert again == {"changed": False, "objects": []}


def test_yaml_text_definitions_and_cluster_scoped_objects(kubeconfig, namespace, kube):
    name = f"t-ns-{pysecrets.token_hex(3)}"
    text = (
        f"apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {name}\n---\n"
        + "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n  namespace: "
        + name
        + "\n"
    )
    try:
        result = converge(params(kubeconfig, namespace, text, prune=False))
        assert actions(result) == {("Namespace", name): "created", ("ConfigMap", "c"): "created"}
        assert kube.get(res.NAMESPACE, name)["metadata"]["labels"]["octo.platform/owner"] == "t"
        assert converge(params(kubeconfig, namespace, text, prune=False))["changed"] is False
    finally:
        kube.delete(res.NAMESPACE, name)


@pytest.mark.parametrize(
    ("definitions", "message"),
    [
        ([{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {}}], "has no metadata.name"),
        ([config_map("a"), config_map("a")], "ConfigMap {ns}/a is defined more than once"),
        (
            [{"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}}],
            "Failed to apply Widget {ns}/w: the server has no such kind",
        ),
        ("a: [", "is not valid YAML"),
    ],
)
def test_bad_input_fails_before_any_write(kubeconfig, namespace, kube, definitions, message):
    objs = [config_map("first"), *definitions] if isinstance(definitions, list) else definitions
    with pytest.raises(OctoError, match=re.escape(message.format(ns=namespace))):
        converge(params(kubeconfig, namespace, objs))
    assert kube.get(res.CONFIG_MAP, "first", namespace) is None


def test_schema_violation_fails_on_dry_run_before_any_write(kubeconfig, namespace, kube):
    bad = certificate("c", namespace, ["a.example.com"])
    del bad["spec"]["secretName"]  # required by the CRD's schema
    with pytest.raises(OctoError, match=f"Failed to apply Certificate {namespace}/c: 422 .*secretName"):
        converge(params(kubeconfig, namespace, [config_map("first"), bad]))
    assert kube.get(res.CONFIG_MAP, "first", namespace) is None
    with pytest.raises(OctoError, match=r"422 .*secretName"):
        converge(params(kubeconfig, namespace, [bad]), check_mode=True)


def test_wait_for_condition_and_certificate_diagnosis(kubeconfig, namespace, kube):
    cert = certificate("wild", namespace, ["*.example.com", "example.com"])
    converge(params(kubeconfig, namespace, [cert]))
    stored = kube.get(CERTIFICATE, "wild", namespace)
    stored["status"] = {
        "conditions": [
            {
                "type": "Ready",
                "status": "False",
                "reason": "DoesNotExist",
                "message": "Issuing certificate as Secret does not exist",
                "lastTransitionTime": "2026-01-01T00:00:00Z",
            }
        ]
    }
    kube.request("PUT", CERTIFICATE.path(namespace, "wild") + "/status", body=stored)
    wait = [{"kind": "Certificate", "name": "wild"}]
    started = time.monotonic()
    with pytest.raises(OctoError) as failure:
        converge(params(kubeconfig, namespace, [cert], wait_for=wait, wait_timeout=2, wait_sleep=1))
    assert time.monotonic() - started < 10
    assert "Failed to wait for Certificate" in str(failure.value)
    assert (
        f"Certificate {namespace}/wild not ready: DoesNotExist: Issuing certificate as Secret does not exist"
        in str(failure.value)
    )
    assert failure.value.details["changed"] is False
    stored = kube.get(CERTIFICATE, "wild", namespace)
    stored["status"] = {
        "conditions": [
            {
                "type": "Ready",
                "status": "True",
                "reason": "Ready",
                "message": "ok",
                "lastTransitionTime": "2026-01-01T00:00:00Z",
            }
        ]
    }
    kube.request("PUT", CERTIFICATE.path(namespace, "wild") + "/status", body=stored)
    done = converge(params(kubeconfig, namespace, [cert], wait_for=wait, wait_timeout=5, wait_sleep=1))
    assert done["changed"] is False


def test_playbook_hides_secret_values_at_vvv(kubeconfig, namespace):
    value = pysecrets.token_hex(16)
    task = {
        "name": "apply",
        "octo.platform.manifests": {
            "owner": "t",
            "namespace": namespace,
            "definitions": [secret("s", KEY=value)],
        },
    }
    run = run_tasks([task], diff=True, verbosity=3, env={"K8S_AUTH_KUBECONFIG": kubeconfig})
    assert run.rc == 0, run.output
    assert run.task("apply")["status"] == "changed"
    assert value not in run.output and base64.b64encode(value.encode()).decode() not in run.output
    assert "(hidden)" in run.output
    again = run_tasks([task], verbosity=3, env={"K8S_AUTH_KUBECONFIG": kubeconfig})
    assert again.task("apply")["status"] == "ok"
    assert value not in again.output


def test_validation_error_type(kubeconfig, namespace):
    with pytest.raises(ValidationError, match="owner"):
        converge(params(kubeconfig, namespace, [config_map("a")], owner="Bad_Owner"))


def test_missing_namespace_is_created_without_labels(kubeconfig, namespace, kube):
    name = f"t-ns-{pysecrets.token_hex(3)}"
    objs = [{**config_map("c"), "metadata": {"name": "c", "namespace": name}}]
    try:
        predicted = converge(params(kubeconfig, namespace, objs), check_mode=True)
        assert predicted["namespaces_created"] == [name] and predicted["changed"] is True
        assert kube.get(res.NAMESPACE, name) is None
        created = converge(params(kubeconfig, namespace, objs))
        assert created["namespaces_created"] == [name]
        assert "octo.platform/owner" not in (kube.get(res.NAMESPACE, name)["metadata"].get("labels") or {})
        again = converge(params(kubeconfig, namespace, objs))
        assert again["changed"] is False and "namespaces_created" not in again
    finally:
        kube.delete(res.NAMESPACE, name)


def put_status(kube, resource, namespace, obj, status):
    obj = {**obj, "status": status}
    return kube.request("PUT", resource.path(namespace, obj["metadata"]["name"]) + "/status", body=obj)


def owned_by(obj):
    meta = obj["metadata"]
    return [{"apiVersion": obj["apiVersion"], "kind": obj["kind"], "name": meta["name"], "uid": meta["uid"]}]


def test_certificate_wait_explains_a_failing_http01_self_check(kubeconfig, namespace, kube):
    host = "app.example.com"
    converge(params(kubeconfig, namespace, [certificate("app", namespace, [host])]))
    cert = kube.get(CERTIFICATE, "app", namespace)
    ready = {
        "type": "Ready",
        "status": "False",
        "reason": "DoesNotExist",
        "message": "Issuing certificate as Secret does not exist",
        "lastTransitionTime": "2026-01-01T00:00:00Z",
    }
    put_status(kube, CERTIFICATE, namespace, cert, {"conditions": [ready]})
    csr = base64.b64encode(b"csr").decode()
    request = kube.create(
        CERTIFICATE_REQUEST,
        {
            **CERTIFICATE_REQUEST.header,
            "metadata": {"name": "app-1", "namespace": namespace, "ownerReferences": owned_by(cert)},
            "spec": {"request": csr, "issuerRef": {"name": "letsencrypt-prod"}},
        },
    )
    order = kube.create(
        ORDER,
        {
            **ORDER.header,
            "metadata": {"name": "app-1-1", "namespace": namespace, "ownerReferences": owned_by(request)},
            "spec": {"request": csr, "issuerRef": {"name": "letsencrypt-prod"}, "dnsNames": [host]},
        },
    )
    put_status(kube, ORDER, namespace, order, {"state": "pending"})
    challenge = kube.create(
        CHALLENGE,
        {
            **CHALLENGE.header,
            "metadata": {"name": "app-1-1-1", "namespace": namespace, "ownerReferences": owned_by(order)},
            "spec": {
                "authorizationURL": "https://acme.example/a",
                "dnsName": host,
                "type": "HTTP-01",
                "token": "t",
                "key": "k",
                "url": "https://acme.example/c",
                "issuerRef": {"name": "letsencrypt-prod"},
                "solver": {"http01": {"ingress": {"ingressClassName": "traefik"}}},
            },
        },
    )
    reason = "Waiting for HTTP-01 challenge propagation: wrong status code '404', expected '200'"
    put_status(
        kube,
        CHALLENGE,
        namespace,
        challenge,
        {"presented": True, "processing": True, "state": "pending", "reason": reason},
    )
    wait = [{"kind": "Certificate", "name": "app"}]
    with pytest.raises(OctoError) as failure:
        converge(
            params(
                kubeconfig,
                namespace,
                [certificate("app", namespace, [host])],
                wait_for=wait,
                wait_timeout=1,
                wait_sleep=1,
            )
        )
    assert failure.value.details["diagnosis"][-1] == f"HTTP-01 self check failed for {host}: 404"
    assert (
        "CertificateRequest app-1 not approved yet (is the approver running?)"
        in failure.value.details["diagnosis"]
    )
    assert f"HTTP-01 self check failed for {host}: 404" in str(failure.value)


def deployment(name: str, image: str) -> dict:
    labels = {"app": name}
    container = {"name": "app", "image": image}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": labels},
            "template": {"metadata": {"labels": labels}, "spec": {"containers": [container]}},
        },
    }


def test_wait_follows_rollouts_until_ready_or_bounded(kubeconfig, namespace):
    ready = converge(
        params(
            kubeconfig, namespace, [deployment("web", TEST_IMAGE)], wait=True, wait_timeout=60, wait_sleep=1
        )
    )
    assert actions(ready) == {("Deployment", "web"): "created"}
    never = [deployment("web", TEST_IMAGE), deployment("stuck", "registry.local/octo:1.0-never-ready")]
    started = time.monotonic()
    with pytest.raises(OctoError) as failure:
        converge(params(kubeconfig, namespace, never, wait=True, wait_timeout=3, wait_sleep=1))
    assert time.monotonic() - started < 30
    assert str(failure.value).startswith(
        f"Failed to wait for Deployment {namespace}/stuck: not ready after 3s: "
    )
    assert failure.value.details["pending"] == [f"Deployment {namespace}/stuck"]
    assert failure.value.details["changed"] is True
