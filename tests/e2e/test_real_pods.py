"""End-to-end on the real node: real containers, real probes, real kubelet reasons, Traefik in front.

Deployments go through a real ansible-playbook; pods are reached through Traefik with a Host header.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess

from e2e_support import STATE_DIR, get_through_traefik, running_containers, wait_until
from images.runtime_images import CRASH_IMAGE, FLAKY_IMAGE, IMAGE, MISSING_IMAGE
from support.playbook import REPO_ROOT, ansible_bin, run_tasks

SAMPLES = REPO_ROOT / "samples"
DEPLOYMENT_LABEL = "octo.dev/deployment"


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def deploy_task(namespace: str, name: str = "deploy", **overrides) -> dict:
    args = {
        "namespace": namespace,
        "slug": "http-orders",
        "deployment_id": "orders-1",
        "definition": (SAMPLES / "http-orders.yaml").read_text(),
        "image": IMAGE,
        "env": {"API_KEY": "not-a-secret"},
        "replicas": 2,
        "expose": True,
        "base_domain": f"{namespace}.localtest.me",
        "tls_mode": "none",
        "probes": {"path": "/healthz", "period_seconds": 1},
        "wait_sleep": 1,
        "wait_timeout": 120,
        **overrides,
    }
    return {"name": name, "octo.platform.integration": args}


def pods(core, namespace: str, deployment_id: str = "orders-1") -> list:
    return core.list_namespaced_pod(namespace, label_selector=f"{DEPLOYMENT_LABEL}={deployment_id}").items


def serving(port: int, host: str, sha: str, names: set[str]):
    """The JSON answer of `host` when it comes from one of the pods `names` and lists the definition `sha`."""
    status, body = get_through_traefik(port, host)
    if status != 200 or not isinstance(body, dict) or body["hostname"] not in names:
        return None
    return body if [f["sha256"] for f in body["integrations"]] == [sha] else None


def test_samples_through_the_demo_playbook_answer_through_traefik(
    real_cluster, core, namespace, traefik_port
):
    variables = [f"octo_namespace={namespace}", f"octo_base_domain={namespace}.localtest.me"]
    demo = subprocess.run(
        [ansible_bin("ansible-playbook"), "playbooks/demo.yml", *(f"-e{v}" for v in variables)],
        cwd=REPO_ROOT,
        env={**os.environ, "ANSIBLE_NOCOLOR": "1"},
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert demo.returncode == 0, demo.stdout + demo.stderr
    host = f"http-orders.{namespace}.localtest.me"
    websecure = json.loads((STATE_DIR / "ports.json").read_text())["traefik_websecure"]
    assert f"--resolve {host}:{websecure}:127.0.0.1 https://{host}:{websecure}/" in demo.stdout  # local CA
    assert f"TLS handshake with 127.0.0.1:{websecure} verified" in demo.stdout
    assert "answered 200 from pod octo-dep-http-orders-1-" in demo.stdout
    # site.yml's hardening report (before the platform's writes) and its verification from the outside.
    assert "SEVERITY" in demo.stdout and "oidc_public" in demo.stdout
    print("\n".join(line for line in demo.stdout.splitlines() if re.search(r"\b(PASS|FAIL)\b", line)))
    for endpoint in ("editor", "http-orders-1"):
        for check in ("certificate", "health", "headers"):
            assert re.search(rf"PASS\s+{endpoint}\s+{check}\b", demo.stdout), (endpoint, check)
    running = {p.metadata.name: p for p in core.list_namespaced_pod(namespace).items}
    assert len(running) == 4  # http-orders x2, fulfilment, nightly-report
    for pod in running.values():
        (container,) = pod.status.container_statuses
        assert container.ready and container.container_id.startswith("containerd://")
        assert container.image == IMAGE
    orders = {name for name in running if name.startswith("octo-dep-http-orders-1-")}
    body = serving(traefik_port, host, sha256((SAMPLES / "http-orders.yaml").read_text()), orders)
    assert body is not None
    assert body["integrations"][0]["name"] == "http-orders.yaml"
    assert {"API_KEY", "HTTP_PORT", "HTTP_HOST"} <= set(body["env"])
    assert "demo-key-not-secret" not in str(body)
    (worker,) = (name for name in running if name.startswith("octo-dep-nightly-report-1-"))
    log = core.read_namespaced_pod_log(worker, namespace)  # through the real kubelet
    worker_sha = sha256((SAMPLES / "nightly-report.yaml").read_text())
    assert f"octo-runtime: integration nightly-report.yaml sha256 {worker_sha}" in log
    assert "octo-runtime: worker running (no HTTP_PORT)" in log


def test_a_new_definition_is_served_by_new_pods(real_cluster, core, namespace, traefik_port):
    first = run_tasks([deploy_task(namespace)])
    assert first.rc == 0, first.output
    host = f"http-orders.{namespace}.localtest.me"
    old_text = (SAMPLES / "http-orders.yaml").read_text()
    old_pods = {p.metadata.name for p in pods(core, namespace)}
    assert wait_until("the first definition", lambda: serving(traefik_port, host, sha256(old_text), old_pods))

    new_text = old_text.replace("default: info", "default: debug")
    second = run_tasks([deploy_task(namespace, definition=new_text)])
    assert second.rc == 0, second.output
    assert second.task("deploy")["result"]["rollout"]["state"] == "complete"
    new_pods = {p.metadata.name for p in pods(core, namespace) if p.metadata.deletion_timestamp is None}
    assert new_pods and not new_pods & old_pods
    body = wait_until("the new definition", lambda: serving(traefik_port, host, sha256(new_text), new_pods))
    assert body["integrations"] == [{"name": "http-orders.yaml", "sha256": sha256(new_text)}]


def test_a_crashing_container_fails_the_rollout_with_the_kubelets_reason(real_cluster, core, namespace):
    run = run_tasks([deploy_task(namespace, image=CRASH_IMAGE, replicas=1)])
    assert run.rc != 0
    result = run.task("deploy")["result"]
    assert result["rollout"]["reason"] == "CrashLoopBackOff", result["rollout"]
    assert "Back-off restarting failed container" in run.stdout
    (pod,) = pods(core, namespace)
    (container,) = pod.status.container_statuses
    assert container.restart_count >= 1
    assert container.last_state.terminated.exit_code == 1


def test_an_image_that_cannot_be_pulled_fails_the_rollout(real_cluster, core, namespace):
    run = run_tasks([deploy_task(namespace, image=MISSING_IMAGE, replicas=1)])
    assert run.rc != 0
    result = run.task("deploy")["result"]
    assert result["rollout"]["reason"] == "ImagePullBackOff", result["rollout"]
    assert f'Failed to pull image "{MISSING_IMAGE}"' in run.stdout
    (pod,) = pods(core, namespace)
    assert pod.status.container_statuses[0].state.waiting.reason in ("ErrImagePull", "ImagePullBackOff")


def test_a_container_that_crashes_once_then_serves_completes_the_rollout(real_cluster, core, namespace):
    run = run_tasks([deploy_task(namespace, image=FLAKY_IMAGE, replicas=1)])
    assert run.rc == 0, run.output
    assert run.task("deploy")["result"]["rollout"]["state"] == "complete"
    (pod,) = pods(core, namespace)
    (container,) = pod.status.container_statuses
    assert container.ready and container.restart_count == 1
    assert container.last_state.terminated.exit_code == 1


def test_undeploy_with_wait_returns_after_the_pods_are_gone(real_cluster, core, namespace):
    deployed = run_tasks([deploy_task(namespace)])
    assert deployed.rc == 0, deployed.output
    assert len(pods(core, namespace)) == 2
    assert len(running_containers(namespace)) == 4  # two sandboxes, two runtime containers
    undeploy = {
        "name": "undeploy",
        "octo.platform.integration": {
            "namespace": namespace,
            "slug": "http-orders",
            "deployment_id": "orders-1",
            "state": "absent",
            "wait": True,
            "wait_sleep": 1,
        },
    }
    run = run_tasks([undeploy])
    assert run.rc == 0 and run.task("undeploy")["status"] == "changed", run.output
    assert pods(core, namespace) == []
    assert core.list_namespaced_pod(namespace).items == []
    assert running_containers(namespace) == set()


def secret_task(namespace: str, value: str) -> dict:
    values = {"ORDERS_API_KEY": value}
    return {"name": "secret", "octo.platform.integration_secret": {"namespace": namespace, "values": values}}


def test_a_secret_rotation_restarts_the_real_pods(real_cluster, core, namespace, traefik_port):
    first_value, second_value = f"first-{namespace}", f"second-{namespace}"
    deploy = deploy_task(namespace, env={"API_KEY": {"secret": "ORDERS_API_KEY"}})
    run = run_tasks([secret_task(namespace, first_value), deploy])
    assert run.rc == 0, run.output
    host = f"http-orders.{namespace}.localtest.me"
    sha = sha256((SAMPLES / "http-orders.yaml").read_text())
    before = {p.metadata.name for p in pods(core, namespace)}
    assert wait_until("the first pods", lambda: serving(traefik_port, host, sha, before))

    rotated = run_tasks([secret_task(namespace, second_value)])
    assert rotated.rc == 0, rotated.output
    assert rotated.task("secret")["result"]["rolled"] == ["octo-dep-orders-1"]

    def restarted_pods() -> set[str] | None:
        current = [p for p in pods(core, namespace) if p.metadata.deletion_timestamp is None]
        names = {p.metadata.name for p in current}
        ready = all(c.ready for p in current for c in p.status.container_statuses or [])
        return names if len(names) == 2 and not names & before and ready else None

    after = wait_until("the restarted pods", restarted_pods)
    body = wait_until("a restarted pod through Traefik", lambda: serving(traefik_port, host, sha, after))
    assert "API_KEY" in body["env"]
    assert first_value not in str(body) and second_value not in str(body)
    assert first_value not in rotated.output and second_value not in rotated.output
