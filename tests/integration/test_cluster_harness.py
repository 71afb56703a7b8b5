"""The test cluster itself: real controllers drive Deployments over the node stand-in; CRDs; Services."""

from __future__ import annotations

import datetime
import ipaddress
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from kubernetes import client, config
from kubernetes.client.rest import ApiException

CLUSTER_SCRIPT = Path(__file__).resolve().parents[1] / "cluster" / "cluster.py"
WAIT_SECONDS = 60
IMAGE = "registry.local/octo/web:1.0"
POD_NETWORK = ipaddress.ip_network("10.244.0.0/16")
LOCAL_CLUSTER = not os.environ.get("OCTO_TEST_KUBECONFIG")


def wait_until(what: str, probe, timeout: float = WAIT_SECONDS):
    """Return the first truthy result of probe(); fail after a bounded wait."""
    deadline = time.monotonic() + timeout
    while True:
        result = probe()
        if result:
            return result
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.3)


def deployment(name: str, image: str, replicas: int = 1) -> dict:
    labels = {"app": name}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "labels": labels},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": {"labels": labels},
                "spec": {"containers": [{"name": "app", "image": image, "ports": [{"containerPort": 8080}]}]},
            },
        },
    }


def pods_of(core: client.CoreV1Api, namespace: str, name: str) -> list:
    return core.list_namespaced_pod(namespace, label_selector=f"app={name}").items


def warning_events(core: client.CoreV1Api, namespace: str, pod_name: str, reason: str) -> list:
    events = core.list_namespaced_event(namespace, field_selector=f"involvedObject.name={pod_name}").items
    return [e for e in events if e.reason == reason and e.type == "Warning"]


def single_container_status(core, namespace, name, waiting_reason):
    pods = pods_of(core, namespace, name)
    statuses = pods[0].status.container_statuses if len(pods) == 1 else None
    if statuses and statuses[0].state.waiting and statuses[0].state.waiting.reason == waiting_reason:
        return pods[0], statuses[0]
    return None


@pytest.fixture
def core(kube_client):
    return client.CoreV1Api(kube_client)


@pytest.fixture
def apps(kube_client):
    return client.AppsV1Api(kube_client)


def test_deployment_becomes_available_with_ready_pods(core, apps, namespace):
    apps.create_namespaced_deployment(namespace, deployment("web", IMAGE, replicas=2))

    def available():
        status = apps.read_namespaced_deployment_status("web", namespace).status
        conditions = {c.type: c for c in status.conditions or []}
        done = status.available_replicas == 2 and status.updated_replicas == 2 and status.ready_replicas == 2
        return (
            status
            if done and conditions.get("Available") and conditions["Available"].status == "True"
            else None
        )

    status = wait_until("deployment web to become Available", available)
    assert {c.type: c.reason for c in status.conditions}["Progressing"] == "NewReplicaSetAvailable"
    pods = pods_of(core, namespace, "web")
    assert len(pods) == 2
    for pod in pods:
        assert pod.status.phase == "Running"
        assert {c.type: c.status for c in pod.status.conditions} == {
            "Initialized": "True",
            "Ready": "True",
            "ContainersReady": "True",
            "PodScheduled": "True",
        }
        assert ipaddress.ip_address(pod.status.pod_ip) in POD_NETWORK
        assert pod.status.start_time is not None
        (container,) = pod.status.container_statuses
        assert container.ready is True and container.started is True
        assert container.state.running is not None
        assert container.image == IMAGE and "@sha256:" in container.image_id
    assert len({pod.status.pod_ip for pod in pods}) == 2


def test_rolling_update_replaces_the_pods(core, apps, namespace):
    apps.create_namespaced_deployment(namespace, deployment("roll", IMAGE, replicas=2))
    wait_until(
        "the first rollout",
        lambda: apps.read_namespaced_deployment_status("roll", namespace).status.available_replicas == 2,
    )
    first_pods = {p.metadata.name for p in pods_of(core, namespace, "roll")}

    new_image = "registry.local/octo/web:2.0"
    patch = {"spec": {"template": {"spec": {"containers": [{"name": "app", "image": new_image}]}}}}
    apps.patch_namespaced_deployment("roll", namespace, patch)

    def rolled_out():
        deployment = apps.read_namespaced_deployment_status("roll", namespace)
        status = deployment.status
        pods = pods_of(core, namespace, "roll")
        return (
            status.observed_generation == deployment.metadata.generation
            and status.updated_replicas == status.available_replicas == status.replicas == 2
            and len(pods) == 2
            and all(p.spec.containers[0].image == new_image for p in pods)
        )

    wait_until("the second rollout", rolled_out)
    assert not first_pods & {p.metadata.name for p in pods_of(core, namespace, "roll")}


def test_fail_pull_image_reports_image_pull_back_off(core, apps, namespace):
    image = "registry.local/octo/web:1.0-fail-pull"
    apps.create_namespaced_deployment(namespace, deployment("broken", image))

    pod, container = wait_until(
        "ImagePullBackOff", lambda: single_container_status(core, namespace, "broken", "ImagePullBackOff")
    )
    assert pod.status.phase == "Pending"
    assert container.ready is False
    assert image in container.state.waiting.message
    (event,) = wait_until(
        "the Failed event", lambda: warning_events(core, namespace, pod.metadata.name, "Failed")
    )
    assert event.message.startswith(f'Failed to pull image "{image}"')
    assert event.source.component == "kubelet"
    assert not apps.read_namespaced_deployment_status("broken", namespace).status.available_replicas


def test_crash_image_reports_crash_loop_back_off(core, apps, namespace):
    apps.create_namespaced_deployment(namespace, deployment("crashy", "registry.local/octo/web:1.0-crash"))

    pod, container = wait_until(
        "CrashLoopBackOff", lambda: single_container_status(core, namespace, "crashy", "CrashLoopBackOff")
    )
    assert pod.status.phase == "Running"
    assert {c.type: c.status for c in pod.status.conditions}["Ready"] == "False"
    assert container.restart_count > 0
    assert container.last_state.terminated.exit_code == 1
    wait_until("the BackOff event", lambda: warning_events(core, namespace, pod.metadata.name, "BackOff"))
    assert not apps.read_namespaced_deployment_status("crashy", namespace).status.available_replicas


def test_deleting_a_deployment_removes_its_pods(core, apps, namespace):
    apps.create_namespaced_deployment(namespace, deployment("gone", IMAGE, replicas=2))
    wait_until(
        "two running pods", lambda: len([p for p in pods_of(core, namespace, "gone") if p.status.pod_ip]) == 2
    )

    apps.delete_namespaced_deployment("gone", namespace)

    wait_until("the pods to be removed", lambda: not pods_of(core, namespace, "gone"))
    wait_until(
        "the replica set to be removed",
        lambda: not apps.list_namespaced_replica_set(namespace, label_selector="app=gone").items,
    )


CUSTOM_OBJECTS = [
    (
        "helm.cattle.io",
        "helmcharts",
        "HelmChart",
        {"chart": "traefik", "repo": "https://example.invalid/charts"},
    ),
    ("helm.cattle.io", "helmchartconfigs", "HelmChartConfig", {"valuesContent": "replicas: 2\n"}),
    ("cert-manager.io", "issuers", "Issuer", {"selfSigned": {}}),
    ("cert-manager.io", "clusterissuers", "ClusterIssuer", {"ca": {"secretName": "root-ca"}}),
    (
        "cert-manager.io",
        "certificates",
        "Certificate",
        {
            "secretName": "web-tls",
            "dnsNames": ["web.example.com"],
            "issuerRef": {"name": "ca", "kind": "Issuer"},
        },
    ),
]


@pytest.mark.parametrize(
    ("group", "plural", "kind", "spec"), CUSTOM_OBJECTS, ids=[o[2] for o in CUSTOM_OBJECTS]
)
def test_crds_accept_an_object_of_each_kind(kube_client, namespace, group, plural, kind, spec):
    crd = client.ApiextensionsV1Api(kube_client).read_custom_resource_definition(f"{plural}.{group}")
    assert {c.type: c.status for c in crd.status.conditions}["Established"] == "True"
    custom = client.CustomObjectsApi(kube_client)
    name = f"t-{kind.lower()}"
    body = {"apiVersion": f"{group}/v1", "kind": kind, "metadata": {"name": name}, "spec": spec}

    if crd.spec.scope == "Cluster":
        custom.create_cluster_custom_object(group, "v1", plural, body)
        try:
            stored = custom.get_cluster_custom_object(group, "v1", plural, name)
        finally:
            custom.delete_cluster_custom_object(group, "v1", plural, name)
    else:
        custom.create_namespaced_custom_object(group, "v1", namespace, plural, body)
        stored = custom.get_namespaced_custom_object(group, "v1", namespace, plural, name)

    assert stored["spec"] == spec
    assert crd.spec.scope == ("Cluster" if kind == "ClusterIssuer" else "Namespaced")


def test_crd_schema_rejects_a_certificate_without_secret_name(kube_client, namespace):
    body = {
        "apiVersion": "cert-manager.io/v1",
        "kind": "Certificate",
        "metadata": {"name": "incomplete"},
        "spec": {"issuerRef": {"name": "ca"}},
    }
    with pytest.raises(ApiException) as raised:
        client.CustomObjectsApi(kube_client).create_namespaced_custom_object(
            "cert-manager.io", "v1", namespace, "certificates", body
        )
    assert raised.value.status == 422
    assert "secretName" in raised.value.body


def test_service_with_ports_gets_a_cluster_ip(core, namespace):
    body = {
        "metadata": {"name": "web"},
        "spec": {
            "selector": {"app": "web"},
            "ports": [{"name": "http", "port": 80, "targetPort": 8080, "protocol": "TCP"}],
        },
    }
    service = core.create_namespaced_service(namespace, body)

    assert service.spec.cluster_ip
    assert ipaddress.ip_address(service.spec.cluster_ip).version in (4, 6)
    if LOCAL_CLUSTER:
        assert ipaddress.ip_address(service.spec.cluster_ip) in ipaddress.ip_network("10.96.0.0/16")


@pytest.mark.skipif(not LOCAL_CLUSTER, reason="checks the node stand-in of the local cluster")
def test_stand_in_node_is_ready_untainted_and_leased(kube_client):
    node = client.CoreV1Api(kube_client).read_node("octo-node-1")
    assert {c.type: c.status for c in node.status.conditions}["Ready"] == "True"
    assert not node.spec.taints
    lease = client.CoordinationV1Api(kube_client).read_namespaced_lease("octo-node-1", "kube-node-lease")
    age = datetime.datetime.now(datetime.UTC) - lease.spec.renew_time
    assert age < datetime.timedelta(seconds=lease.spec.lease_duration_seconds)


@pytest.mark.skipif(not LOCAL_CLUSTER, reason="checks the credentials of the local cluster")
def test_token_and_client_certificate_both_authenticate(kubeconfig):
    contexts = [c["name"] for c in yaml.safe_load(Path(kubeconfig).read_text())["contexts"]]
    assert contexts == ["octo", "octo-token"]
    for context in contexts:
        api_client = config.new_client_from_config(config_file=kubeconfig, context=context)
        with api_client:
            review = client.AuthorizationV1Api(api_client).create_self_subject_access_review(
                {"spec": {"resourceAttributes": {"verb": "*", "resource": "*"}}}
            )
        assert review.status.allowed is True


@pytest.mark.skipif(not LOCAL_CLUSTER, reason="checks the local cluster script")
def test_second_up_reuses_the_running_cluster(kubeconfig):
    pid_dir = Path(kubeconfig).parent / "pids"
    pids_before = {p.name: p.read_text() for p in pid_dir.iterdir()}
    up = subprocess.run(
        [sys.executable, str(CLUSTER_SCRIPT), "up"], capture_output=True, text=True, timeout=60, check=True
    )
    assert "reusing the running cluster" in up.stdout
    assert {p.name: p.read_text() for p in pid_dir.iterdir()} == pids_before, "processes were restarted"
    assert len(pids_before) >= 5
    assert up.stdout.strip().splitlines()[-1] == kubeconfig
