"""The test cluster itself: real controllers drive Deployments over the node stand-in; CRDs; Services."""

from __future__ import annotations

import datetime
import ipaddress
import itertools
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from cluster import node_standin as standin
from kubernetes import client, config, watch
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


def pod_history(core: client.CoreV1Api, namespace: str, start, done, timeout: int = WAIT_SECONDS) -> list:
    """(event type, pod) for every change of the namespace's pods after start() (a watch misses no
    version, unlike polling) until done(history) holds."""
    version = core.list_namespaced_pod(namespace).metadata.resource_version
    start()
    history, stream = [], watch.Watch()
    for event in stream.stream(
        core.list_namespaced_pod, namespace, resource_version=version, timeout_seconds=timeout
    ):
        history.append((event["type"], event["object"]))
        if done(history):
            stream.stop()
            return history
    pytest.fail(f"timed out after {timeout}s; seen {container_states(history)}")


def container_states(history: list) -> list[tuple]:
    """(state, waiting reason, restartCount, ready) of the first container of each reported pod version,
    consecutive repeats dropped."""
    states = []
    for _, pod in history:
        if not pod.status.container_statuses:
            continue
        container = pod.status.container_statuses[0]
        state = container.state
        kind = "waiting" if state.waiting else "running" if state.running else "terminated"
        entry = (
            kind,
            state.waiting.reason if state.waiting else None,
            container.restart_count,
            container.ready,
        )
        if not states or states[-1] != entry:
            states.append(entry)
    return states


def pod_ready(pod) -> bool:
    return any(c.type == "Ready" and c.status == "True" for c in pod.status.conditions or [])


def kubelet_events(core: client.CoreV1Api, namespace: str, pod_name: str) -> list:
    events = core.list_namespaced_event(namespace, field_selector=f"involvedObject.name={pod_name}").items
    return [e for e in events if e.source and e.source.component == "kubelet"]


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


def test_readiness_probe_keeps_a_running_pod_unready_until_its_initial_delay(core, apps, namespace):
    body = deployment("probed", IMAGE)
    probe = {"tcpSocket": {"port": 8080}, "initialDelaySeconds": 3}
    body["spec"]["template"]["spec"]["containers"][0]["readinessProbe"] = probe

    history = pod_history(
        core,
        namespace,
        lambda: apps.create_namespaced_deployment(namespace, body),
        lambda seen: any(pod_ready(pod) for _, pod in seen),
    )

    assert container_states(history) == [("running", None, 0, False), ("running", None, 0, True)]
    unready = next(pod for _, pod in history if pod.status.container_statuses)
    assert unready.status.phase == "Running"
    assert unready.status.container_statuses[0].started is True
    assert {c.type: c.status for c in unready.status.conditions}["Ready"] == "False"
    wait_until(
        "the deployment to count the pod available",
        lambda: apps.read_namespaced_deployment_status("probed", namespace).status.available_replicas == 1,
    )


def test_fail_pull_image_alternates_err_image_pull_and_image_pull_back_off(core, apps, namespace):
    image = "registry.local/octo/web:1.0-fail-pull"

    history = pod_history(
        core,
        namespace,
        lambda: apps.create_namespaced_deployment(namespace, deployment("broken", image)),
        lambda seen: len(container_states(seen)) >= 4,
    )

    assert container_states(history) == [
        ("waiting", "ErrImagePull", 0, False),
        ("waiting", "ImagePullBackOff", 0, False),
        ("waiting", "ErrImagePull", 0, False),  # the next pull fails again
        ("waiting", "ImagePullBackOff", 0, False),
    ]
    reported = [pod for _, pod in history if pod.status.container_statuses]
    assert {pod.status.phase for pod in reported} == {"Pending"}
    assert image in reported[0].status.container_statuses[0].state.waiting.message
    assert (
        reported[-1].status.container_statuses[0].state.waiting.message == f'Back-off pulling image "{image}"'
    )
    name = reported[0].metadata.name
    expected = [  # (type, reason, message start), as a kubelet records them
        ("Warning", "Failed", f'Failed to pull image "{image}": rpc error: code = NotFound'),
        ("Warning", "Failed", "Error: ErrImagePull"),
        ("Normal", "BackOff", f'Back-off pulling image "{image}"'),
        ("Warning", "Failed", "Error: ImagePullBackOff"),
    ]

    def recorded():
        events = kubelet_events(core, namespace, name)
        found = all(
            any((e.type, e.reason) == (kind, reason) and e.message.startswith(start) for e in events)
            for kind, reason, start in expected
        )
        return events if found else None

    events = wait_until("the kubelet events of the failed pull", recorded)
    assert all(e.source.component == "kubelet" for e in events)
    assert not apps.read_namespaced_deployment_status("broken", namespace).status.available_replicas


def test_crash_image_runs_then_restarts_with_growing_restart_count(core, apps, namespace):
    image = "registry.local/octo/web:1.0-crash"

    history = pod_history(
        core,
        namespace,
        lambda: apps.create_namespaced_deployment(namespace, deployment("crashy", image)),
        lambda seen: ("waiting", "CrashLoopBackOff", 3, False) in container_states(seen),
    )

    assert container_states(history) == [
        ("running", None, 0, False),
        ("waiting", "CrashLoopBackOff", 1, False),
        ("running", None, 1, False),
        ("waiting", "CrashLoopBackOff", 2, False),
        ("running", None, 2, False),
        ("waiting", "CrashLoopBackOff", 3, False),
    ]
    reported = [pod for _, pod in history if pod.status.container_statuses]
    assert reported[0].status.container_statuses[0].started is True
    assert {pod.status.phase for pod in reported} == {"Running"}
    crashed = reported[-1].status.container_statuses[0]
    assert crashed.last_state.terminated.exit_code == 1
    assert crashed.last_state.terminated.reason == "Error"
    assert {c.type: c.status for c in reported[-1].status.conditions}["Ready"] == "False"

    def counted_up():
        events = [
            e for e in kubelet_events(core, namespace, reported[0].metadata.name) if e.reason == "BackOff"
        ]
        return events if events and events[0].count >= 3 else None

    (event,) = wait_until("the BackOff event counted up to 3", counted_up)
    assert event.type == "Warning"
    assert event.message == "Back-off restarting failed container"
    assert not apps.read_namespaced_deployment_status("crashy", namespace).status.available_replicas


def test_never_ready_image_runs_and_stays_unready(core, apps, namespace):
    image = "registry.local/octo/web:1.0-never-ready"

    history = pod_history(
        core,
        namespace,
        lambda: apps.create_namespaced_deployment(namespace, deployment("stuck", image)),
        lambda seen: any(pod.status.container_statuses for _, pod in seen),
    )

    assert container_states(history) == [("running", None, 0, False)]
    pod = next(pod for _, pod in history if pod.status.container_statuses)
    assert pod.status.phase == "Running"
    assert pod.status.container_statuses[0].started is True
    status = apps.read_namespaced_deployment_status("stuck", namespace).status
    assert not status.ready_replicas and not status.available_replicas


def test_deleted_pod_runs_through_its_grace_period_then_goes(core, apps, namespace):
    body = deployment("graceful", IMAGE)
    body["spec"]["template"]["spec"]["terminationGracePeriodSeconds"] = 20
    apps.create_namespaced_deployment(namespace, body)
    (pod,) = wait_until(
        "a ready pod", lambda: [p for p in pods_of(core, namespace, "graceful") if pod_ready(p)]
    )

    history = pod_history(
        core,
        namespace,
        lambda: core.delete_namespaced_pod(pod.metadata.name, namespace),
        lambda seen: ("DELETED", pod.metadata.uid) in [(kind, p.metadata.uid) for kind, p in seen],
    )

    mine = [(kind, p) for kind, p in history if p.metadata.uid == pod.metadata.uid]  # not its replacement
    terminating = [p for kind, p in mine if kind == "MODIFIED" and p.metadata.deletion_timestamp]
    assert terminating[0].metadata.deletion_grace_period_seconds == 20
    assert terminating[0].status.container_statuses[0].state.running is not None
    assert container_states(mine) == [("running", None, 0, True), ("terminated", None, 0, False)]
    exited = terminating[-1].status.container_statuses[0].state.terminated
    assert (exited.exit_code, exited.reason) == (0, "Completed")
    assert [kind for kind, _ in mine][-1] == "DELETED"


T0 = 1_800_000_000.0


def standin_pod(image: str, **container) -> dict:
    return {
        "metadata": {"name": "p", "namespace": "n", "uid": "u-1"},
        "spec": {"nodeName": "octo-node-1", "containers": [{"name": "app", "image": image, **container}]},
    }


def timeline(pod: dict, until: float) -> list[tuple[float, str | None, int]]:
    """Follow the stand-in's status of a pod from T0 through each announced change: (offset, waiting reason,
    restartCount) at each change."""
    seen, current, clock = [], {}, T0
    while clock - T0 <= until:
        current, due = standin.desired_status(pod, current, "10.244.0.9", T0, clock)
        (status,) = current["containerStatuses"]
        seen.append((round(clock - T0, 3), standin.waiting_reason(status), status["restartCount"]))
        if due is None:
            break
        clock = max(due, clock)
    return seen


def test_standin_readiness_follows_the_initial_delay():
    probe = {"tcpSocket": {"port": 8080}, "initialDelaySeconds": 5}
    pod = standin_pod(IMAGE, readinessProbe=probe)
    first, due = standin.desired_status(pod, {}, "10.244.0.9", T0, T0 + 6)
    assert first["containerStatuses"][0]["ready"] is False, "ready before the probe ran once"
    early, due = standin.desired_status(pod, first, "10.244.0.9", T0, T0 + 4.9)
    assert early["containerStatuses"][0]["ready"] is False and due == T0 + 5
    late, due = standin.desired_status(pod, first, "10.244.0.9", T0, T0 + 5)
    assert late["containerStatuses"][0]["ready"] is True and due is None
    slow = standin_pod(IMAGE, readinessProbe={**probe, "initialDelaySeconds": 3600})
    _, due = standin.desired_status(slow, first, "10.244.0.9", T0, T0)
    assert due == T0 + standin.READINESS_DELAY_CAP_SECONDS
    unprobed, due = standin.desired_status(standin_pod(IMAGE), {}, "10.244.0.9", T0, T0)
    assert unprobed["containerStatuses"][0]["ready"] is True and due is None


@pytest.mark.parametrize(
    ("image", "back_off", "failing"),
    [("r/web:1-crash", "CrashLoopBackOff", None), ("r/web:1-fail-pull", "ImagePullBackOff", "ErrImagePull")],
)
def test_standin_back_off_doubles_up_to_its_cap(image, back_off, failing):
    seen = timeline(standin_pod(image), until=200)
    reasons = [reason for _, reason, _ in seen]
    assert reasons[:6] == [failing, back_off] * 3
    waits = [
        round(after[0] - before[0], 3) for before, after in itertools.pairwise(seen) if before[1] == back_off
    ]
    first, cap = standin.BACKOFF_SECONDS
    scale = standin.TIME_SCALE
    assert waits[:7] == pytest.approx([first * scale * 2**n for n in range(5)] + [cap * scale] * 2)
    attempts = [
        round(after[0] - before[0], 3) for before, after in itertools.pairwise(seen) if before[1] == failing
    ]
    assert set(attempts) == {standin.ATTEMPT_SECONDS}


def test_standin_restart_count_counts_the_crashes_and_never_ready_stays():
    seen = timeline(standin_pod("r/web:1-crash"), until=60)
    assert [count for _, reason, count in seen if reason == "CrashLoopBackOff"][:4] == [1, 2, 3, 4]
    assert [count for _, reason, count in seen if reason is None][:4] == [0, 1, 2, 3]
    assert timeline(standin_pod("r/web:1-never-ready"), until=60) == [(0, None, 0)]


def test_standin_grace_period_is_scaled_and_capped():
    assert standin.scaled_grace(20) == pytest.approx(20 * standin.TIME_SCALE)
    assert standin.scaled_grace(3600) == standin.GRACE_CAP_SECONDS
    assert standin.scaled_grace(0) == 0


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
