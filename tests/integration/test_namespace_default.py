"""The namespace default (octo-dev) is documented in every Kubernetes module, and a module that creates a
missing namespace says so in its result (check mode predicts it), through a real ansible-playbook run."""

from __future__ import annotations

import json
import os
import secrets
import subprocess

import pytest
from k8s_support import TEST_IMAGE, sample
from kubernetes import client
from kubernetes.client.rest import ApiException
from support.playbook import REPO_ROOT, ansible_bin, run_tasks

K8S_MODULES = [
    "integration",
    "integrations",
    "integration_info",
    "integration_secret",
    "integration_secret_info",
]
WRITERS = ("integration", "integrations", "integration_secret")


@pytest.fixture
def fresh_namespaces(kube_client):
    """One namespace name per writing module, none of them existing yet; deleted afterwards."""
    names = {module: f"t-new-{secrets.token_hex(4)}" for module in WRITERS}
    yield names
    core = client.CoreV1Api(kube_client)
    for name in names.values():
        try:
            core.delete_namespace(name)
        except ApiException as err:
            if err.status != 404:
                raise


def writing_tasks(names: dict, check: bool) -> list[dict]:
    item = {
        "slug": "nightly-report",
        "deployment_id": "nr-1",
        "definition": sample("nightly-report"),
        "env": {"REPORT_BUCKET": "reports"},
    }
    tasks = [
        {
            "name": "integration_secret",
            "octo.platform.integration_secret": {
                "namespace": names["integration_secret"],
                "values": {"API_KEY": "value-of-the-namespace-test"},
            },
        },
        {
            "name": "integration",
            "octo.platform.integration": {
                **item,
                "namespace": names["integration"],
                "image": TEST_IMAGE,
                "wait": False,
            },
        },
        {
            "name": "integrations",
            "octo.platform.integrations": {
                "namespace": names["integrations"],
                "image": TEST_IMAGE,
                "wait": False,
                "integrations": [item],
            },
        },
    ]
    return [{**task, "check_mode": check} for task in tasks]


def created_flags(run) -> dict:
    results = {module: run.task(module)["result"] for module in WRITERS}
    results["integrations"] = results["integrations"]["integrations"][0]
    return {module: result.get("namespace_created") for module, result in results.items()}


def existing(kube_client, names: dict) -> set[str]:
    found = {ns.metadata.name for ns in client.CoreV1Api(kube_client).list_namespace().items}
    return {module for module, name in names.items() if name in found}


def test_writers_say_when_they_create_the_namespace(kubeconfig, kube_client, fresh_namespaces):
    predicted = run_tasks(writing_tasks(fresh_namespaces, check=True))
    assert predicted.rc == 0, predicted.output
    assert created_flags(predicted) == dict.fromkeys(WRITERS, True)
    assert all(predicted.task(module)["result"]["changed"] for module in WRITERS)
    assert existing(kube_client, fresh_namespaces) == set()

    created = run_tasks(writing_tasks(fresh_namespaces, check=False))
    assert created.rc == 0, created.output
    assert created_flags(created) == dict.fromkeys(WRITERS, True)
    assert existing(kube_client, fresh_namespaces) == set(WRITERS)

    again = run_tasks(writing_tasks(fresh_namespaces, check=False))
    assert again.rc == 0, again.output
    assert created_flags(again) == dict.fromkeys(WRITERS)
    assert [again.task(module)["status"] for module in WRITERS] == ["ok"] * 3


def test_without_a_namespace_the_modules_use_octo_dev(kubeconfig):
    run = run_tasks([{"name": "info", "octo.platform.integration_secret_info": {}}])
    assert run.rc == 0, run.output
    assert run.task("info")["result"]["namespace"] == "octo-dev"


@pytest.mark.parametrize("module", K8S_MODULES)
def test_every_kubernetes_module_documents_the_default(module):
    env = {k: v for k, v in os.environ.items() if k != "ANSIBLE_CONFIG"}
    env["ANSIBLE_CONFIG"] = str(REPO_ROOT / "ansible.cfg")
    doc = subprocess.run(
        [ansible_bin("ansible-doc"), "--json", f"octo.platform.{module}"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    [entry] = json.loads(doc.stdout).values()
    documentation = entry["doc"]
    assert documentation["options"]["namespace"]["default"] == "octo-dev"
    description = " ".join(documentation["description"])
    assert "The namespace defaults to C(octo-dev) when O(namespace) is not given" in description
    if module in WRITERS:
        assert "the result then says C(namespace_created=true)" in description
    else:
        assert "never creates it" in description
