"""The Kubernetes modules and playbooks through a real ansible-playbook: live progress, secrecy, shipped playbooks."""

from __future__ import annotations

import os
import secrets as pysecrets
import string
import subprocess
import threading
import time

from k8s_support import TEST_IMAGE, managed_objects, orders_args
from support.playbook import REPO_ROOT, ansible_bin, run_tasks

from ansible_collections.octo.platform.plugins.module_utils.kube.client import Kube
from ansible_collections.octo.platform.plugins.module_utils.render.lease import LEASE, LOCK_NAME


def orders_task(namespace, **overrides):
    args = orders_args(namespace, env={"API_KEY": {"secret": "ORDERS_API_KEY"}}, **overrides)
    return {"name": "deploy orders", "octo.platform.integration": args}


def secret_task(namespace, variable):
    """Values come from variables, as from a vault: ansible-core shows task source lines on errors."""
    return {
        "name": "set secret",
        "octo.platform.integration_secret": {
            "namespace": namespace,
            "values": {"ORDERS_API_KEY": "{{ " + variable + " }}"},
        },
    }


def test_four_runs_and_live_progress(kubeconfig, namespace):
    value = "".join(pysecrets.choice(string.ascii_letters) for _ in range(40))
    tasks = [secret_task(namespace, "api_key"), orders_task(namespace, replicas=2)]
    runs = [
        run_tasks(tasks, check=check, diff=True, extra_vars={"api_key": value})
        for check in (True, False, True, False)
    ]
    assert all(run.rc == 0 for run in runs), [run.output for run in runs if run.rc]
    assert [run.task("deploy orders")["status"] for run in runs] == ["changed", "changed", "ok", "ok"]
    first_apply = runs[1]
    noop = runs[3].task("deploy orders")["result"]
    assert noop["rollout"]["state"] == "complete" and noop["timeline"] == []  # known complete: not followed
    assert "octo-dep-orders-1: 2/2 pods ready" in first_apply.stdout
    result = first_apply.task("deploy orders")["result"]
    assert result["rollout"]["state"] == "complete"
    assert any("status" in entry for entry in result["timeline"])


def test_secret_value_never_shown(kubeconfig, namespace):
    value = "".join(pysecrets.choice(string.ascii_letters + string.digits) for _ in range(40))
    rotated = "".join(pysecrets.choice(string.ascii_letters + string.digits) for _ in range(40))
    tasks = [
        secret_task(namespace, "value"),
        orders_task(namespace),
        {**secret_task(namespace, "rotated"), "name": "rotate secret"},
        {"name": "catalog", "octo.platform.integration_secret_info": {"namespace": namespace}},
        {
            "name": "bad name",
            "octo.platform.integration_secret": {
                "namespace": namespace,
                "values": {"bad-name": "{{ value }}"},
            },
            "ignore_errors": True,
        },
    ]
    run = run_tasks(tasks, diff=True, verbosity=3, extra_vars={"value": value, "rotated": rotated})
    assert run.task("rotate secret")["result"]["rolled"] == ["octo-dep-orders-1"]
    assert run.task("bad name")["status"] == "ignored"
    assert [e["name"] for e in run.task("catalog")["result"]["secrets"]] == ["ORDERS_API_KEY"]
    for sentinel in (value, rotated):
        assert sentinel not in run.output
        assert sentinel not in str(run.results)
    kube = Kube({"kubeconfig": kubeconfig})
    for obj in managed_objects(kube, namespace).values():
        assert value not in str(obj["metadata"]) and rotated not in str(obj["metadata"])


def test_failing_image_fails_fast_with_events(kubeconfig, namespace):
    tasks = [
        secret_task(namespace, "api_key"),
        orders_task(namespace, image=f"{TEST_IMAGE}-fail-pull", wait_timeout=240),
    ]
    run = run_tasks(tasks, extra_vars={"api_key": "x" * 32})
    assert run.rc != 0
    result = run.task("deploy orders")["result"]
    assert result["rollout"]["reason"] == "ImagePullBackOff"
    assert "Failed to roll out Deployment" in result["msg"]
    assert "Warning Failed pod/" in run.stdout


def playbook(name, namespace, *extra, check=False):
    command = [
        ansible_bin("ansible-playbook"),
        f"playbooks/{name}.yml",
        "-e",
        f"octo_namespace={namespace}",
        *extra,
    ]
    env = {**os.environ, "ANSIBLE_CONFIG": str(REPO_ROOT / "ansible.cfg"), "ANSIBLE_NOCOLOR": "1"}
    return subprocess.run(
        command + (["--check"] if check else []),
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def test_shipped_playbooks_deploy_and_undeploy_the_samples(kubeconfig, namespace):
    kube = Kube({"kubeconfig": kubeconfig})
    demo = playbook("demo", namespace, "-e", f"octo_image={TEST_IMAGE}")
    assert demo.returncode == 0, demo.stdout + demo.stderr
    assert "http-orders/http-orders-1: 2/2 ready" in demo.stdout
    assert f"internal http://octo-int-http-orders.{namespace}:8080" in demo.stdout
    assert "public https://http-orders.octo.localtest.me" in demo.stdout  # tls wildcard, the local CA
    assert "nightly-report/nightly-report-1: 1/1 ready, internal -, public -" in demo.stdout
    assert len(managed_objects(kube, namespace)) == 5 + 4 + 2  # exposed HTTP, private HTTP, worker

    again = playbook("integrations", namespace, "-e", f"octo_image={TEST_IMAGE}")
    assert again.returncode == 0 and "changed=0" in again.stdout, again.stdout

    gone = playbook("undeploy", namespace, "-e", "deployment_id=fulfilment-1")
    assert gone.returncode == 0, gone.stdout
    assert not any(
        name.endswith("fulfilment-1") or name.endswith("-fulfilment")
        for _, name in managed_objects(kube, namespace)
    )

    missing = playbook("undeploy", namespace)
    assert missing.returncode != 0 and "deployment_id=<id>" in missing.stdout


def test_integrations_playbook_waits_for_the_deploy_lock_or_fails_fast(kubeconfig, namespace):
    kube = Kube({"kubeconfig": kubeconfig})
    other = {"namespace": namespace, "holder": "another run (test)", "ttl": 120}
    taken = run_tasks([{"name": "take", "octo.platform.deploy_lock": other}])
    assert taken.rc == 0, taken.output

    image = f"octo_image={TEST_IMAGE}"
    fast = playbook("integrations", namespace, "-e", image, "-e", "octo_deploy_lock_wait=false")
    assert fast.returncode != 0 and "held by another run (test)" in fast.stdout, fast.stdout
    assert not managed_objects(kube, namespace)  # nothing deployed without the lock

    env = {**os.environ, "ANSIBLE_CONFIG": str(REPO_ROOT / "ansible.cfg"), "ANSIBLE_NOCOLOR": "1"}
    command = [
        ansible_bin("ansible-playbook"),
        "playbooks/integrations.yml",
        "-e",
        f"octo_namespace={namespace}",
    ]
    waiting = subprocess.Popen(
        [*command, "-e", image, "-e", "octo_deploy_lock_wait_sleep=1"],
        cwd=REPO_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines = []
    reader = threading.Thread(target=lambda: lines.extend(waiting.stdout), daemon=True)
    reader.start()
    deadline = time.monotonic() + 240
    while not any("is held by another run (test)" in line for line in lines):
        assert time.monotonic() < deadline and waiting.poll() is None, "".join(lines)
        time.sleep(0.5)
    assert not managed_objects(kube, namespace)  # still waiting: nothing written yet
    released = run_tasks([{"name": "release", "octo.platform.deploy_lock": {**other, "state": "absent"}}])
    assert released.rc == 0, released.output
    assert waiting.wait(timeout=600) == 0, "".join(lines)
    reader.join(timeout=10)
    assert len(managed_objects(kube, namespace)) == 5 + 4 + 2
    assert kube.get(LEASE, LOCK_NAME, namespace) is None  # released at the end
