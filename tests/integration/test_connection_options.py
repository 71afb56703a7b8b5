"""kubernetes.core's connection options against the real API server: client certificates, a kubeconfig
mapping, basic auth, impersonation with RBAC, an HTTP proxy (CONNECT) and no_proxy, and their K8S_AUTH_*
environment fallbacks through a real ansible-playbook run; and group/kubernetes.core.k8s module defaults."""

from __future__ import annotations

import base64
import http.server
import json
import secrets
import select
import socket
import socketserver
import threading
import time
from pathlib import Path

import pytest
import yaml
from k8s_support import TEST_IMAGE, sample
from kubernetes import client
from support.playbook import REPO_ROOT, run_tasks

from ansible_collections.octo.platform.plugins.module_utils.common.errors import OctoError, ValidationError
from ansible_collections.octo.platform.plugins.module_utils.kube import resources as res
from ansible_collections.octo.platform.plugins.module_utils.kube.client import ApiError, Kube

RBAC_SECONDS = 30  # how long a new RoleBinding may take to reach the authorizer
NO_KUBECONFIG = {"K8S_AUTH_KUBECONFIG": "", "KUBECONFIG": ""}


@pytest.fixture
def cluster(kubeconfig, tmp_path):
    """Server URL and PEM files (CA, the admin's client certificate and key) of the test cluster."""
    config = yaml.safe_load(Path(kubeconfig).read_text())
    context = next(c["context"] for c in config["contexts"] if c["name"] == config["current-context"])
    server = next(c["cluster"] for c in config["clusters"] if c["name"] == context["cluster"])
    user = next(u["user"] for u in config["users"] if u["name"] == context["user"])
    files = {}
    for name, data in (
        ("ca", server["certificate-authority-data"]),
        ("cert", user["client-certificate-data"]),
        ("key", user["client-key-data"]),
    ):
        files[name] = tmp_path / f"{name}.pem"
        files[name].write_bytes(base64.b64decode(data))
    return {"server": server["server"], "config": config, **{k: str(v) for k, v in files.items()}}


# --- client certificates ----------------------------------------------------------------------------------


def test_client_cert_and_key_authenticate_without_a_kubeconfig(cluster, namespace):
    auth = {"host": cluster["server"], "ca_cert": cluster["ca"]}
    with pytest.raises(ApiError) as anonymous:
        Kube(auth).list(res.DEPLOYMENT, namespace)
    assert anonymous.value.status in (401, 403)
    kube = Kube({**auth, "client_cert": cluster["cert"], "client_key": cluster["key"]})
    kube.apply(
        res.CONFIG_MAP, {**res.CONFIG_MAP.header, "metadata": {"name": "by-cert", "namespace": namespace}}
    )
    assert "by-cert" in [cm["metadata"]["name"] for cm in kube.list(res.CONFIG_MAP, namespace)]


def test_cert_file_aliases_and_env_fallbacks_in_a_playbook(cluster, namespace):
    by_alias = {
        "namespace": namespace,
        "host": cluster["server"],
        "ca_cert": cluster["ca"],
        "cert_file": cluster["cert"],
        "key_file": cluster["key"],
    }
    env = {
        **NO_KUBECONFIG,
        "K8S_AUTH_HOST": cluster["server"],
        "K8S_AUTH_SSL_CA_CERT": cluster["ca"],
        "K8S_AUTH_CERT_FILE": cluster["cert"],
        "K8S_AUTH_KEY_FILE": cluster["key"],
    }
    run = run_tasks(
        [
            {"name": "by alias", "octo.platform.integration_secret_info": by_alias},
            {"name": "by env", "octo.platform.integration_secret_info": {"namespace": namespace}},
        ],
        env=env,
    )
    assert run.rc == 0, run.output
    assert run.task("by alias")["result"]["secrets"] == []
    assert run.task("by env")["result"]["namespace"] == namespace


# --- kubeconfig as a mapping ------------------------------------------------------------------------------


def test_kubeconfig_as_a_mapping(cluster, namespace):
    kube = Kube({"kubeconfig": cluster["config"], "context": "octo-token"})
    assert kube.list(res.DEPLOYMENT, namespace) == []
    assert kube.host == cluster["server"]


def test_kubeconfig_mapping_from_module_defaults(kubeconfig, namespace):
    block = {
        "module_defaults": {
            "group/octo.platform.k8s": {"kubeconfig": f"{{{{ lookup('file', '{kubeconfig}') | from_yaml }}}}"}
        },
        "block": [{"name": "info", "octo.platform.integration_info": {"namespace": namespace}}],
    }
    run = run_tasks([block], env=NO_KUBECONFIG)
    assert run.rc == 0, run.output
    assert run.task("info")["result"]["deployments"] == []


def test_kubeconfig_path_expands_home_and_variables(kubeconfig, namespace, tmp_path, monkeypatch):
    """kubeconfig is of type raw now (path or mapping), so the module expands a path as type path did."""
    (tmp_path / "kc").write_text(Path(kubeconfig).read_text())
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("OCTO_KC_DIR", str(tmp_path))
    for path in ("~/kc", "$OCTO_KC_DIR/kc"):
        assert Kube({"kubeconfig": path}).list(res.DEPLOYMENT, namespace) == []


def test_a_kubeconfig_that_is_neither_path_nor_mapping_is_refused():
    with pytest.raises(ValidationError) as err:
        Kube({"kubeconfig": ["not", "a", "config"]})
    assert str(err.value) == (
        "Failed to validate the Kubernetes connection: kubeconfig: must be a path or a kubeconfig mapping"
    )


# --- basic auth -------------------------------------------------------------------------------------------


class _Recorder(http.server.BaseHTTPRequestHandler):
    """Answers every GET with a 404 Status (nothing there) and keeps the request headers."""

    def do_GET(self):
        self.server.seen.append(self.headers)  # case-insensitive
        body = json.dumps({"kind": "Status", "code": 404, "reason": "NotFound"}).encode()
        self.send_response(404)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def recorder():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    server.seen = []
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server
    server.shutdown()
    server.server_close()


def test_username_and_password_send_basic_auth(recorder):
    host = f"http://127.0.0.1:{recorder.server_address[1]}"
    Kube({"host": host, "username": "ada", "password": "pa:ss"}).list(res.CONFIG_MAP, "default")
    Kube({"host": host, "username": "ada", "password": "pa:ss", "api_key": "tok"}).list(
        res.CONFIG_MAP, "default"
    )
    basic = "Basic " + base64.b64encode(b"ada:pa:ss").decode()
    assert [seen.get("Authorization") for seen in recorder.seen] == [basic, "Bearer tok"]


def test_basic_auth_env_fallbacks_in_a_playbook_never_show_the_password(recorder):
    password = f"sentinel-password-{secrets.token_hex(4)}"
    env = {
        **NO_KUBECONFIG,
        "K8S_AUTH_HOST": f"http://127.0.0.1:{recorder.server_address[1]}",
        "K8S_AUTH_USERNAME": "ada",
        "K8S_AUTH_PASSWORD": password,
    }
    run = run_tasks([{"name": "info", "octo.platform.integration_secret_info": {}}], env=env, verbosity=3)
    assert run.rc == 0, run.output
    assert run.task("info")["result"]["secrets"] == []
    expected = "Basic " + base64.b64encode(f"ada:{password}".encode()).decode()
    assert [seen.get("Authorization") for seen in recorder.seen] == [expected]
    assert password not in run.output
    assert expected.split()[1] not in run.output


def test_the_real_api_server_has_no_basic_auth(cluster):
    """Kubernetes 1.19+ dropped basic auth: the 1.20 API server takes the request as anonymous."""
    kube = Kube({"host": cluster["server"], "ca_cert": cluster["ca"], "username": "admin", "password": "x"})
    with pytest.raises(ApiError) as err:
        kube.list(res.CONFIG_MAP, "default")
    assert err.value.status == 403
    assert 'User "system:anonymous" cannot list' in str(err.value)


@pytest.mark.parametrize(
    ("auth", "message"),
    [
        ({"username": "ada"}, "username: requires password"),
        ({"password": "secret-value"}, "password: requires username"),
        ({"client_key": "/k.pem"}, "client_key: requires client_cert"),
        ({"impersonate_groups": ["g"]}, "impersonate_groups: requires impersonate_user"),
    ],
)
def test_options_that_go_together(auth, message):
    with pytest.raises(ValidationError) as err:
        Kube({"host": "http://127.0.0.1:1", **auth})
    assert str(err.value) == f"Failed to validate the Kubernetes connection: {message}"
    assert "secret-value" not in str(err.value)


# --- impersonation ----------------------------------------------------------------------------------------


def _bind(kube_client, namespace: str, subject: dict) -> None:
    client.RbacAuthorizationV1Api(kube_client).create_namespaced_role_binding(
        namespace,
        {
            "metadata": {"name": f"view-{secrets.token_hex(3)}"},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "view"},
            "subjects": [{"apiGroup": "rbac.authorization.k8s.io", **subject}],
        },
    )


def _list_once_allowed(kube: Kube, namespace: str) -> list:
    """Lists Deployments, retrying a 403 until the authorizer has seen a new RoleBinding."""
    deadline = time.monotonic() + RBAC_SECONDS
    while True:
        try:
            return kube.list(res.DEPLOYMENT, namespace)
        except ApiError as err:
            if err.status != 403 or time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def test_impersonated_user_needs_a_role_binding(kubeconfig, kube_client, namespace):
    user = f"octo-nobody-{secrets.token_hex(3)}"
    kube = Kube({"kubeconfig": kubeconfig, "impersonate_user": user})
    with pytest.raises(ApiError) as err:
        kube.list(res.DEPLOYMENT, namespace)
    assert err.value.status == 403
    assert f'User "{user}" cannot list resource "deployments"' in str(err.value)
    _bind(kube_client, namespace, {"kind": "User", "name": user})
    assert _list_once_allowed(kube, namespace) == []


def test_impersonated_groups_each_count(kubeconfig, kube_client, namespace):
    group = f"octo-readers-{secrets.token_hex(3)}"
    auth = {"kubeconfig": kubeconfig, "impersonate_user": "octo-someone"}
    with pytest.raises(ApiError) as err:
        Kube({**auth, "impersonate_groups": ["octo-other", group]}).list(res.DEPLOYMENT, namespace)
    assert err.value.status == 403
    _bind(kube_client, namespace, {"kind": "Group", "name": group})
    assert _list_once_allowed(Kube({**auth, "impersonate_groups": ["octo-other", group]}), namespace) == []
    with pytest.raises(ApiError) as without:
        Kube({**auth, "impersonate_groups": ["octo-other"]}).list(res.DEPLOYMENT, namespace)
    assert without.value.status == 403


def test_impersonation_env_fallbacks_in_a_playbook(kubeconfig, kube_client, namespace):
    group = f"octo-readers-{secrets.token_hex(3)}"
    env = {"K8S_AUTH_IMPERSONATE_USER": "octo-someone", "K8S_AUTH_IMPERSONATE_GROUPS": f"octo-other,{group}"}
    task = [{"name": "info", "octo.platform.integration_info": {"namespace": namespace}}]
    refused = run_tasks(task, env=env)
    assert refused.rc != 0
    assert "403" in refused.task("info")["result"]["msg"]
    assert 'User "octo-someone" cannot list' in refused.task("info")["result"]["msg"]
    _bind(kube_client, namespace, {"kind": "Group", "name": group})
    _list_once_allowed(
        Kube({"kubeconfig": kubeconfig, "impersonate_user": "x", "impersonate_groups": [group]}), namespace
    )
    allowed = run_tasks(task, env=env)
    assert allowed.rc == 0, allowed.output
    assert allowed.task("info")["result"]["deployments"] == []


# --- proxy ------------------------------------------------------------------------------------------------


class _Tunnel(socketserver.ThreadingMixIn, socketserver.TCPServer):
    daemon_threads = True
    allow_reuse_address = True


class _ConnectProxy(socketserver.StreamRequestHandler):
    """An HTTP proxy that tunnels CONNECT requests and keeps each request line and its headers."""

    def handle(self):
        head = []
        while (line := self.rfile.readline().decode("latin-1").rstrip("\r\n")) != "":
            head.append(line)
        self.server.seen.append(head)
        host, port = head[0].split()[1].rsplit(":", 1)
        with socket.create_connection((host, int(port))) as upstream:
            self.wfile.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
            self.wfile.flush()
            _pump(self.connection, upstream)


def _pump(one: socket.socket, other: socket.socket) -> None:
    while True:
        ready, _, _ = select.select([one, other], [], [], 30)
        if not ready:
            return
        for sock in ready:
            data = sock.recv(65536)
            if not data:
                return
            (other if sock is one else one).sendall(data)


@pytest.fixture
def proxy():
    server = _Tunnel(("127.0.0.1", 0), _ConnectProxy)
    server.seen = []
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server
    server.shutdown()
    server.server_close()


def test_proxy_tunnels_with_proxy_headers(kubeconfig, cluster, namespace, proxy):
    url = f"http://127.0.0.1:{proxy.server_address[1]}"
    headers = {"proxy_basic_auth": "pu:pp", "user_agent": "octo-test"}
    kube = Kube({"kubeconfig": kubeconfig, "proxy": url, "proxy_headers": headers})
    assert kube.list(res.DEPLOYMENT, namespace) == []
    [head] = proxy.seen
    assert head[0].startswith(f"CONNECT {cluster['server'].removeprefix('https://')} HTTP/1.")  # 1.0 on 3.11
    lines = [line.lower() for line in head]
    assert "proxy-authorization: basic " + base64.b64encode(b"pu:pp").decode().lower() in lines
    assert "user-agent: octo-test" in lines


@pytest.mark.parametrize("no_proxy", ["127.0.0.1", "example.org, 127.0.0.0/8", "*"])
def test_no_proxy_bypasses_the_proxy(kubeconfig, namespace, proxy, no_proxy):
    url = f"http://127.0.0.1:{proxy.server_address[1]}"
    assert (
        Kube({"kubeconfig": kubeconfig, "proxy": url, "no_proxy": no_proxy}).list(res.DEPLOYMENT, namespace)
        == []
    )
    assert proxy.seen == []


def test_proxy_env_fallbacks_in_a_playbook(namespace, proxy):
    url = f"http://127.0.0.1:{proxy.server_address[1]}"
    task = [{"name": "info", "octo.platform.integration_info": {"namespace": namespace}}]
    through = run_tasks(task, env={"K8S_AUTH_PROXY": url})
    assert through.rc == 0, through.output
    assert len(proxy.seen) == 1
    bypassed = run_tasks(task, env={"K8S_AUTH_PROXY": url, "K8S_AUTH_NO_PROXY": "127.0.0.1"})
    assert bypassed.rc == 0, bypassed.output
    assert len(proxy.seen) == 1


def test_an_unreachable_proxy_is_a_clear_error(kubeconfig):
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    kube = Kube({"kubeconfig": kubeconfig, "proxy": f"http://127.0.0.1:{port}", "request_timeout": 2})
    with pytest.raises(OctoError) as err:
        kube.list(res.CONFIG_MAP, "default")
    assert str(err.value).startswith(f"Failed to read ConfigMap list: cannot reach {kube.host}: ")


# --- module defaults of kubernetes.core's group -------------------------------------------------------------

# kubernetes.core's own action group (its meta/runtime.yml), all ansible-core reads of that collection to
# resolve `group/kubernetes.core.k8s`: the collection itself is not installed here.
KUBERNETES_CORE_RUNTIME = {
    "requires_ansible": ">=2.15.0",
    "action_groups": {"k8s": ["k8s", "k8s_info", "k8s_exec", "k8s_log", "k8s_scale", "k8s_service"]},
}


@pytest.fixture
def kubernetes_core_metadata(tmp_path) -> dict:
    root = tmp_path / "collections" / "ansible_collections" / "kubernetes" / "core"
    (root / "meta").mkdir(parents=True)
    (root / "meta" / "runtime.yml").write_text(yaml.safe_dump(KUBERNETES_CORE_RUNTIME))
    manifest = {"collection_info": {"namespace": "kubernetes", "name": "core", "version": "6.0.0"}}
    (root / "MANIFEST.json").write_text(json.dumps(manifest))
    # The ansible package (bench) ships the real kubernetes.core: not scanning sys.path keeps this one.
    return {
        "ANSIBLE_COLLECTIONS_PATH": f"{tmp_path / 'collections'}:{REPO_ROOT / 'collections'}",
        "ANSIBLE_COLLECTIONS_SCAN_SYS_PATH": "False",
    }


def test_kubernetes_core_group_defaults_reach_every_kubernetes_module(
    kubeconfig, namespace, kubernetes_core_metadata
):
    group = {"kubeconfig": kubeconfig, "context": "octo-token", "namespace": "{{ test_namespace }}"}
    item = {"slug": "nightly-report", "deployment_id": "nr-1", "definition": sample("nightly-report")}
    item["env"] = {"REPORT_BUCKET": "reports"}
    tasks = [
        {
            "name": "secret",
            "octo.platform.integration_secret": {"values": {"API_KEY": "group-defaults-value"}},
        },
        {"name": "single", "octo.platform.integration": {**item, "image": TEST_IMAGE, "wait_sleep": 1}},
        {"name": "bulk", "octo.platform.integrations": {"integrations": [item], "image": TEST_IMAGE}},
        {"name": "info", "octo.platform.integration_info": {}},
        {"name": "catalog", "octo.platform.integration_secret_info": {}},
    ]
    block = {"module_defaults": {"group/kubernetes.core.k8s": group}, "block": tasks}
    env = {**NO_KUBECONFIG, **kubernetes_core_metadata}
    run = run_tasks([block], env=env, extra_vars={"test_namespace": namespace})
    assert run.rc == 0, run.output
    for name in ("secret", "single", "catalog"):
        assert run.task(name)["result"]["namespace"] == namespace
    assert run.task("single")["result"]["rollout"]["state"] == "complete"
    assert run.task("bulk")["result"]["integrations"][0]["namespace"] == namespace
    [deployment] = run.task("info")["result"]["deployments"]
    assert (deployment["namespace"], deployment["deployment_id"]) == (namespace, "nr-1")
    assert [s["name"] for s in run.task("catalog")["result"]["secrets"]] == ["API_KEY"]


def test_task_args_then_own_group_win_over_kubernetes_core_group(
    kubeconfig, namespace, kubernetes_core_metadata
):
    defaults = {
        "group/kubernetes.core.k8s": {
            "kubeconfig": "/nonexistent/kubeconfig",
            "namespace": "from-kubernetes-core",
        },
        "group/octo.platform.k8s": {"kubeconfig": kubeconfig, "namespace": "from-octo-group"},
    }
    block = {
        "module_defaults": defaults,
        "block": [
            {"name": "own group", "octo.platform.integration_secret_info": {}},
            {"name": "task", "octo.platform.integration_secret_info": {"namespace": namespace}},
        ],
    }
    run = run_tasks([block], env={**NO_KUBECONFIG, **kubernetes_core_metadata})
    assert run.rc == 0, run.output
    assert run.task("own group")["result"]["namespace"] == "from-octo-group"
    assert run.task("task")["result"]["namespace"] == namespace


def test_kubernetes_core_group_needs_kubernetes_core_installed(kubeconfig):
    """ansible-core refuses a module_defaults group of a collection it cannot find, before any task."""
    block = {
        "module_defaults": {"group/kubernetes.core.k8s": {"kubeconfig": kubeconfig}},
        "block": [{"name": "info", "octo.platform.integration_info": {}}],
    }
    run = run_tasks(
        [block], env={"ANSIBLE_COLLECTIONS_SCAN_SYS_PATH": "False"}
    )  # as without the ansible package
    assert run.rc != 0
    assert "could not resolve the module_defaults group kubernetes.core.k8s" in run.output
    assert run.results == []
