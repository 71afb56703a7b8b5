"""playbooks/integrations.yml run the way AWX runs a job: ``ansible-runner run`` on a private data dir.

The private data dir is laid out as AWX lays it: the project checkout in project/, inventory/hosts,
env/extravars, and the Kubernetes credential injected as environment variables (env/envvars: the
K8S_AUTH_* variables of AWX's "OpenShift or Kubernetes API Bearer Token" credential, the CA as a file).
The collection is installed from its tarball into requirements_collections/, as AWX does for a project's
collections/requirements.yml. Each job's events are read from artifacts/<ident>/job_events.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from k8s_support import TEST_IMAGE
from kubernetes import client
from support.playbook import REPO_ROOT, VENV_BIN, ansible_bin

TOKEN_CONTEXT = "octo-token"
SECRET_PLAYBOOK = [
    {
        "name": "Set the integration secrets",
        "hosts": "all",
        "gather_facts": False,
        "tasks": [
            {
                "name": "Write the API key",
                "octo.platform.integration_secret": {
                    "namespace": "{{ octo_namespace }}",
                    "values": {"API_KEY": "{{ octo_api_key }}"},
                },
            }
        ],
    }
]


@pytest.fixture(scope="module")
def collections(tmp_path_factory) -> Path:
    """The collection built and installed from its tarball, as AWX installs a project's collections."""
    work = tmp_path_factory.mktemp("awx-collections")
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANSIBLE_")}
    galaxy = ansible_bin("ansible-galaxy")
    for command in (
        [galaxy, "collection", "build", str(REPO_ROOT), "--output-path", str(work)],
        [galaxy, "collection", "install", "-p", str(work / "requirements_collections"), "--force"],
    ):
        if command[2] == "install":
            command.append(str(next(work.glob("octo-platform-*.tar.gz"))))
        done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300, check=False)
        assert done.returncode == 0, done.stderr
    return work / "requirements_collections"


@pytest.fixture
def awx_namespace(kube_client):
    """A namespace name that does not exist yet (the first job creates it); deleted afterwards."""
    name = f"awx-{secrets.token_hex(4)}"
    yield name
    client.CoreV1Api(kube_client).delete_namespace(name)


@pytest.fixture
def credential(kubeconfig, tmp_path) -> dict:
    """What AWX's Kubernetes bearer-token credential injects: host, token, CA file, verify flag."""
    config = yaml.safe_load(Path(kubeconfig).read_text())
    context = next(c["context"] for c in config["contexts"] if c["name"] == TOKEN_CONTEXT)
    cluster = next(c["cluster"] for c in config["clusters"] if c["name"] == context["cluster"])
    token = next(u["user"]["token"] for u in config["users"] if u["name"] == context["user"])
    return {"server": cluster["server"], "token": token, "ca": cluster["certificate-authority-data"]}


def private_data_dir(root: Path, collections: Path, credential: dict, extravars: dict) -> Path:
    project = root / "project"
    shutil.copytree(REPO_ROOT / "playbooks", project / "playbooks")
    shutil.copytree(REPO_ROOT / "samples", project / "samples")
    (project / "playbooks" / "secrets.yml").write_text(yaml.safe_dump(SECRET_PLAYBOOK, sort_keys=False))
    (root / "inventory").mkdir()
    (root / "inventory" / "hosts").write_text(
        f"localhost ansible_connection=local ansible_python_interpreter={VENV_BIN / 'python'}\n"
    )
    (root / "env").mkdir()
    ca_file = root / "env" / "k8s-ca.crt"
    ca_file.write_bytes(base64.b64decode(credential["ca"]))
    (root / "env" / "extravars").write_text(yaml.safe_dump(extravars))
    (root / "env" / "cmdline").write_text("-vvv")  # verbose jobs show each module's invocation in the events
    envvars = {
        "K8S_AUTH_HOST": credential["server"],
        "K8S_AUTH_API_KEY": credential["token"],
        "K8S_AUTH_SSL_CA_CERT": str(ca_file),
        "K8S_AUTH_VERIFY_SSL": "True",
        "ANSIBLE_COLLECTIONS_PATH": str(collections),
        "ANSIBLE_INJECT_INVOCATION": "True",  # ansible-core 2.21+ leaves the module arguments out by default
    }
    (root / "env" / "envvars").write_text(yaml.safe_dump(envvars))
    return root


def run_job(data_dir: Path, playbook: str, ident: str) -> tuple[int, Path]:
    """``ansible-runner run`` in a clean environment (no kubeconfig, no ansible.cfg of this checkout)."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("ANSIBLE_", "K8S_AUTH_")) and k not in ("KUBECONFIG", "OCTO_TEST_KUBECONFIG")
    }
    env.update(HOME=str(data_dir / "home"), PATH=f"{VENV_BIN}:{env.get('PATH', '')}")
    command = [ansible_bin("ansible-runner"), "run", str(data_dir), "-p", playbook, "--ident", ident]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600, check=False)
    return done.returncode, data_dir / "artifacts" / ident


def events(artifacts: Path) -> list[dict]:
    found = [json.loads(path.read_text()) for path in (artifacts / "job_events").glob("*.json")]
    return sorted(found, key=lambda event: event["counter"])


def ok_result(artifacts: Path, task: str) -> dict:
    [event] = [
        e for e in events(artifacts) if e["event"] == "runner_on_ok" and e["event_data"]["task"] == task
    ]
    return event["event_data"]["res"]


def leaked(artifacts: Path, *values: str) -> list[str]:
    """Files of the job's events and stdout that contain any of values."""
    files = [*(artifacts / "job_events").glob("*.json"), artifacts / "stdout"]
    return [str(path) for path in files if any(value in path.read_text() for value in values)]


def test_integrations_playbook_as_an_awx_job(kube_client, collections, credential, awx_namespace, tmp_path):
    sentinel = f"sentinel-api-key-{secrets.token_hex(8)}"
    extravars = {
        "octo_namespace": awx_namespace,
        "octo_api_key": sentinel,  # as a custom credential injects it
        "octo_image": TEST_IMAGE,
        "octo_tls_mode": "none",
        "octo_integrations": [
            {
                "slug": "http-orders",
                "deployment_id": "http-orders-awx",
                "definition_file": "{{ playbook_dir }}/../samples/http-orders.yaml",
                "env": {"API_KEY": {"secret": "API_KEY"}},
            }
        ],
    }
    data_dir = private_data_dir(tmp_path, collections, credential, extravars)

    rc, secret_job = run_job(data_dir, "playbooks/secrets.yml", "secret-job")
    assert rc == 0, (secret_job / "stdout").read_text()
    written = ok_result(secret_job, "Write the API key")
    assert written["changed"] is True
    assert written["namespace_created"] is True
    assert written["invocation"]["module_args"]["values"] == {
        "API_KEY": "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER"
    }
    stored = client.CoreV1Api(kube_client).read_namespaced_secret("octo-secrets", awx_namespace)
    assert base64.b64decode(stored.data["API_KEY"]).decode() == sentinel

    rc, deploy_job = run_job(data_dir, "playbooks/integrations.yml", "deploy-job")
    assert rc == 0, (deploy_job / "stdout").read_text()
    assert (deploy_job / "status").read_text() == "successful"
    deployed = ok_result(deploy_job, "Deploy the integrations")
    assert deployed["changed"] is True
    [item] = deployed["integrations"]
    assert (item["slug"], item["deployment_id"], item["outcome"]) == (
        "http-orders",
        "http-orders-awx",
        "applied",
    )
    assert item["namespace"] == awx_namespace and "namespace_created" not in item
    assert {"kind": "Deployment", "name": "octo-dep-http-orders-awx", "action": "create"} in item["objects"]
    assert item["rollout"]["state"] == "complete"
    assert deployed["invocation"]["module_args"]["api_key"] == "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER"
    [stats] = [e for e in events(deploy_job) if e["event"] == "playbook_on_stats"]
    assert stats["event_data"]["changed"] == {"localhost": 1}

    deployment = client.AppsV1Api(kube_client).read_namespaced_deployment(
        "octo-dep-http-orders-awx", awx_namespace
    )
    [api_key] = [e for e in deployment.spec.template.spec.containers[0].env if e.name == "API_KEY"]
    assert (api_key.value_from.secret_key_ref.name, api_key.value_from.secret_key_ref.key) == (
        "octo-secrets",
        "API_KEY",
    )

    rc, again = run_job(data_dir, "playbooks/integrations.yml", "again-job")
    assert rc == 0, (again / "stdout").read_text()
    assert ok_result(again, "Deploy the integrations")["changed"] is False

    for job in (secret_job, deploy_job, again):
        assert events(job), job
        assert leaked(job, sentinel, credential["token"]) == []
    encoded = base64.b64encode(sentinel.encode()).decode()
    assert leaked(secret_job, encoded) == []
