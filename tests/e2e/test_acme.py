"""Real ACME orders against pebble: HTTP-01 through the local Traefik with the HTTPS redirect on, and the DNS-01
record shape (``_acme-challenge.<domain>`` TXT) that pebble checks through pebble-challtestsrv's DNS."""

from __future__ import annotations

import json
import re
import stat
import sys

import pytest
from acme import servers
from cluster import real_node
from e2e_support import STATE_DIR, wait_until
from support.http_probe import http_get

from ansible_collections.octo.platform.plugins.module_utils.kube import resources as res
from ansible_collections.octo.platform.plugins.module_utils.kube.client import Kube
from ansible_collections.octo.platform.plugins.module_utils.render.kinds import Kind
from ansible_collections.octo.platform.plugins.module_utils.tls import certs

ENDPOINTS = Kind("v1", "Endpoints", "endpoints")
ACME_PATH = "/.well-known/acme-challenge/"


def solver_objects(namespace: str, host: str, address: str, port: int) -> list:
    """What cert-manager's HTTP-01 solver creates: an Ingress for the challenge path to a Service; here its
    Endpoints point at lego's challenge server on the host."""
    service = {
        **res.SERVICE.header,
        "metadata": {"name": "acme-solver", "namespace": namespace},
        "spec": {"ports": [{"name": "http", "port": 8089, "targetPort": port}]},
    }
    endpoints = {
        "apiVersion": "v1",
        "kind": "Endpoints",
        "metadata": {"name": "acme-solver", "namespace": namespace},
        "subsets": [{"addresses": [{"ip": address}], "ports": [{"name": "http", "port": port}]}],
    }
    backend = {"service": {"name": "acme-solver", "port": {"number": 8089}}}
    ingress = {
        **res.INGRESS.header,
        "metadata": {"name": "acme-solver", "namespace": namespace},
        "spec": {
            "ingressClassName": "traefik",
            "rules": [
                {
                    "host": host,
                    "http": {"paths": [{"path": ACME_PATH, "pathType": "Prefix", "backend": backend}]},
                }
            ],
        },
    }
    return [(res.SERVICE, service), (ENDPOINTS, endpoints), (res.INGRESS, ingress)]


@pytest.fixture
def ports():
    return json.loads((STATE_DIR / "ports.json").read_text())


def test_http01_order_through_traefik_with_the_redirect_on(real_cluster, namespace, ports, tmp_path):
    host = f"shop.{namespace}.octo.localtest.me"  # inside the local Traefik's redirect domain
    address, port = real_node.host_ip(), servers.local_ports.free_port()
    kube = Kube({"kubeconfig": real_cluster})
    for kind, body in solver_objects(namespace, host, address, port):
        kube.create(kind, body)
    assert http_get(ports["traefik_web"], host, "/cart") == (301, f"https://{host}/cart")
    # Traefik routes the challenge path to the solver (nothing listens yet: 502), never to the redirect.
    wait_until(
        "the solver route", lambda: http_get(ports["traefik_web"], host, ACME_PATH + "probe")[0] == 502
    )

    with servers.acme_servers(tmp_path, ports["traefik_web"]) as acme:
        run = servers.lego(acme, tmp_path / "lego", [host], "--http", f"--http.port={address}:{port}")
    assert run.returncode == 0, run.stdout + run.stderr
    issued = certs.facts((tmp_path / "lego" / "certificates" / f"{host}.crt").read_bytes())
    assert issued.dns_names == (host,)
    assert "Pebble" in issued.issuer
    assert http_get(ports["traefik_web"], host, "/cart") == (301, f"https://{host}/cart")


EXEC_SCRIPT = """#!{python}
import json, sys, urllib.request
action, fqdn, value = sys.argv[1], sys.argv[2], (sys.argv[3] if len(sys.argv) > 3 else "")
with open({log!r}, "a") as log:
    log.write(json.dumps([action, fqdn, value]) + "\\n")
path, body = ("set-txt", {{"host": fqdn, "value": value}}) if action == "present" else ("clear-txt", {{"host": fqdn}})
if action in ("present", "cleanup"):
    request = urllib.request.Request({management!r} + "/" + path, data=json.dumps(body).encode(), method="POST")
    urllib.request.urlopen(request, timeout=5).close()
"""


def test_dns01_wildcard_order_writes_acme_challenge_txt_records(tmp_path):
    domain = "octo-dns01.test"
    calls = tmp_path / "calls.jsonl"
    with servers.acme_servers(tmp_path, servers.local_ports.free_port()) as acme:
        script = tmp_path / "dns-hook"
        script.write_text(
            EXEC_SCRIPT.format(python=sys.executable, log=str(calls), management=acme.management)
        )
        script.chmod(stat.S_IRWXU)
        env = {"EXEC_PATH": str(script), "EXEC_POLLING_INTERVAL": "1", "EXEC_PROPAGATION_TIMEOUT": "30"}
        solver = ["--dns=exec", "--dns.disable-cp", f"--dns.resolvers={acme.dns}"]
        run = servers.lego(acme, tmp_path / "lego", [f"*.{domain}", domain], *solver, env=env)
    assert run.returncode == 0, run.stdout + run.stderr
    presented = [json.loads(line) for line in calls.read_text().splitlines() if line.startswith('["present"')]
    # The wildcard and the apex share one record name: two values of _acme-challenge.<domain>.
    assert sorted(fqdn for _, fqdn, _ in presented) == [f"_acme-challenge.{domain}."] * 2
    assert all(re.fullmatch(r"[A-Za-z0-9_-]{43}", value) for _, _, value in presented)  # base64url SHA-256
    issued = certs.facts((tmp_path / "lego" / "certificates" / f"_.{domain}.crt").read_bytes())
    assert sorted(issued.dns_names) == sorted([f"*.{domain}", domain])
