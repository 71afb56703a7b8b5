"""The real node (`cluster.py up --node real`): a kubelet + containerd node runs real pods, and `down`
leaves no process, mount, link, cgroup, sysctl change or iptables chain behind.

The cluster runs in its own state dir and sysctl registry (shared by the tests of this file); the
tests run in file order, the last one takes the cluster down.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest
from cluster import real_node
from images.image_builder import build_image, import_image
from kubernetes import client, config

CLUSTER_SCRIPT = Path(__file__).resolve().parents[1] / "cluster" / "cluster.py"
WAIT_SECONDS = 90
IMAGE = "octo.local/serve:1"
# A tiny static HTTP server: answers every request with the file $SERVE_FILE (404 when it is missing).
SERVER_C = r"""
#include <arpa/inet.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static void on_term(int sig) { (void)sig; _exit(0); }

int main(void) {
  signal(SIGTERM, on_term);
  const char *port = getenv("HTTP_PORT"), *path = getenv("SERVE_FILE");
  int server = socket(AF_INET, SOCK_STREAM, 0), one = 1;
  setsockopt(server, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  struct sockaddr_in address = {.sin_family = AF_INET, .sin_port = htons(atoi(port))};
  if (bind(server, (struct sockaddr *)&address, sizeof address) || listen(server, 16)) return 1;
  for (;;) {
    char buffer[4096];
    int client = accept(server, NULL, NULL);
    if (client < 0) continue;
    if (read(client, buffer, sizeof buffer) < 0) { close(client); continue; }
    FILE *file = fopen(path, "r");
    size_t size = file ? fread(buffer, 1, sizeof buffer, file) : 0;
    if (file) fclose(file);
    dprintf(client, "HTTP/1.0 %s\r\nContent-Length: %zu\r\n\r\n", file ? "200 OK" : "404 Not Found", size);
    if (write(client, buffer, size) < 0) {}
    close(client);
  }
}
"""


@dataclass(frozen=True)
class RealCluster:
    state_dir: Path
    env: dict[str, str]
    layout: real_node.Layout
    sysctls_before: dict[str, str]
    iptables_before: list[str]


def _cluster(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    argv = [sys.executable, str(CLUSTER_SCRIPT), *args]
    return subprocess.run(argv, env=env, capture_output=True, text=True, timeout=300, check=False)


def _iptables() -> list[str]:
    """Chains and rules of every table, without packet counters."""
    out = subprocess.run(["iptables-save"], capture_output=True, text=True, check=True).stdout
    return sorted(re.sub(r"\[\d+:\d+\]", "", line) for line in out.splitlines() if line[:1] in (":", "-"))


def _links() -> set[str]:
    out = subprocess.run(["ip", "-o", "link", "show"], capture_output=True, text=True, check=True).stdout
    return {line.split(":")[1].strip().split("@")[0] for line in out.splitlines()}


def wait_until(what: str, probe, timeout: float = WAIT_SECONDS):
    deadline = time.monotonic() + timeout
    while not (result := probe()):
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.3)
    return result


@pytest.fixture(scope="module")
def real_cluster():
    base = Path(tempfile.mkdtemp(prefix="octo-real-"))
    env = {
        **os.environ,
        "OCTO_CLUSTER_DIR": str(base / "cluster"),
        "OCTO_REAL_NODE_REGISTRY": str(base / "registry"),
    }
    cluster = RealCluster(
        state_dir=base / "cluster",
        env=env,
        layout=real_node.Layout(base / "cluster"),
        sysctls_before=real_node.read_sysctls(),
        iptables_before=_iptables(),
    )
    up = _cluster(env, "up", "--node", "real")
    if up.returncode != 0:
        _cluster(env, "down")
        pytest.fail(f"Failed to start the real-node cluster:\n{up.stdout}{up.stderr}", pytrace=False)
    yield cluster
    _cluster(env, "down")  # a no-op when the last test took it down
    if not real_node.mounts_under(base):  # never delete through a mount
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(scope="module")
def core(real_cluster):
    api_client = config.new_client_from_config(config_file=str(real_cluster.state_dir / "kubeconfig"))
    yield client.CoreV1Api(api_client)
    api_client.close()


@pytest.fixture(scope="module")
def serve_image(real_cluster, tmp_path_factory):
    build_dir = tmp_path_factory.mktemp("serve")
    (build_dir / "serve.c").write_text(SERVER_C)
    subprocess.run(
        ["gcc", "-Os", "-Wall", "-Werror", "-static", "-o", "serve", "serve.c"], cwd=build_dir, check=True
    )
    tar = build_image(IMAGE, {"/serve": ((build_dir / "serve").read_bytes(), 0o755)}, ["/serve"])
    import_image(tar, real_cluster.layout.socket)
    return IMAGE


def _pod(name: str, serve_file: str) -> dict:
    return {
        "metadata": {"name": name},
        "spec": {
            "containers": [
                {
                    "name": "serve",
                    "image": IMAGE,
                    "imagePullPolicy": "Never",
                    "env": [
                        {"name": "HTTP_PORT", "value": "8080"},
                        {"name": "SERVE_FILE", "value": serve_file},
                    ],
                    "readinessProbe": {"httpGet": {"path": "/", "port": 8080}, "periodSeconds": 1},
                    "volumeMounts": [{"name": "greeting", "mountPath": "/etc/greeting"}],
                }
            ],
            "volumes": [{"name": "greeting", "configMap": {"name": "greeting"}}],
            "terminationGracePeriodSeconds": 5,
        },
    }


def _ready(core, name: str):
    pod = core.read_namespaced_pod(name, "default")
    conditions = {c.type: c.status for c in pod.status.conditions or []}
    return pod if conditions.get("Ready") == "True" else None


def test_node_is_ready_and_real(real_cluster, core):
    node = core.read_node(real_node.NODE_NAME)
    assert {c.type: c.status for c in node.status.conditions}["Ready"] == "True"
    assert node.status.node_info.container_runtime_version.startswith("containerd://")
    assert node.status.node_info.kubelet_version == "v1.20.2"
    assert [n.metadata.name for n in core.list_node().items] == [real_node.NODE_NAME]
    status = _cluster(real_cluster.env, "status")
    assert status.returncode == 0
    assert re.search(r"^node\s+real$", status.stdout, re.MULTILINE)
    assert re.search(r"^kubelet\s+running", status.stdout, re.MULTILINE)


def test_up_with_the_other_node_mode_is_refused(real_cluster):
    result = _cluster(real_cluster.env, "up", "--node", "standin")
    assert result.returncode == 1
    assert "Failed to up: the cluster runs with the real node" in result.stderr
    assert _cluster(real_cluster.env, "status").returncode == 0


def test_pod_serves_its_configmap_after_a_real_http_readiness_probe(core, serve_image):
    core.create_namespaced_config_map(
        "default", {"metadata": {"name": "greeting"}, "data": {"message": "hello from a ConfigMap\n"}}
    )
    core.create_namespaced_pod("default", _pod("serve", "/etc/greeting/message"))
    pod = wait_until("pod serve to be Ready", lambda: _ready(core, "serve"))
    assert pod.status.container_statuses[0].state.running is not None
    assert pod.status.host_ip == real_node.host_ip()
    with urllib.request.urlopen(f"http://{pod.status.pod_ip}:8080/", timeout=5) as response:
        assert response.read() == b"hello from a ConfigMap\n"


def test_a_failing_readiness_probe_is_reported_by_the_kubelet(core, serve_image):
    core.create_namespaced_pod("default", _pod("not-found", "/etc/greeting/missing"))

    def unhealthy_event():
        events = core.list_namespaced_event(
            "default", field_selector="involvedObject.name=not-found,reason=Unhealthy"
        ).items
        return [e for e in events if "statuscode: 404" in e.message]

    wait_until("a readiness probe failure event", unhealthy_event)
    pod = core.read_namespaced_pod("not-found", "default")
    assert pod.status.container_statuses[0].state.running is not None
    assert not pod.status.container_statuses[0].ready


def test_down_leaves_nothing_behind(real_cluster, core, serve_image):
    layout = real_cluster.layout
    pids = {int(p.read_text()) for p in (real_cluster.state_dir / "pids").glob("*.pid")}
    pids |= real_node.container_pids(layout)
    links = set(real_node.bridge_links(layout))
    assert layout.bridge in links and len(links) >= 3  # the bridge and the veths of both pods
    assert real_node.mounts_under(real_cluster.state_dir)
    assert list(Path("/sys/fs/cgroup").glob(f"*/{layout.cgroup_name}"))
    assert real_node.read_sysctls()["kernel.panic_on_oops"] == "1"  # set by the kubelet
    uids = [pod.metadata.uid for pod in core.list_namespaced_pod("default").items]
    assert len(uids) == 2
    pod_logs = [path for uid in uids for path in Path("/var/log/pods").glob(f"*_{uid}")]
    assert len(pod_logs) == 2
    host_files = real_node.host_files(layout)
    assert set(pod_logs) < set(host_files)
    assert any(path.parent == Path("/var/lib/cni/results") for path in host_files)

    down = _cluster(real_cluster.env, "down")
    assert down.returncode == 0, down.stderr

    assert [pid for pid in pids if Path(f"/proc/{pid}").exists() and _cmdline_mentions(pid, layout)] == []
    assert real_node.mounts_under(real_cluster.state_dir) == []
    assert links & _links() == set()
    assert list(Path("/sys/fs/cgroup").glob(f"*/{layout.cgroup_name}")) == []
    assert real_node.read_sysctls() == real_cluster.sysctls_before
    assert _iptables() == real_cluster.iptables_before
    assert [path for path in host_files if path.exists() or path.is_symlink()] == []
    assert not real_cluster.state_dir.exists()


def _cmdline_mentions(pid: int, layout: real_node.Layout) -> bool:
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False
    return str(layout.state_dir).encode() in cmdline or b"/serve" in cmdline or b"/pause" in cmdline


def test_up_without_containerd_fails_clearly_and_writes_nothing(tmp_path):
    env = {**os.environ, "OCTO_CLUSTER_DIR": str(tmp_path / "cluster"), "PATH": "/nonexistent"}
    result = _cluster(env, "up", "--node", "real")
    assert result.returncode == 1
    assert re.search(r"Failed to up: containerd, .*ctr.* missing: run tests/cluster/build.sh", result.stderr)
    assert not (tmp_path / "cluster").exists()


def test_up_without_root_fails_clearly_and_writes_nothing(tmp_path):
    # A new user namespace without a uid map: the same files, but euid 65534 and no capability.
    env = {**os.environ, "OCTO_CLUSTER_DIR": str(tmp_path / "cluster")}
    argv = ["unshare", "--user", sys.executable, str(CLUSTER_SCRIPT), "up", "--node", "real"]
    result = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 1
    assert "Failed to up: the real node needs root" in result.stderr
    assert not (tmp_path / "cluster").exists()
