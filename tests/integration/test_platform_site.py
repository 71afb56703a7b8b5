"""playbooks/site.yml on the local inventory: check mode predicts the first run's changes, a second run changes nothing.

The platform and the samples go to namespaces of their own, the credentials to a state file of their own, and
Postgres to a hostPath PersistentVolume of its own storage class, so the shared cluster's `octo` and `octo-dev`
are left alone. Traefik and cert-manager are skipped (their roles have tests of their own, and a check run cannot
see the namespaces the traefik role would create for the wildcard Secret before the platform's check runs).
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess

from cluster import volumes
from kubernetes import client
from kubernetes.client.rest import ApiException
from support.playbook import CALLBACKS, REPO_ROOT, ansible_bin

SKIP = ("--skip-tags", "traefik,cert_manager")
PLATFORM_TASK = (
    "Show what changed and where the editor is"  # ansible-core 2.19 names it without the role prefix
)


def site(tmp_path, extra_vars: dict, *args: str) -> tuple[int, str, list[dict]]:
    results = tmp_path / f"results-{secrets.token_hex(3)}.jsonl"
    (tmp_path / "vars.json").write_text(json.dumps(extra_vars))
    run = subprocess.run(
        [
            ansible_bin("ansible-playbook"),
            "-i",
            "inventories/local",
            "playbooks/site.yml",
            "-e",
            f"@{tmp_path / 'vars.json'}",
            *args,
        ],
        cwd=REPO_ROOT,
        env={
            **os.environ,
            "ANSIBLE_CONFIG": str(REPO_ROOT / "ansible.cfg"),
            "ANSIBLE_CALLBACK_PLUGINS": str(CALLBACKS),
            "ANSIBLE_CALLBACKS_ENABLED": "task_results",
            "ANSIBLE_NOCOLOR": "1",
            "OCTO_TASK_RESULTS_FILE": str(results),
        },
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    lines = results.read_text().splitlines() if results.exists() else []
    return run.returncode, run.stdout + run.stderr, [json.loads(line) for line in lines]


def changed_tasks(results: list[dict]) -> list[str]:
    return [r["task"] for r in results if r["status"] == "changed"]


def platform_changes(results: list[dict]) -> list:
    (shown,) = [r for r in results if r["task"].endswith(PLATFORM_TASK)]
    return sorted(
        (o["action"], o["kind"], o.get("namespace") or "", o["name"])
        for o in shown["result"]["msg"]["changed"]
    )


def test_site_check_first_and_second_run(kubeconfig, kube_client, tmp_path):
    ns = f"ts-{secrets.token_hex(3)}"
    core = client.CoreV1Api(kube_client)
    volume = tmp_path / "pv"
    volume.mkdir()
    volume.chmod(0o777)
    core.create_persistent_volume(volumes.volume(ns, volume, storage_class=ns))
    extra_vars = {
        "platform_namespace": ns,
        "octo_namespace": f"{ns}-int",
        "octo_base_domain": f"{ns}.localtest.me",
        "octo_state_path": str(tmp_path / "state" / "credentials.json.enc"),
        "octo_state_key": secrets.token_hex(32),
        "platform_postgres_storage_class": ns,
        "octo_kubeconfig": kubeconfig,
    }
    try:
        check_rc, check_output, check = site(tmp_path, extra_vars, "--check", *SKIP)
        assert check_rc == 0, check_output[-4000:]
        first_rc, first_output, first = site(tmp_path, extra_vars, *SKIP)
        assert first_rc == 0, first_output[-4000:]
        second_rc, second_output, second = site(tmp_path, extra_vars, *SKIP)
        assert second_rc == 0, second_output[-4000:]
    finally:
        for name in (ns, f"{ns}-int"):
            try:
                core.delete_namespace(name)
            except ApiException as error:
                if error.status != 404:
                    raise
        core.delete_persistent_volume(ns)
    assert changed_tasks(check) == changed_tasks(first)
    assert "Deploy the integrations" in changed_tasks(first)
    assert platform_changes(check) == platform_changes(first)
    assert ("created", "StatefulSet", ns, "octo-postgres") in platform_changes(first)
    assert changed_tasks(second) == [] and platform_changes(second) == []
    assert extra_vars["octo_state_key"] not in first_output + second_output + check_output
