#!/usr/bin/env python3
"""Local Kubernetes control plane for the tests: `cluster.py up|down|status|kubeconfig`.

Runs etcd, kube-apiserver, kube-controller-manager, kube-scheduler (built by build.sh) and a node
stand-in on 127.0.0.1, each detached in its own process group, with state under OCTO_CLUSTER_DIR
(default ~/.cache/octo-platform/cluster). `up --node real` runs a real node instead of the stand-in
(containerd + kubelet, root only: see real_node.py); the mode is kept in the state dir for `status`/`down`.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import fcntl
import json
import os
import shutil
import signal
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import cluster_pki
import local_ports
import real_node
import traefik
import volumes

CACHE_DIR = Path(os.environ.get("OCTO_CACHE_DIR", "~/.cache/octo-platform")).expanduser()
STATE_DIR = Path(os.environ.get("OCTO_CLUSTER_DIR", CACHE_DIR / "cluster")).expanduser()
BIN_DIR = CACHE_DIR / "bin"
PKI = STATE_DIR / "pki"
PIDS = STATE_DIR / "pids"
LOGS = STATE_DIR / "logs"
ETCD_DATA = STATE_DIR / "etcd-data"
PORTS_FILE = STATE_DIR / "ports.json"
KUBECONFIG = STATE_DIR / "kubeconfig"
AUDIT_POLICY = STATE_DIR / "audit-policy.yaml"
AUDIT_LOG = LOGS / "audit.log"  # one JSON line per request: the benchmark counts requests from it
COMPONENT_KUBECONFIGS = STATE_DIR / "kubeconfigs"
NODE_MODE_FILE = STATE_DIR / "node-mode"
VOLUMES_DIR = STATE_DIR / "volumes"  # hostPath PersistentVolumes (volumes.py)
# Everything `down` removes; the state dir itself goes only if nothing else is left in it.
STATE_ENTRIES = (
    PKI,
    PIDS,
    LOGS,
    ETCD_DATA,
    PORTS_FILE,
    KUBECONFIG,
    COMPONENT_KUBECONFIGS,
    AUDIT_POLICY,
    NODE_MODE_FILE,
    VOLUMES_DIR,
)

SERVICE_CIDR = "10.96.0.0/16"
SERVICE_IP = "10.96.0.1"
NODE_NAMES = ("octo-node-1",)
PORT_NAMES = (
    "etcd",
    "etcd_peer",
    "apiserver",
    "controller_manager",
    "scheduler",
    "kubelet",
    "kubelet_healthz",
)
CONTROL_PLANE = ("etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler")
NODE_COMPONENTS = {"standin": ("node-standin",), "real": real_node.COMPONENTS}
# Every process `down` may find: the users first, etcd last when reversed.
COMPONENTS = (*CONTROL_PLANE, "node-standin", *real_node.COMPONENTS)
STOP_GRACE_SECONDS = 10
READY_TIMEOUT_SECONDS = 90


class ClusterError(Exception):
    """A step of bringing the cluster up or down failed."""


def log(message: str) -> None:
    print(f"cluster: {message}", flush=True)


# --- processes -------------------------------------------------------------------------------


def pid_file(name: str) -> Path:
    return PIDS / f"{name}.pid"


def read_pid(name: str) -> int | None:
    try:
        return int(pid_file(name).read_text().strip())
    except (OSError, ValueError):
        return None


def is_alive(pid: int) -> bool:
    """The pid exists and is not a zombie (our own exited children are reaped here)."""
    try:
        if os.waitpid(pid, os.WNOHANG)[0] == pid:
            return False
    except ChildProcessError:
        pass
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def is_ours(pid: int) -> bool:
    """The pid is alive and its command line points into our state dir."""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return False
    return is_alive(pid) and str(STATE_DIR) in cmdline


def running_pids() -> dict[str, int]:
    pids = {}
    for name in COMPONENTS:
        pid = read_pid(name)
        if pid and is_ours(pid):
            pids[name] = pid
    return pids


def start(name: str, argv: list[str]) -> subprocess.Popen:
    LOGS.mkdir(parents=True, exist_ok=True)
    PIDS.mkdir(parents=True, exist_ok=True)
    with open(LOGS / f"{name}.log", "ab") as log_file:
        process = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            cwd=STATE_DIR,
        )
    pid_file(name).write_text(f"{process.pid}\n")
    return process


def stop_all(started: dict[str, subprocess.Popen] | None = None) -> list[str]:
    """Stop the processes we started: their users first, etcd last; SIGKILL after a bounded wait."""
    pids = running_pids()
    pids.update((name, process.pid) for name, process in (started or {}).items() if process.poll() is None)
    for tier in ([n for n in reversed(COMPONENTS) if n != "etcd"], ["etcd"]):
        tier_pids = [pids[name] for name in tier if name in pids]
        for pid in tier_pids:
            _signal(pid, signal.SIGTERM)
        deadline = time.monotonic() + STOP_GRACE_SECONDS
        while time.monotonic() < deadline and any(is_alive(pid) for pid in tier_pids):
            time.sleep(0.1)
        for pid in tier_pids:
            if is_alive(pid):
                _signal(pid, signal.SIGKILL)
    for name in COMPONENTS:
        pid_file(name).unlink(missing_ok=True)
    return [name for name in COMPONENTS if name in pids]


def _signal(pid: int, signum: int) -> None:
    """Signal the process group we created for the pid (it leads its own session), else the pid."""
    try:
        if os.getpgid(pid) == pid:
            os.killpg(pid, signum)
        else:
            os.kill(pid, signum)
    except ProcessLookupError:
        pass


def log_tail(name: str, lines: int = 15) -> str:
    try:
        return "\n".join((LOGS / f"{name}.log").read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


# --- ports and configuration -----------------------------------------------------------------


def choose_ports() -> dict[str, int]:
    """Keep the ports of an earlier start when they are still free, pick new free ones otherwise."""
    try:
        ports = json.loads(PORTS_FILE.read_text())
    except (OSError, ValueError):
        ports = {}
    chosen = local_ports.keep_or_pick(ports, PORT_NAMES, set())
    PORTS_FILE.write_text(json.dumps(chosen, indent=2) + "\n")
    return chosen


def read_ports() -> dict[str, int]:
    return json.loads(PORTS_FILE.read_text())


def b64(path: Path) -> str:
    return base64.b64encode(path.read_bytes()).decode()


def write_kubeconfigs(apiserver_port: int) -> None:
    server = f"https://127.0.0.1:{apiserver_port}"
    cluster = {
        "name": "octo",
        "cluster": {"server": server, "certificate-authority-data": b64(PKI / "ca.crt")},
    }
    admin = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [cluster],
        "users": [
            {
                "name": "octo-admin",
                "user": {
                    "client-certificate-data": b64(PKI / "admin.crt"),
                    "client-key-data": b64(PKI / "admin.key"),
                },
            },
            {"name": "octo-admin-token", "user": {"token": (PKI / "admin.token").read_text().strip()}},
        ],
        "contexts": [
            {"name": "octo", "context": {"cluster": "octo", "user": "octo-admin", "namespace": "default"}},
            {"name": "octo-token", "context": {"cluster": "octo", "user": "octo-admin-token"}},
        ],
        "current-context": "octo",
    }
    _write_yaml(KUBECONFIG, admin)
    COMPONENT_KUBECONFIGS.mkdir(exist_ok=True)
    for component in ("controller-manager", "scheduler"):
        config = {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [
                {"name": "octo", "cluster": {"server": server, "certificate-authority": str(PKI / "ca.crt")}}
            ],
            "users": [
                {
                    "name": component,
                    "user": {
                        "client-certificate": str(PKI / f"{component}.crt"),
                        "client-key": str(PKI / f"{component}.key"),
                    },
                }
            ],
            "contexts": [{"name": "octo", "context": {"cluster": "octo", "user": component}}],
            "current-context": "octo",
        }
        _write_yaml(COMPONENT_KUBECONFIGS / f"{component}.kubeconfig", config)


def _write_yaml(path: Path, data: dict) -> None:
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    path.chmod(0o600)


def binary(name: str) -> str:
    path = shutil.which(name) if name == "etcd" else str(BIN_DIR / name)
    if not path or not os.access(path, os.X_OK):
        raise ClusterError(f"{name} is missing: run tests/cluster/build.sh first")
    return path


def commands(ports: dict[str, int]) -> dict[str, list[str]]:
    etcd_url = f"http://127.0.0.1:{ports['etcd']}"
    peer_url = f"http://127.0.0.1:{ports['etcd_peer']}"
    cm_kubeconfig = str(COMPONENT_KUBECONFIGS / "controller-manager.kubeconfig")
    scheduler_kubeconfig = str(COMPONENT_KUBECONFIGS / "scheduler.kubeconfig")
    return {
        "etcd": [
            binary("etcd"),
            "--name=octo",
            f"--data-dir={ETCD_DATA}",
            f"--listen-client-urls={etcd_url}",
            f"--advertise-client-urls={etcd_url}",
            f"--listen-peer-urls={peer_url}",
            f"--initial-advertise-peer-urls={peer_url}",
            f"--initial-cluster=octo={peer_url}",
            "--log-level=warn",
            "--logger=zap",
        ],
        "kube-apiserver": [
            binary("kube-apiserver"),
            f"--etcd-servers={etcd_url}",
            "--bind-address=127.0.0.1",
            "--advertise-address=127.0.0.1",
            f"--secure-port={ports['apiserver']}",
            "--insecure-port=0",
            f"--tls-cert-file={PKI / 'apiserver.crt'}",
            f"--tls-private-key-file={PKI / 'apiserver.key'}",
            f"--client-ca-file={PKI / 'ca.crt'}",
            f"--token-auth-file={PKI / 'tokens.csv'}",
            "--authorization-mode=Node,RBAC",
            # Request-header (front proxy) auth, which the controllers' delegated authentication reads.
            f"--requestheader-client-ca-file={PKI / 'ca.crt'}",
            "--requestheader-allowed-names=front-proxy-client",
            "--requestheader-username-headers=X-Remote-User",
            "--requestheader-group-headers=X-Remote-Group",
            "--requestheader-extra-headers-prefix=X-Remote-Extra-",
            f"--proxy-client-cert-file={PKI / 'front-proxy-client.crt'}",
            f"--proxy-client-key-file={PKI / 'front-proxy-client.key'}",
            "--enable-admission-plugins=NodeRestriction",
            # Logs and exec on the real node: the kubelet trusts any client certificate of our CA.
            f"--kubelet-client-certificate={PKI / 'admin.crt'}",
            f"--kubelet-client-key={PKI / 'admin.key'}",
            "--kubelet-preferred-address-types=InternalIP,Hostname",
            "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
            f"--service-account-signing-key-file={PKI / 'sa.key'}",
            f"--service-account-key-file={PKI / 'sa.pub'}",
            f"--service-cluster-ip-range={SERVICE_CIDR}",
            # The Endpoints reconciler refuses a loopback advertise address.
            "--endpoint-reconciler-type=none",
            "--allow-privileged=true",
            "--profiling=false",
            f"--audit-policy-file={AUDIT_POLICY}",
            f"--audit-log-path={AUDIT_LOG}",
            "--audit-log-format=json",
            "--audit-log-maxsize=200",
            "--audit-log-maxbackup=1",
        ],
        "kube-controller-manager": [
            binary("kube-controller-manager"),
            f"--kubeconfig={cm_kubeconfig}",
            f"--authentication-kubeconfig={cm_kubeconfig}",
            f"--authorization-kubeconfig={cm_kubeconfig}",
            "--bind-address=127.0.0.1",
            f"--secure-port={ports['controller_manager']}",
            "--port=0",
            "--leader-elect=false",
            "--use-service-account-credentials=true",
            # Controllers that need a cloud provider only log failures here.
            "--controllers=*,-cloud-node-lifecycle,-service,-route",
            f"--root-ca-file={PKI / 'ca.crt'}",
            f"--service-account-private-key-file={PKI / 'sa.key'}",
            f"--cluster-signing-cert-file={PKI / 'ca.crt'}",
            f"--cluster-signing-key-file={PKI / 'ca.key'}",
            f"--service-cluster-ip-range={SERVICE_CIDR}",
            "--profiling=false",
        ],
        "kube-scheduler": [
            binary("kube-scheduler"),
            f"--kubeconfig={scheduler_kubeconfig}",
            f"--authentication-kubeconfig={scheduler_kubeconfig}",
            f"--authorization-kubeconfig={scheduler_kubeconfig}",
            "--bind-address=127.0.0.1",
            f"--secure-port={ports['scheduler']}",
            "--port=0",
            "--leader-elect=false",
            "--profiling=false",
        ],
        "node-standin": [
            sys.executable,
            str(HERE / "node_standin.py"),
            f"--kubeconfig={KUBECONFIG}",
            *[f"--node={name}" for name in NODE_NAMES],
        ],
    }


# --- API access ------------------------------------------------------------------------------


class Api:
    """Minimal admin client for the bootstrap steps (the kubernetes SDK is slow to import)."""

    def __init__(self, port: int):
        self.base = f"https://127.0.0.1:{port}"
        self.context = ssl.create_default_context(cafile=str(PKI / "ca.crt"))
        self.context.load_cert_chain(str(PKI / "admin.crt"), str(PKI / "admin.key"))

    def request(
        self, method: str, path: str, body: dict | list | None = None, content_type: str = "application/json"
    ) -> tuple[int, dict | str]:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.base + path, data=data, method=method)
        request.add_header("Content-Type", content_type)
        try:
            with urllib.request.urlopen(request, context=self.context, timeout=5) as response:
                return response.status, _decode(response.read())
        except urllib.error.HTTPError as error:
            return error.code, _decode(error.read())
        except (OSError, urllib.error.URLError) as error:
            return 0, str(error)


def _decode(raw: bytes) -> dict | str:
    try:
        return json.loads(raw)
    except ValueError:
        return raw.decode(errors="replace")


def wait_for(
    what: str, check, processes: dict[str, subprocess.Popen], timeout: float = READY_TIMEOUT_SECONDS
):
    """Poll `check` until true; fail early with a log tail when one of the started processes has exited."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        for name, process in processes.items():
            if process.poll() is not None:
                raise ClusterError(
                    f"{name} exited ({process.returncode}) while waiting for {what}:\n{log_tail(name)}"
                )
        time.sleep(0.2)
    raise ClusterError(f"timed out after {timeout:.0f}s waiting for {what}")


def is_ready(api: Api) -> bool:
    status, body = api.request("GET", "/readyz")
    return status == 200 and body == "ok"


def default_service_account_ready(api: Api) -> bool:
    status, body = api.request("GET", "/api/v1/namespaces/default/serviceaccounts/default")
    return status == 200 and bool(body.get("secrets"))


def apply_crds(api: Api) -> list[str]:
    names = []
    base = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions"
    for path in sorted((HERE / "crds").glob("*.yaml")):
        crd = yaml.safe_load(path.read_text())
        name = crd["metadata"]["name"]
        status, body = api.request("POST", base, crd)
        if status == 409:
            _, current = api.request("GET", f"{base}/{name}")
            crd["metadata"]["resourceVersion"] = current["metadata"]["resourceVersion"]
            status, body = api.request("PUT", f"{base}/{name}", crd)
        if status not in (200, 201):
            raise ClusterError(f"registering CRD {name} failed ({status}): {body}")
        names.append(name)
    return names


def crd_established(api: Api, name: str) -> bool:
    status, body = api.request("GET", f"/apis/apiextensions.k8s.io/v1/customresourcedefinitions/{name}")
    conditions = body.get("status", {}).get("conditions", []) if status == 200 else []
    return any(c["type"] == "Established" and c["status"] == "True" for c in conditions)


def node_ready(api: Api, name: str) -> bool:
    status, body = api.request("GET", f"/api/v1/nodes/{name}")
    if status != 200:
        return False
    conditions = body.get("status", {}).get("conditions", [])
    ready = any(c["type"] == "Ready" and c["status"] == "True" for c in conditions)
    return ready and not body.get("spec", {}).get("taints")


def scheduler_healthy(port: int) -> bool:
    # The scheduler serves a self-signed certificate; /healthz needs no credentials.
    context = ssl._create_unverified_context()
    try:
        with urllib.request.urlopen(
            f"https://127.0.0.1:{port}/healthz", context=context, timeout=2
        ) as response:
            return response.status == 200
    except (OSError, urllib.error.URLError):
        return False


# --- commands --------------------------------------------------------------------------------


def node_mode() -> str | None:
    """The node mode the cluster in the state dir was started with (None: never started)."""
    try:
        return NODE_MODE_FILE.read_text().strip()
    except OSError:
        return None


def components(mode: str) -> tuple[str, ...]:
    return (*CONTROL_PLANE, *NODE_COMPONENTS[mode])


def healthy() -> bool:
    mode = node_mode() or "standin"
    if set(running_pids()) != set(components(mode)) or not KUBECONFIG.exists():
        return False
    try:
        return is_ready(Api(read_ports()["apiserver"]))
    except (OSError, ValueError, KeyError):
        return False


def cmd_up(requested: str | None = None) -> int:
    began = time.monotonic()
    current = node_mode()
    mode = requested or current or "standin"
    if current and mode != current and running_pids():
        raise ClusterError(f"the cluster runs with the {current} node: run `cluster.py down` first")
    if healthy():
        if mode == "real":  # a Traefik that stopped is started again
            start_traefik(read_ports()["apiserver"])
        volumes.ensure(Api(read_ports()["apiserver"]), VOLUMES_DIR)
        log(f"reusing the running cluster ({time.monotonic() - began:.1f}s)")
        print(KUBECONFIG)
        return 0
    if mode == "real":
        real_node.check(BIN_DIR)
    for name in CONTROL_PLANE:
        binary(name)  # fails before anything is written when one is missing
    if running_pids():
        log(f"restarting a partly running cluster (stopped {', '.join(stop_all())})")
    teardown_real_node()  # what a crashed or stopped real node left behind
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # cleaned up like Ctrl-C below
    STATE_DIR.mkdir(parents=True, exist_ok=True)
    NODE_MODE_FILE.write_text(f"{mode}\n")
    if not (PKI / "tokens.csv").exists():
        cluster_pki.generate(PKI, SERVICE_IP)
    ports = choose_ports()
    write_kubeconfigs(ports["apiserver"])
    LOGS.mkdir(parents=True, exist_ok=True)
    _write_yaml(
        AUDIT_POLICY,
        {
            "apiVersion": "audit.k8s.io/v1",
            "kind": "Policy",
            "omitStages": ["RequestReceived", "ResponseStarted"],
            "rules": [{"level": "Metadata"}],
        },
    )
    argv = commands(ports)
    api = Api(ports["apiserver"])
    started: dict[str, subprocess.Popen] = {}
    try:
        started.update((name, start(name, argv[name])) for name in ("etcd", "kube-apiserver"))
        wait_for("the apiserver /readyz", lambda: is_ready(api), started)
        # The others authenticate through RBAC roles that exist once the apiserver is ready.
        started.update((name, start(name, argv[name])) for name in CONTROL_PLANE[2:])
        nodes = start_node(mode, ports, argv, started)
        crds = apply_crds(api)
        wait_for("CRDs to be established", lambda: all(crd_established(api, n) for n in crds), started)
        wait_for("the default service account", lambda: default_service_account_ready(api), started)
        wait_for("the scheduler", lambda: scheduler_healthy(ports["scheduler"]), started)
        wait_for("nodes to be Ready", lambda: all(node_ready(api, n) for n in nodes), started)
        volumes.ensure(api, VOLUMES_DIR)
        if mode == "real":
            start_traefik(ports["apiserver"])
    except BaseException:  # includes Ctrl-C: leave no half-started cluster behind
        stop_all(started)
        try:
            teardown_real_node()
        except real_node.RealNodeError as error:  # reported, but the original error is raised
            log(f"real node: Failed to tear down: {error}")
        raise
    log(f"ready in {time.monotonic() - began:.1f}s (logs in {LOGS})")
    print(KUBECONFIG)
    return 0


def start_traefik(apiserver_port: int) -> None:
    """Traefik routes Ingresses of class traefik to the real pods (a running one is kept)."""
    web = traefik.start(Api(apiserver_port), STATE_DIR, apiserver_port, LOGS / "traefik.log")["traefik_web"]
    log(f"traefik serves Ingress hosts on http://127.0.0.1:{web}")


def start_node(
    mode: str, ports: dict[str, int], argv: dict[str, list[str]], started: dict[str, subprocess.Popen]
) -> tuple[str, ...]:
    """Start the node stand-in, or containerd and the kubelet; return the node names to wait for."""
    if mode == "standin":
        started["node-standin"] = start("node-standin", argv["node-standin"])
        return NODE_NAMES
    layout = real_node.Layout(STATE_DIR)
    real_argv = real_node.prepare(layout, PKI, BIN_DIR, ports)
    started["containerd"] = start("containerd", real_argv["containerd"])
    real_node.import_pause_image(layout, BIN_DIR, started["containerd"])
    started["kubelet"] = start("kubelet", real_argv["kubelet"])
    return (real_node.NODE_NAME,)


def teardown_real_node() -> None:
    """Undo the real node's host changes; a mount left in place fails (the state is then kept)."""
    layout = real_node.Layout(STATE_DIR)
    if layout.base.exists():
        for done in real_node.teardown(layout):
            log(f"real node: {done}")


def cmd_down() -> int:
    if traefik.stop(STATE_DIR):
        log("stopped traefik")
    stopped = stop_all()
    log(f"stopped {', '.join(stopped) if stopped else 'nothing (no process was running)'}")
    teardown_real_node()  # before any state is removed
    for entry in STATE_ENTRIES:
        if entry.is_dir():
            shutil.rmtree(entry)
        else:
            entry.unlink(missing_ok=True)
    if STATE_DIR.is_dir() and not any(STATE_DIR.iterdir()):
        STATE_DIR.rmdir()
    log(f"removed the cluster state in {STATE_DIR}")
    return 0


def cmd_status() -> int:
    pids = running_pids()
    mode = node_mode() or "standin"
    print(f"{'node':25} {mode}")
    for name in components(mode):
        state = f"running (pid {pids[name]})" if name in pids else "stopped"
        print(f"{name:25} {state}")
    ok = healthy()
    print(f"{'apiserver /readyz':25} {'ok' if ok else 'not ready'}")
    if ok:
        print(f"{'kubeconfig':25} {KUBECONFIG}")
    return 0 if ok else 1


def cmd_kubeconfig() -> int:
    if not KUBECONFIG.exists():
        raise ClusterError(f"no kubeconfig at {KUBECONFIG}: run `cluster.py up` first")
    print(KUBECONFIG)
    return 0


@contextlib.contextmanager
def exclusive_lock():
    """Serialize `up` and `down` of concurrent test sessions on the same state dir."""
    lock_path = STATE_DIR.with_name(STATE_DIR.name + ".lock")
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with open(lock_path, "w") as lock_file:
        fcntl.flock(lock_file, fcntl.LOCK_EX)
        yield


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("command", choices=("up", "down", "status", "kubeconfig"))
    parser.add_argument(
        "--node",
        choices=tuple(NODE_COMPONENTS),
        help="up: the simulated node stand-in (the default) or a real kubelet + containerd node (root)",
    )
    args = parser.parse_args()
    command = args.command
    if args.node and command != "up":
        parser.error("--node applies to `up` only")
    run = {
        "up": lambda: cmd_up(args.node),
        "down": cmd_down,
        "status": cmd_status,
        "kubeconfig": cmd_kubeconfig,
    }[command]
    try:
        if command in ("up", "down"):
            with exclusive_lock():
                return run()
        return run()
    except (ClusterError, real_node.RealNodeError, traefik.TraefikError) as error:
        print(f"cluster: Failed to {command}: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
