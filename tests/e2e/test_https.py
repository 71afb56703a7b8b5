"""HTTPS through the local Traefik on the real node: the wildcard and a per-host TLS Secret, the redirect that
keeps the ACME challenge on plain HTTP, the security headers, TLS 1.2 at least, and the traefik role's verify
step (platform_endpoint_info with a real handshake against the local CA)."""

from __future__ import annotations

import json
import socket
import ssl

import pytest
from e2e_support import STATE_DIR, wait_until
from images.runtime_images import IMAGE
from support.http_probe import http_get, https_get
from support.playbook import REPO_ROOT, run_tasks

from ansible_collections.octo.platform.plugins.module_utils.kube import local_ca
from ansible_collections.octo.platform.plugins.module_utils.kube import resources as res
from ansible_collections.octo.platform.plugins.module_utils.kube.client import Kube
from ansible_collections.octo.platform.plugins.module_utils.render import names
from ansible_collections.octo.platform.plugins.module_utils.tls import certs, probe
from ansible_collections.octo.platform.plugins.modules import local_ca as local_ca_module

SAMPLES = REPO_ROOT / "samples"
TIMEOUT_SECONDS = 5


@pytest.fixture
def ports():
    return json.loads((STATE_DIR / "ports.json").read_text())


def deploy(namespace: str, base_domain: str, tls_mode: str):
    args = {
        "namespace": namespace,
        "slug": "http-orders",
        "deployment_id": "orders-1",
        "definition": (SAMPLES / "http-orders.yaml").read_text(),
        "image": IMAGE,
        "env": {"API_KEY": "not-a-secret"},
        "expose": True,
        "base_domain": base_domain,
        "tls_mode": tls_mode,
        "probes": {"path": "/healthz", "period_seconds": 1},
        "wait_sleep": 1,
        "wait_timeout": 120,
    }
    run = run_tasks([{"name": "deploy", "octo.platform.integration": args}])
    assert run.rc == 0, run.output


def ca_params(kubeconfig: str, namespace: str, directory, domain: str) -> dict:
    """The local_ca module's params with its defaults (its argument spec's)."""
    defaults = {k: v.get("default") for k, v in local_ca_module.ARGUMENT_SPEC.items()}
    return {
        **defaults,
        "kubeconfig": kubeconfig,
        "namespace": namespace,
        "dir": str(directory),
        "domain": domain,
    }


def answering(port, host, ca_file):
    try:
        status, headers, body = https_get(port, host, ca_file)
    except OSError:
        return None
    return (status, headers, body) if status == 200 else None


@pytest.mark.filterwarnings("ignore:ssl.TLSVersion.TLSv1_1 is deprecated:DeprecationWarning")
def test_wildcard_secret_redirect_headers_and_tls_version(real_cluster, namespace, ports, tmp_path):
    base = f"{namespace}.octo.localtest.me"  # under the local Traefik's redirect domain
    local_ca.ensure(ca_params(real_cluster, namespace, tmp_path / "tls", base))
    ca_file = tmp_path / "tls" / "ca.crt"
    deploy(namespace, base, "wildcard")
    host = f"http-orders.{base}"

    _, headers, body = wait_until(
        "HTTPS through Traefik", lambda: answering(ports["traefik_websecure"], host, ca_file)
    )
    assert json.loads(body)["integrations"][0]["name"] == "http-orders.yaml"
    assert headers["strict-transport-security"] == "max-age=31536000; includeSubDomains"
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["x-frame-options"] == "DENY"
    assert headers["referrer-policy"] == "strict-origin-when-cross-origin"

    assert http_get(ports["traefik_web"], host, "/orders?x=1") == (301, f"https://{host}/orders?x=1")
    challenge = http_get(ports["traefik_web"], host, "/.well-known/acme-challenge/token")
    assert challenge == (200, None)  # not redirected: the host's Ingress (path /) answers over plain HTTP

    old = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    old.load_verify_locations(str(ca_file))
    old.set_ciphers("DEFAULT:@SECLEVEL=0")
    old.minimum_version = old.maximum_version = ssl.TLSVersion.TLSv1_1
    with (
        pytest.raises(ssl.SSLError, match=r"PROTOCOL_VERSION|protocol version"),
        socket.create_connection(("127.0.0.1", ports["traefik_websecure"]), timeout=TIMEOUT_SECONDS) as raw,
        old.wrap_socket(raw, server_hostname=host),
    ):
        pass

    verify = run_tasks(
        [
            {
                "ansible.builtin.include_role": {"name": "octo.platform.traefik", "tasks_from": "verify"},
                "vars": {
                    "traefik_verify_urls": [f"https://{host}/"],
                    "traefik_verify_dns": False,
                    "traefik_verify_address": "127.0.0.1",
                    "traefik_verify_port": ports["traefik_websecure"],
                    "traefik_verify_ca_cert": str(ca_file),
                },
            }
        ]
    )
    assert verify.rc == 0, verify.output
    assert f"TLS handshake with 127.0.0.1:{ports['traefik_websecure']} verified" in verify.stdout
    assert f"the certificate covers {host}" in verify.stdout

    other_ca = tmp_path / "other.crt"
    other_ca.write_bytes(certs.new_ca("Not trusted")[1])
    untrusted = run_tasks(
        [
            {
                "ansible.builtin.include_role": {"name": "octo.platform.traefik", "tasks_from": "verify"},
                "vars": {
                    "traefik_verify_urls": [f"https://{host}/"],
                    "traefik_verify_dns": False,
                    "traefik_verify_address": "127.0.0.1",
                    "traefik_verify_port": ports["traefik_websecure"],
                    "traefik_verify_ca_cert": str(other_ca),
                    "traefik_verify_retries": 1,
                },
            }
        ]
    )
    assert untrusted.rc != 0
    assert f"Failed to verify https://{host}/: TLS handshake with 127.0.0.1:" in untrusted.output


def test_a_per_host_secret_is_served(real_cluster, namespace, ports, tmp_path):
    base = f"{namespace}.localtest.me"
    host = f"http-orders.{base}"
    ca_key, ca_cert = certs.new_ca("Per-host test CA")
    key, cert = certs.issue(ca_key, ca_cert, (host,))
    (tmp_path / "ca.crt").write_bytes(ca_cert)
    kube = Kube({"kubeconfig": real_cluster})
    secret = {
        **res.SECRET.header,
        "type": "kubernetes.io/tls",
        "metadata": {"name": names.tls_secret_name("orders-1"), "namespace": namespace},
        "stringData": {"tls.crt": cert.decode(), "tls.key": key.decode()},
    }
    kube.create(res.SECRET, secret)  # what cert-manager writes for the http01 mode's per-host Certificate
    deploy(namespace, base, "http01")

    wait_until(
        "the per-host certificate", lambda: answering(ports["traefik_websecure"], host, tmp_path / "ca.crt")
    )
    served, error = probe.handshake(host, "127.0.0.1", ports["traefik_websecure"], str(tmp_path / "ca.crt"))
    assert error is None and served == certs.facts(cert).fingerprint_sha256
    # Outside the redirect domain (octo.localtest.me locally) plain HTTP is served, not redirected.
    assert http_get(ports["traefik_web"], host, "/") == (200, None)
