"""Scalar env values, resources, probes and scheduling options against the real API server and ansible-playbook."""

from __future__ import annotations

import time

import pytest
from k8s_support import TEST_IMAGE
from kubernetes import client
from kubernetes.client.rest import ApiException
from support.playbook import run_tasks

from ansible_collections.octo.platform.plugins.module_utils.render.integration import (
    IntegrationRequest,
    render,
)
from ansible_collections.octo.platform.plugins.module_utils.render.quantity import (
    canonical,
    parse,
    resource_value,
)

DEFINITION = """\
name: Options probe
env:
  - { name: LOG_LEVEL }
  - { name: RETRIES }
  - { name: DRY_RUN }
  - { name: RATIO }
  - { name: COUNT }
  - { name: HTTP_PORT, default: "8080" }
flows:
  - id: ping
    trigger: { http: { path: /ping } }
"""

# Inputs in every notation; the server decides what it stores.
QUANTITIES = [
    "1000m", "1", "0.5", ".5", "5.", "+1", "1.5", "1.25", "1.500", "1.001", "0.1", "100e-3", "1000e-3",
    "1m", "1.5m", "0.0001", "0.1n", "1000n", "2000u", "0", "0Mi", "1024Mi", "1.5Gi", "0.25Mi", "0.5Ki",
    "1.5Ki", "1Ki", "1023Ki", "1000Ki", "1536Ki", "3Gi", "7Ei", "1.0000001Ki", "0.000000001Ki", "2048",
    "10000", "1000000", "100M", "129M", "12345.678k", "123456789", "9E", "9223372036854775807", "1e3",
    "1E3", "1e4", "12e6", "1.5e3", "0.5e1", "1e0", "1e-3", "1e-05", "1.5E-1", "1e-64",
]  # fmt: skip
RESOURCE_NAMES = ("cpu", "memory", "ephemeral-storage")
SENTINEL = "sentinel-value-7c1e"


def task(name: str, module: str, **args) -> dict:
    return {"name": name, f"octo.platform.{module}": args}


def deploy(namespace: str, deployment_id: str, **args) -> dict:
    args = {
        "namespace": namespace,
        "slug": "options",
        "deployment_id": deployment_id,
        "definition": DEFINITION,
        "image": TEST_IMAGE,
        "wait_sleep": 1,
        **args,
    }
    return task(f"deploy {deployment_id}", "integration", **args)


def stored_deployment(kube_client, namespace: str, deployment_id: str) -> dict:
    apps = client.AppsV1Api(kube_client)
    deployment = apps.read_namespaced_deployment(f"octo-dep-{deployment_id}", namespace)
    return kube_client.sanitize_for_serialization(deployment)


def container_of(deployment: dict) -> dict:
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    return container


def env_values(deployment: dict) -> dict:
    return {entry["name"]: entry.get("value") for entry in container_of(deployment)["env"]}


# --- item 1: scalar env values -------------------------------------------------------------------------------


def test_scalar_env_values_single_and_bulk(kubeconfig, namespace, kube_client):
    env = {"LOG_LEVEL": 5, "RETRIES": "{{ 2 + 3 }}", "DRY_RUN": True, "RATIO": 1.5, "COUNT": {"value": 7}}
    item = {
        "slug": "options",
        "deployment_id": "bulk-1",
        "definition": DEFINITION,
        "env": {**env, "DRY_RUN": False},
    }
    tasks = [
        deploy(namespace, "single-1", env=env, wait=False),
        task(
            "deploy bulk",
            "integrations",
            namespace=namespace,
            image=TEST_IMAGE,
            integrations=[item],
            wait=False,
        ),
    ]
    runs = [run_tasks(tasks), run_tasks(tasks)]
    assert [run.rc for run in runs] == [0, 0], runs[0].output + runs[1].output
    assert [r["status"] for r in runs[0].results] == ["changed", "changed"]
    assert [r["status"] for r in runs[1].results] == ["ok", "ok"]  # numbers and booleans cause no drift
    expected = {"LOG_LEVEL": "5", "RETRIES": "5", "DRY_RUN": "true", "RATIO": "1.5", "COUNT": "7"}
    assert env_values(stored_deployment(kube_client, namespace, "single-1")) == {
        **expected,
        "HTTP_PORT": "8080",
        "HTTP_HOST": "0.0.0.0",
    }
    bulk = env_values(stored_deployment(kube_client, namespace, "bulk-1"))
    assert bulk["DRY_RUN"] == "false" and bulk["LOG_LEVEL"] == "5" and bulk["RETRIES"] == "5"


def test_bulk_items_take_the_pod_options(kubeconfig, namespace, kube_client):
    options = {
        "resources": {"requests": {"cpu": "1000m", "memory": "1024Mi"}, "limits": {"memory": "1.5Gi"}},
        "probes": {"path": "/healthz", "period_seconds": 7},
        "node_selector": {"kubernetes.io/os": "linux"},
        "tolerations": [{"key": "dedicated", "operator": "Exists", "effect": "NoSchedule"}],
    }
    item = {"slug": "options", "deployment_id": "bulk-3", "definition": DEFINITION, **options}
    tasks = [task("deploy bulk", "integrations", namespace=namespace, image=TEST_IMAGE, integrations=[item])]
    runs = [run_tasks(tasks), run_tasks(tasks)]
    assert [run.rc for run in runs] == [0, 0], [run.output for run in runs if run.rc]
    assert [run.results[0]["status"] for run in runs] == ["changed", "ok"]
    stored = stored_deployment(kube_client, namespace, "bulk-3")
    container = container_of(stored)
    assert container["resources"] == {
        "requests": {"cpu": "1", "memory": "1Gi"},
        "limits": {"memory": "1536Mi"},
    }
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert container["readinessProbe"]["periodSeconds"] == 7
    assert stored["spec"]["template"]["spec"]["nodeSelector"] == {"kubernetes.io/os": "linux"}
    assert stored["spec"]["template"]["spec"]["tolerations"] == options["tolerations"]


def test_list_env_value_fails_naming_the_var_without_echo(kubeconfig, namespace, kube_client):
    env = {"LOG_LEVEL": [SENTINEL]}
    item = {"slug": "options", "deployment_id": "bulk-2", "definition": DEFINITION, "env": env}
    tasks = [
        {**deploy(namespace, "single-2", env=env), "ignore_errors": True},
        {
            **task("deploy bulk", "integrations", namespace=namespace, image=TEST_IMAGE, integrations=[item]),
            "ignore_errors": True,
        },
    ]
    run = run_tasks(tasks, verbosity=2)
    single, bulk = run.task("deploy single-2")["result"], run.task("deploy bulk")["result"]
    assert single["msg"].startswith(
        "Failed to validate integration 'options': env.LOG_LEVEL: must be a string"
    )
    assert "integrations[0] (options/bulk-2)" in bulk["msg"] and "env.LOG_LEVEL" in bulk["msg"]
    assert SENTINEL not in single["msg"] + bulk["msg"]
    assert client.AppsV1Api(kube_client).list_namespaced_deployment(namespace).items == []


# --- item 2: quantities as the server stores them ------------------------------------------------------------


def quantity_deployment(namespace: str, index: int, values: list[str], canonical_form: bool) -> dict:
    requests = dict(zip(RESOURCE_NAMES, values, strict=False))
    request = IntegrationRequest(
        name="quantities",
        slug="quantities",
        deployment_id=f"q{index}-{'c' if canonical_form else 'r'}",
        definition=DEFINITION,
        image=TEST_IMAGE,
        namespace=namespace,
        replicas=0,
        resources={"requests": requests},
    )
    deployment = render(request).objects[1]
    if not canonical_form:  # the raw inputs, as a user of kubectl would send them
        container_of(deployment)["resources"] = {"requests": requests}
    return deployment


def test_server_stores_quantities_exactly_as_rendered(namespace, kube_client):
    apps = client.AppsV1Api(kube_client)
    chunks = [QUANTITIES[start : start + 3] for start in range(0, len(QUANTITIES), 3)]
    mismatches = []
    for index, values in enumerate(chunks):
        ours = apps.create_namespaced_deployment(
            namespace, quantity_deployment(namespace, index, values, True)
        )
        raw = apps.create_namespaced_deployment(
            namespace, quantity_deployment(namespace, index, values, False)
        )
        stored = container_of(kube_client.sanitize_for_serialization(ours))["resources"]["requests"]
        stored_raw = container_of(kube_client.sanitize_for_serialization(raw))["resources"]["requests"]
        for name, value in zip(RESOURCE_NAMES, values, strict=False):
            rendered = canonical(resource_value(value))
            if stored[name] != rendered or parse(stored_raw[name]).value != resource_value(value).value:
                mismatches.append((value, rendered, stored[name], stored_raw[name]))
    assert mismatches == []
    assert len(QUANTITIES) == sum(len(values) for values in chunks)


def test_resources_second_run_is_unchanged_and_units_do_not_matter(kubeconfig, namespace, kube_client):
    first = deploy(namespace, "sized", resources={"requests": {"cpu": "1000m", "memory": "1024Mi"}})
    same = deploy(namespace, "sized", resources={"requests": {"cpu": 1, "memory": "1Gi"}})
    runs = [run_tasks([first]), run_tasks([first]), run_tasks([same], check=True), run_tasks([same])]
    assert [run.rc for run in runs] == [0, 0, 0, 0], [run.output for run in runs if run.rc]
    assert [run.results[0]["status"] for run in runs] == ["changed", "ok", "ok", "ok"]
    stored = container_of(stored_deployment(kube_client, namespace, "sized"))["resources"]
    assert stored == {"requests": {"cpu": "1", "memory": "1Gi"}}


def test_bad_quantity_fails_before_any_write(kubeconfig, namespace, kube_client):
    bad = deploy(namespace, "bad", resources={"requests": {"cpu": "2"}, "limits": {"cpu": "1500m"}})
    typo = deploy(namespace, "typo", resources={"limits": {"memory": "512MB"}})
    run = run_tasks([{**bad, "ignore_errors": True}, {**typo, "ignore_errors": True}])
    assert run.task("deploy bad")["result"]["msg"] == (
        "Failed to validate integration 'options': resources.requests.cpu: 2 is more than the limit 1500m"
    )
    assert "resources.limits.memory: has an unknown unit" in run.task("deploy typo")["result"]["msg"]
    managed = "app.kubernetes.io/managed-by=octo.platform"
    assert (
        client.CoreV1Api(kube_client).list_namespaced_config_map(namespace, label_selector=managed).items
        == []
    )
    assert client.AppsV1Api(kube_client).list_namespaced_deployment(namespace).items == []


def test_quota_requiring_limits_admits_pods_with_resources(kubeconfig, namespace, kube_client):
    core = client.CoreV1Api(kube_client)
    hard = {"requests.cpu": "2", "requests.memory": "2Gi", "limits.cpu": "4", "limits.memory": "4Gi"}
    core.create_namespaced_resource_quota(
        namespace, {"metadata": {"name": "octo-quota"}, "spec": {"hard": hard}}
    )
    bare_pod = {"metadata": {"name": "bare"}, "spec": {"containers": [{"name": "c", "image": TEST_IMAGE}]}}
    with pytest.raises(ApiException) as refused:  # the quota is enforced: a pod without limits is refused
        _create_when_quota_is_known(core, namespace, bare_pod)
    assert refused.value.status == 403 and "must specify limits.cpu" in refused.value.body
    resources = {
        "requests": {"cpu": "250m", "memory": "256Mi"},
        "limits": {"cpu": "500m", "memory": "512Mi"},
    }
    run = run_tasks([deploy(namespace, "quota", resources=resources, replicas=2, wait_timeout=120)])
    assert run.rc == 0, run.output
    result = run.task("deploy quota")["result"]
    assert result["rollout"]["state"] == "complete" and result["rollout"]["ready"] == 2
    pods = core.list_namespaced_pod(namespace, label_selector="octo.dev/deployment=quota").items
    assert len(pods) == 2
    used = core.read_namespaced_resource_quota("octo-quota", namespace).status.used
    assert used["limits.cpu"] == "1" and used["requests.memory"] == "512Mi"


def _create_when_quota_is_known(core, namespace: str, pod: dict) -> None:
    """Create ``pod`` once the API server's quota admission knows the new quota.

    Until the quota controller computed its usage, admission refuses with "status unknown": retry. Admission may
    also still hold the namespace's cached "no quota here" (the live lookup made for the namespace's first writes,
    kept up to 30 s): a pod admitted then is deleted and the create retried under another name.
    """
    deadline = time.monotonic() + 90
    attempt = 0
    while time.monotonic() < deadline:
        attempt += 1
        named = {**pod, "metadata": {"name": f"{pod['metadata']['name']}-{attempt}"}}
        try:
            core.create_namespaced_pod(namespace, named)
        except ApiException as error:
            if "status unknown for quota" not in (error.body or ""):
                raise
        else:
            core.delete_namespaced_pod(named["metadata"]["name"], namespace, grace_period_seconds=0)
        time.sleep(0.5)
    pytest.fail("the quota was never enforced", pytrace=False)


# --- probes and scheduling ------------------------------------------------------------------------------------


def test_probes_node_selector_and_tolerations_roll_out_and_stay_unchanged(kubeconfig, namespace, kube_client):
    options = {
        "probes": {
            "path": "/healthz",
            "initial_delay_seconds": 2,
            "period_seconds": 5,
            "failure_threshold": 4,
        },
        "node_selector": {"kubernetes.io/os": "linux"},
        "tolerations": [
            {"key": "dedicated", "operator": "Equal", "value": "octo", "effect": "NoSchedule"},
            {
                "key": "node.kubernetes.io/unreachable",
                "operator": "Exists",
                "effect": "NoExecute",
                "tolerationSeconds": 60,
            },
        ],
    }
    tasks = [deploy(namespace, "shaped", **options)]
    runs = [run_tasks(tasks), run_tasks(tasks)]
    assert [run.rc for run in runs] == [0, 0], [run.output for run in runs if run.rc]
    assert [run.results[0]["status"] for run in runs] == ["changed", "ok"]
    assert runs[0].results[0]["result"]["rollout"]["state"] == "complete"
    stored = stored_deployment(kube_client, namespace, "shaped")
    container = container_of(stored)
    for probe in (container["readinessProbe"], container["livenessProbe"]):
        assert probe["httpGet"]["path"] == "/healthz" and probe["httpGet"]["port"] == "http"
        assert (probe["initialDelaySeconds"], probe["periodSeconds"], probe["failureThreshold"]) == (2, 5, 4)
    pod_spec = stored["spec"]["template"]["spec"]
    assert pod_spec["nodeSelector"] == {"kubernetes.io/os": "linux"}
    assert pod_spec["tolerations"] == options["tolerations"]
