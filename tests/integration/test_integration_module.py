"""The integration module against the real API server: objects, idempotence, scaling, undeploy, failures."""

from __future__ import annotations

import time

import pytest
from k8s_support import TEST_IMAGE, integration_params, managed_objects, sample

from ansible_collections.octo.platform.plugins.module_utils.common.errors import OctoError, ValidationError
from ansible_collections.octo.platform.plugins.module_utils.kube import resources as res
from ansible_collections.octo.platform.plugins.module_utils.kube.client import Kube
from ansible_collections.octo.platform.plugins.module_utils.kube.integration import converge

ORDERS_ENV = {"API_KEY": "literal-api-key"}


@pytest.fixture
def kube(kubeconfig):
    return Kube({"kubeconfig": kubeconfig})


def orders(kubeconfig, namespace, **overrides):
    params = {
        "slug": "http-orders",
        "deployment_id": "orders-1",
        "definition": sample("http-orders"),
        "env": ORDERS_ENV,
        **overrides,
    }
    return integration_params(kubeconfig, namespace, **params)


def worker(kubeconfig, namespace, **overrides):
    params = {
        "slug": "nightly-report",
        "deployment_id": "report-1",
        "definition": sample("nightly-report"),
        "env": {"REPORT_BUCKET": "reports"},
        **overrides,
    }
    return integration_params(kubeconfig, namespace, **params)


def test_object_table(kubeconfig, namespace, kube):
    params = orders(kubeconfig, namespace, expose=True, base_domain="octo.example.com", replicas=2)
    result = converge(params)

    assert result["changed"] is True
    assert result["rollout"]["state"] == "complete"
    assert result["rollout"]["ready"] == 2
    assert result["internal_url"] == f"http://octo-int-http-orders.{namespace}:8080"
    assert result["public_url"] == "https://http-orders.octo.example.com"
    objects = managed_objects(kube, namespace)
    assert set(objects) == {
        ("ConfigMap", "octo-dep-orders-1"),
        ("Deployment", "octo-dep-orders-1"),
        ("Service", "octo-dep-orders-1"),
        ("Service", "octo-int-http-orders"),
        ("Ingress", "octo-dep-orders-1"),
    }
    for (kind, name), obj in objects.items():
        labels = obj["metadata"]["labels"]
        assert labels["octo.dev/slug"] == "http-orders", (kind, name)
        assert labels["app.kubernetes.io/managed-by"] == "octo.platform"
        if name != "octo-int-http-orders":
            assert labels["octo.dev/deployment"] == "orders-1", (kind, name)

    config_map = objects[("ConfigMap", "octo-dep-orders-1")]
    assert config_map["data"] == {"http-orders.yaml": sample("http-orders")}

    pod_spec = objects[("Deployment", "octo-dep-orders-1")]["spec"]["template"]["spec"]
    container = pod_spec["containers"][0]
    assert container["image"] == TEST_IMAGE
    mount = container["volumeMounts"][0]
    assert mount["mountPath"] == "/etc/octo/integrations" and mount["readOnly"] is True
    volume = next(v for v in pod_spec["volumes"] if v["name"] == mount["name"])
    assert volume["configMap"]["name"] == "octo-dep-orders-1"
    env = {e["name"]: e.get("value") for e in container["env"]}
    assert env["HTTP_PORT"] == "8080" and env["HTTP_HOST"] == "0.0.0.0"
    assert env["API_KEY"] == "literal-api-key"
    assert env["LOG_LEVEL"] == "info"

    for name in ("octo-dep-orders-1", "octo-int-http-orders"):
        svc = objects[("Service", name)]["spec"]
        assert svc["type"] == "ClusterIP" and svc["ports"][0]["port"] == 8080
    assert objects[("Service", "octo-dep-orders-1")]["spec"]["selector"]["octo.dev/deployment"] == "orders-1"
    assert objects[("Service", "octo-int-http-orders")]["spec"]["selector"] == {
        "octo.dev/slug": "http-orders"
    }

    ingress = objects[("Ingress", "octo-dep-orders-1")]
    assert ingress["spec"]["ingressClassName"] == "traefik"
    assert ingress["spec"]["rules"][0]["host"] == "http-orders.octo.example.com"
    assert ingress["spec"]["tls"][0]["secretName"] == "octo-dep-orders-1-tls"
    assert ingress["metadata"]["annotations"]["cert-manager.io/cluster-issuer"] == "letsencrypt-prod"


def test_wildcard_tls_uses_the_shared_secret(kubeconfig, namespace, kube):
    params = orders(kubeconfig, namespace, expose=True, base_domain="octo.example.com", tls_mode="wildcard")
    without_secret = converge(params)
    assert any("octo-wildcard-tls not found" in w for w in without_secret["warnings"])
    tls_secret = {
        "apiVersion": "v1",
        "kind": "Secret",
        "type": "kubernetes.io/tls",
        "metadata": {"name": "octo-wildcard-tls", "namespace": namespace},
        "data": {"tls.crt": "", "tls.key": ""},
    }
    kube.create(res.SECRET, tls_secret)
    assert "warnings" not in converge(params)
    ingress = kube.get(res.INGRESS, "octo-dep-orders-1", namespace)
    assert ingress["spec"]["tls"][0]["secretName"] == "octo-wildcard-tls"
    assert ingress["spec"]["tls"][0]["hosts"] == ["http-orders.octo.example.com"]
    assert "cert-manager.io/cluster-issuer" not in ingress["metadata"].get("annotations", {})


def test_four_runs_check_apply_check_apply(kubeconfig, namespace, kube):
    params = orders(kubeconfig, namespace, expose=True, base_domain="octo.example.com")
    first_check = converge(params, check_mode=True, diff=True)
    assert first_check["changed"] is True
    assert managed_objects(kube, namespace) == {}, "check mode wrote objects"

    applied = converge(params, diff=True)
    assert applied["changed"] is True
    assert applied["objects"] == first_check["objects"], "check mode predicted another change"

    second_check = converge(params, check_mode=True, diff=True)
    assert second_check["changed"] is False
    assert second_check["diff"] == []
    writes_before = kube.requests["PATCH"]
    again = converge(params, kube=kube)
    assert again["changed"] is False
    assert {o["action"] for o in again["objects"]} == {"none"}
    assert kube.requests["PATCH"] == writes_before


def test_diff_shows_readable_before_after(kubeconfig, namespace):
    converge(orders(kubeconfig, namespace))
    result = converge(orders(kubeconfig, namespace, env={**ORDERS_ENV, "LOG_LEVEL": "debug"}), diff=True)
    assert result["changed"] is True
    [entry] = result["diff"]
    assert entry["before_header"].startswith("Deployment")
    assert "value: info" in entry["before"] and "value: debug" in entry["after"]
    assert "managedFields" not in entry["before"] and "resourceVersion" not in entry["before"]


def test_definition_change_rolls_the_pods(kubeconfig, namespace, kube):
    converge(orders(kubeconfig, namespace))
    before = kube.get(res.DEPLOYMENT, "octo-dep-orders-1", namespace)["spec"]["template"]["metadata"]
    changed_definition = sample("http-orders").replace("path: /orders", "path: /v2/orders")
    result = converge(orders(kubeconfig, namespace, definition=changed_definition))
    after = kube.get(res.DEPLOYMENT, "octo-dep-orders-1", namespace)["spec"]["template"]["metadata"]
    assert {o["kind"] for o in result["objects"] if o["action"] == "update"} == {"ConfigMap", "Deployment"}
    assert before["annotations"] != after["annotations"]
    assert result["rollout"]["state"] == "complete"


def test_scaling_is_in_place(kubeconfig, namespace, kube):
    converge(orders(kubeconfig, namespace, replicas=1))
    uid = kube.get(res.DEPLOYMENT, "octo-dep-orders-1", namespace)["metadata"]["uid"]
    result = converge(orders(kubeconfig, namespace, replicas=3))
    updates = [o for o in result["objects"] if o["action"] != "none"]
    assert updates == [{"kind": "Deployment", "name": "octo-dep-orders-1", "action": "update"}]
    deployment = kube.get(res.DEPLOYMENT, "octo-dep-orders-1", namespace)
    assert deployment["metadata"]["uid"] == uid
    assert deployment["spec"]["replicas"] == 3
    assert result["rollout"]["ready"] == 3
    down = converge(orders(kubeconfig, namespace, replicas=0))
    assert down["rollout"]["state"] == "complete" and down["rollout"]["desired"] == 0


def test_undeploy_one_of_two_then_the_last(kubeconfig, namespace, kube):
    converge(orders(kubeconfig, namespace, deployment_id="orders-1"))
    converge(orders(kubeconfig, namespace, deployment_id="orders-2"))
    assert ("Service", "octo-int-http-orders") in managed_objects(kube, namespace)

    absent = integration_params(kubeconfig, namespace, deployment_id="orders-1", state="absent")
    first = converge(absent)
    assert first["changed"] is True
    assert first["remaining_deployments"] == ["orders-2"]
    left = set(managed_objects(kube, namespace))
    assert left == {
        ("ConfigMap", "octo-dep-orders-2"),
        ("Deployment", "octo-dep-orders-2"),
        ("Service", "octo-dep-orders-2"),
        ("Service", "octo-int-http-orders"),
    }
    assert converge(absent)["changed"] is False

    last = converge(integration_params(kubeconfig, namespace, deployment_id="orders-2", state="absent"))
    assert last["changed"] is True
    assert managed_objects(kube, namespace) == {}
    assert kube.list(res.POD, namespace, label_selector="octo.dev/slug=http-orders") == []  # waited for


def test_exposure_on_then_off(kubeconfig, namespace, kube):
    converge(orders(kubeconfig, namespace, expose=True, base_domain="octo.example.com"))
    assert kube.get(res.INGRESS, "octo-dep-orders-1", namespace) is not None
    result = converge(orders(kubeconfig, namespace, expose=False, base_domain="octo.example.com"))
    assert result["public_url"] is None
    assert {"kind": "Ingress", "name": "octo-dep-orders-1", "action": "delete"} in result["objects"]
    assert kube.get(res.INGRESS, "octo-dep-orders-1", namespace) is None


def test_worker_has_no_services(kubeconfig, namespace, kube):
    params = worker(
        kubeconfig,
        namespace,
    )
    result = converge(params)
    assert result["internal_url"] is None
    assert set(managed_objects(kube, namespace)) == {
        ("ConfigMap", "octo-dep-report-1"),
        ("Deployment", "octo-dep-report-1"),
    }


BAD_INPUTS = [
    ({"env": {}}, "API_KEY"),
    ({"env": {**ORDERS_ENV, "API_KEYS": "x"}}, "API_KEYS"),
    ({"env": {**ORDERS_ENV, "HTTP_PORT": "9000"}}, "HTTP_PORT"),
    ({"env": {**ORDERS_ENV, "HTTP_HOST": "127.0.0.1"}}, "HTTP_HOST"),
    ({"expose": True}, "base_domain"),
    ({"slug": "Bad_Slug"}, "slug"),
    ({"deployment_id": "x" * 60}, "deployment_id"),
    ({"replicas": -1}, "replicas"),
    ({"definition": "env:\n  - {name: API_KEY\nflows: []\n"}, "line"),
    ({"expose": True, "base_domain": "octo.example.com", "subdomain": "not_valid"}, "subdomain"),
]


@pytest.mark.parametrize(("overrides", "named"), BAD_INPUTS, ids=[b[1] for b in BAD_INPUTS])
def test_bad_input_fails_before_any_write(kubeconfig, namespace, kube, overrides, named):
    params = orders(kubeconfig, namespace, **overrides)
    with pytest.raises(ValidationError) as err:
        converge(params, kube=kube)
    assert named in str(err.value)
    assert "literal-api-key" not in str(err.value)
    assert kube.writes == 0
    assert managed_objects(kube, namespace) == {}


def test_worker_cannot_be_exposed(kubeconfig, namespace, kube):
    params = worker(
        kubeconfig,
        namespace,
        expose=True,
        base_domain="octo.example.com",
    )
    with pytest.raises(ValidationError, match="HTTP_PORT"):
        converge(params, kube=kube)
    assert kube.writes == 0


def test_missing_secret_key_fails_before_any_write(kubeconfig, namespace, kube):
    params = orders(kubeconfig, namespace, env={"API_KEY": {"secret": "ORDERS_API_KEY"}})
    with pytest.raises(ValidationError, match="ORDERS_API_KEY"):
        converge(params, kube=kube)
    assert kube.writes == 0


@pytest.mark.parametrize(
    ("suffix", "reason"), [("-fail-pull", "ImagePullBackOff"), ("-crash", "CrashLoopBackOff")]
)
def test_failing_rollout_fails_fast_with_the_reason(kubeconfig, namespace, suffix, reason):
    params = orders(kubeconfig, namespace, image=f"registry.local/octo:1.0{suffix}", wait_timeout=240)
    with pytest.raises(OctoError) as err:
        converge(params)
    details = err.value.details
    assert details["rollout"]["reason"] == reason, details["rollout"]
    assert reason in str(err.value)
    assert details["changed"] is True
    assert {o["kind"] for o in details["objects"]} >= {"ConfigMap", "Deployment", "Service"}
    assert any(e["type"] == "Warning" for e in details["events"])


def test_info_lists_deployments_with_urls_and_readiness(kubeconfig, namespace, kube):
    from ansible_collections.octo.platform.plugins.module_utils.kube.integration_info import info

    converge(
        orders(kubeconfig, namespace, deployment_id="orders-1", expose=True, base_domain="octo.example.com")
    )
    converge(orders(kubeconfig, namespace, deployment_id="orders-2", replicas=2))
    converge(
        worker(
            kubeconfig,
            namespace,
        )
    )
    everything = info(
        {"namespace": namespace, "slug": None, "deployment_id": None, "events": False}, kube=kube
    )
    assert [d["deployment_id"] for d in everything["deployments"]] == ["orders-1", "orders-2", "report-1"]

    by_slug = info(
        {"namespace": namespace, "slug": "http-orders", "deployment_id": None, "events": False}, kube=kube
    )
    first, second = by_slug["deployments"]
    assert first["public_url"] == "https://http-orders.octo.example.com" and first["exposed"] is True
    assert second["public_url"] is None and second["exposed"] is False
    assert first["internal_url"] == second["internal_url"] == f"http://octo-int-http-orders.{namespace}:8080"
    assert (second["replicas"], second["ready"], second["image"]) == (2, 2, TEST_IMAGE)
    assert second["rollout"]["state"] == "complete"

    one_args = {"namespace": namespace, "slug": None, "deployment_id": "orders-2", "events": True}
    for _ in range(20):  # the scheduler posts its events asynchronously: bounded wait
        [one] = info(one_args, kube=kube)["deployments"]
        if any(e["reason"] == "Scheduled" for e in one["events"]):
            break
        time.sleep(0.5)
    assert one["internal_url"] == f"http://octo-int-http-orders.{namespace}:8080"
    assert any(
        e["reason"] == "Scheduled" and e["object"].startswith("pod/octo-dep-orders-2-") for e in one["events"]
    )
    [report] = info(
        {"namespace": namespace, "slug": "nightly-report", "deployment_id": None, "events": False}, kube=kube
    )["deployments"]
    assert report["internal_url"] is None and report["public_url"] is None
