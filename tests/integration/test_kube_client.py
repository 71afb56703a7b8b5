"""The Kubernetes client against the real API server: every auth form, token renewal, bounds, racing applies."""

from __future__ import annotations

import base64
import json
import os
import secrets
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest
import yaml
from k8s_support import TEST_IMAGE, sample
from kubernetes import client
from support.playbook import REPO_ROOT, run_tasks

from ansible_collections.octo.platform.plugins.module_utils.common.errors import OctoError
from ansible_collections.octo.platform.plugins.module_utils.kube import client as client_module
from ansible_collections.octo.platform.plugins.module_utils.kube import resources as res
from ansible_collections.octo.platform.plugins.module_utils.kube.client import ApiError, Kube

TOKEN_CONTEXT = "octo-token"  # the local cluster's kubeconfig: a static token of the apiserver's token file
EXEC_API = "client.authentication.k8s.io/v1beta1"
SERVICE_ACCOUNT_DIR = "/var/run/secrets/kubernetes.io/serviceaccount"


def config_map(namespace: str, name: str, **data) -> dict:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name, "namespace": namespace},
        "data": data,
    }


@pytest.fixture
def access(kubeconfig, tmp_path):
    """Server URL, CA file and static token of the test cluster, taken from its kubeconfig."""
    config = yaml.safe_load(Path(kubeconfig).read_text())
    context = next(c["context"] for c in config["contexts"] if c["name"] == TOKEN_CONTEXT)
    cluster = next(c["cluster"] for c in config["clusters"] if c["name"] == context["cluster"])
    user = next(u["user"] for u in config["users"] if u["name"] == context["user"])
    ca_file = tmp_path / "ca.crt"
    ca_file.write_bytes(base64.b64decode(cluster["certificate-authority-data"]))
    return {"server": cluster["server"], "ca": str(ca_file), "token": user["token"], "cluster": cluster}


def exec_kubeconfig(access: dict, directory: Path, first_token: str | None = None) -> tuple[Path, Path]:
    """A kubeconfig whose user is an exec plugin (as GKE and EKS use); returns it and the plugin's call log.

    The plugin's credential is always expired, so the loader runs it again before each request;
    ``first_token`` replaces the token of the first run only.
    """
    calls = directory / "exec-calls"
    plugin = directory / "credential-plugin"
    status = {"token": "TOKEN", "expirationTimestamp": "2000-01-01T00:00:00Z"}
    credential = {"apiVersion": EXEC_API, "kind": "ExecCredential", "status": status}
    template = json.dumps(credential).replace('"TOKEN"', '"%s"')
    plugin.write_text(
        "#!/bin/sh\n"
        f'echo run >> "{calls}"\n'
        f'token="{access["token"]}"\n'
        f'if [ "$(wc -l < "{calls}")" -eq 1 ] && [ -n "{first_token or ""}" ]; then token="{first_token}"; fi\n'
        f"printf '{template}' \"$token\"\n"
    )
    plugin.chmod(0o700)
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "octo", "cluster": access["cluster"]}],
        "users": [{"name": "plugin", "user": {"exec": {"apiVersion": EXEC_API, "command": str(plugin)}}}],
        "contexts": [{"name": "octo-exec", "context": {"cluster": "octo", "user": "plugin"}}],
        "current-context": "octo-exec",
    }
    path = directory / "exec-kubeconfig"
    path.write_text(yaml.safe_dump(config))
    return path, calls


@pytest.mark.parametrize(
    "form", ["client certificate", "kubeconfig token", "api_key and host", "exec plugin"]
)
def test_every_auth_form_reads_and_writes(kubeconfig, namespace, access, tmp_path, form):
    auth = {
        "client certificate": {"kubeconfig": kubeconfig},
        "kubeconfig token": {"kubeconfig": kubeconfig, "context": TOKEN_CONTEXT},
        "api_key and host": {"host": access["server"], "api_key": access["token"], "ca_cert": access["ca"]},
        "exec plugin": {"kubeconfig": str(exec_kubeconfig(access, tmp_path)[0])},
    }[form]
    kube = Kube(auth)
    kube.apply(res.CONFIG_MAP, config_map(namespace, "auth-probe", form=form))
    assert kube.get(res.CONFIG_MAP, "auth-probe", namespace)["data"] == {"form": form}


def test_exec_plugin_token_is_renewed_for_each_request(kubeconfig, namespace, access, tmp_path):
    path, calls = exec_kubeconfig(access, tmp_path, first_token="stale-token-of-the-first-run")
    kube = Kube({"kubeconfig": str(path)})  # loading runs the plugin once: the stale, expired token
    assert kube.list(res.CONFIG_MAP, namespace) is not None
    kube.apply(res.CONFIG_MAP, config_map(namespace, "renewed"))
    assert len(calls.read_text().splitlines()) == 3  # loading, then once per request


def test_explicit_api_key_wins_over_the_kubeconfig_plugin(kubeconfig, namespace, access, tmp_path):
    path, calls = exec_kubeconfig(access, tmp_path)
    kube = Kube({"kubeconfig": str(path), "api_key": "not-a-valid-token"})
    with pytest.raises(ApiError, match=r"^Failed to read ConfigMap list: 401 Unauthorized"):
        kube.list(res.CONFIG_MAP, namespace)
    assert len(calls.read_text().splitlines()) == 1  # only the loader's run


def test_modules_with_kubeconfig_token_and_exec_plugin(kubeconfig, namespace, access, tmp_path):
    exec_path, calls = exec_kubeconfig(access, tmp_path)
    deploy = {
        "namespace": namespace,
        "slug": "nightly-report",
        "deployment_id": "report-1",
        "definition": sample("nightly-report"),
        "image": TEST_IMAGE,
        "env": {"REPORT_BUCKET": "reports"},
        "wait_sleep": 1,
    }
    tasks = [
        {
            "name": "deploy with a token",
            "octo.platform.integration": {**deploy, "kubeconfig": kubeconfig, "context": TOKEN_CONTEXT},
        },
        {
            "name": "info with a token",
            "octo.platform.integration_info": {
                "namespace": namespace,
                "kubeconfig": kubeconfig,
                "context": TOKEN_CONTEXT,
            },
        },
        {
            "name": "info with an exec plugin",
            "octo.platform.integration_info": {"namespace": namespace, "kubeconfig": str(exec_path)},
        },
    ]
    run = run_tasks(tasks)
    assert run.rc == 0, run.output
    assert run.task("deploy with a token")["status"] == "changed"
    for task in ("info with a token", "info with an exec plugin"):
        [found] = run.task(task)["result"]["deployments"]
        assert (found["deployment_id"], found["image"]) == ("report-1", TEST_IMAGE)
    assert len(calls.read_text().splitlines()) > 2  # renewed per request inside the module too
    assert access["token"] not in run.output


def test_an_untrusted_certificate_fails_without_retries(kubeconfig, access):
    kube = Kube({"host": access["server"], "api_key": access["token"]})  # the system CAs, not the cluster's
    with pytest.raises(OctoError) as err:
        kube.list(res.CONFIG_MAP, "default")
    assert "CERTIFICATE_VERIFY_FAILED" in str(err.value)
    assert str(err.value).endswith("s (1 attempt)")
    assert access["token"] not in str(err.value)


def test_request_timeout_option_bounds_a_module_call():
    with socket.socket() as silent:  # accepts (in the kernel) and never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        host = f"http://127.0.0.1:{silent.getsockname()[1]}"
        task = {"host": host, "api_key": "sentinel-token-of-the-timeout-test", "request_timeout": 1.5}
        run = run_tasks([{"name": "info", "octo.platform.integration_info": task}])
    assert run.rc != 0
    message = run.task("info")["result"]["msg"]
    assert message.startswith(f"Failed to read Deployment list: cannot reach {host}: no answer after ")
    assert message.endswith("s (1 attempt)")
    assert "sentinel-token-of-the-timeout-test" not in run.output


def test_in_cluster_service_account(kubeconfig, kube_client, namespace, tmp_path):
    """The module side inside a pod: a private mount namespace shows a service account volume.

    A tmpfs over /run (so /var/run) in that namespace holds token, ca.crt and namespace of the
    namespace's default service account, which may only view its namespace.
    """
    rbac = client.RbacAuthorizationV1Api(kube_client)
    rbac.create_namespaced_role_binding(
        namespace,
        {
            "metadata": {"name": "default-view"},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "view"},
            "subjects": [{"kind": "ServiceAccount", "name": "default", "namespace": namespace}],
        },
    )
    Kube({"kubeconfig": kubeconfig}).apply(res.CONFIG_MAP, config_map(namespace, "seen-in-cluster"))
    volume = service_account_volume(kube_client, namespace, tmp_path / "volume")
    host, port = Kube({"kubeconfig": kubeconfig}).host.removeprefix("https://").rsplit(":", 1)
    probe = (
        "import json, sys\n"
        "from ansible_collections.octo.platform.plugins.module_utils.kube import resources as res\n"
        "from ansible_collections.octo.platform.plugins.module_utils.kube.client import Kube\n"
        "kube = Kube({})\n"
        "print(json.dumps([cm['metadata']['name'] for cm in kube.list(res.CONFIG_MAP, sys.argv[1])]))\n"
    )
    script = (
        f'mount -t tmpfs tmpfs /run && mkdir -p {SERVICE_ACCOUNT_DIR} && cp "$1"/* {SERVICE_ACCOUNT_DIR}/ '
        f'&& exec "$2" -c "$3" "$4"'
    )
    env = {k: v for k, v in os.environ.items() if k not in ("K8S_AUTH_KUBECONFIG", "KUBECONFIG")}
    env.update(
        HOME=str(tmp_path),  # no ~/.kube/config
        KUBERNETES_SERVICE_HOST=host,
        KUBERNETES_SERVICE_PORT=port,
        PYTHONPATH=str(REPO_ROOT / "collections"),
    )
    command = ["unshare", "--mount", "--propagation", "private", "sh", "-c", script, "sh", str(volume)]
    proc = subprocess.run(
        [*command, sys.executable, probe, namespace],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert "seen-in-cluster" in json.loads(proc.stdout)


def service_account_volume(kube_client, namespace: str, directory: Path) -> Path:
    """What the kubelet mounts for the default service account (from its token Secret, Kubernetes < 1.24)."""
    core = client.CoreV1Api(kube_client)
    account = core.read_namespaced_service_account("default", namespace)
    secret = core.read_namespaced_secret(account.secrets[0].name, namespace)
    directory.mkdir()
    for key in ("token", "ca.crt", "namespace"):
        (directory / key).write_bytes(base64.b64decode(secret.data[key]))
    return directory


def test_racing_applies_of_a_new_object_all_succeed(kubeconfig, namespace):
    """Two clients create the same objects at once, as two playbook runs of one integration do."""
    clients = [Kube({"kubeconfig": kubeconfig}) for _ in range(2)]
    errors: list[Exception] = []
    for round_ in range(15):
        name = f"race-{round_}-{secrets.token_hex(3)}"
        barrier = threading.Barrier(4, timeout=30)
        threads = [
            threading.Thread(
                target=apply_after, args=(kube, barrier, config_map(namespace, name, n=str(i)), errors)
            )
            for i, kube in enumerate(clients * 2)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert clients[0].get(res.CONFIG_MAP, name, namespace)["data"]["n"] in {"0", "1", "2", "3"}
    assert errors == []


def apply_after(kube: Kube, barrier: threading.Barrier, obj: dict, errors: list) -> None:
    barrier.wait()
    try:
        kube.apply(res.CONFIG_MAP, obj)
    except Exception as err:  # collected: the test asserts there are none
        errors.append(err)


def test_list_pages_through_every_item(kubeconfig, namespace, monkeypatch):
    """A LIST larger than a page comes back whole (limit + continue), one read per page; ``keep`` maps each
    item as its page is decoded."""
    writer = Kube({"kubeconfig": kubeconfig})
    for index in range(7):
        writer.apply(res.CONFIG_MAP, config_map(namespace, f"paged-{index}", n=str(index)))
    monkeypatch.setattr(client_module, "PAGE_SIZE", 3)
    kube = Kube({"kubeconfig": kubeconfig})
    listed = kube.list(res.CONFIG_MAP, namespace, keep=lambda item: (item["kind"], item["metadata"]["name"]))
    paged = sorted(name for kind, name in listed if name.startswith("paged-") and kind == "ConfigMap")
    assert paged == [f"paged-{index}" for index in range(7)]
    pages = -(-len(listed) // 3)  # the namespace may hold its kube-root-ca.crt ConfigMap too
    assert kube.requests == {"GET": pages} and pages >= 3
    monkeypatch.setattr(client_module, "PAGE_SIZE", 500)
    assert len(kube.list(res.CONFIG_MAP, namespace)) == len(listed) and kube.reads == pages + 1
