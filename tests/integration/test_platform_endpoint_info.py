"""platform_endpoint_info against a real DNS server (dnslib), the local API server and real TLS endpoints."""

from __future__ import annotations

import json

import pytest
from k8s_support import module_params
from support import dns_server, tls_server

from ansible_collections.octo.platform.plugins.module_utils.common.errors import ValidationError
from ansible_collections.octo.platform.plugins.module_utils.kube import endpoint_info, local_ca
from ansible_collections.octo.platform.plugins.module_utils.kube import resources as res
from ansible_collections.octo.platform.plugins.module_utils.kube.client import Kube
from ansible_collections.octo.platform.plugins.module_utils.tls import certs
from ansible_collections.octo.platform.plugins.modules import local_ca as local_ca_module
from ansible_collections.octo.platform.plugins.modules.platform_endpoint_info import ARGUMENT_SPEC

DOMAIN = "octo.test"
HOST = f"orders.{DOMAIN}"
RECORDS = {
    HOST: ["127.0.0.1"],
    f"stray.{DOMAIN}": ["198.51.100.9", "127.0.0.1"],
    f"plain.{DOMAIN}": ["127.0.0.1"],
}


@pytest.fixture
def kube(kubeconfig):
    return Kube({"kubeconfig": kubeconfig})


@pytest.fixture(scope="module")
def dns_port():
    with dns_server.serving(RECORDS) as port:
        yield port


@pytest.fixture
def wildcard(kubeconfig, namespace, tmp_path):
    """The wildcard TLS Secret of DOMAIN in the namespace; its files under tmp_path/tls."""
    params = {
        "kubeconfig": kubeconfig,
        "namespace": namespace,
        "dir": str(tmp_path / "tls"),
        "domain": DOMAIN,
    }
    local_ca.ensure(module_params(local_ca_module.ARGUMENT_SPEC, **params))
    return tmp_path / "tls"


def ingress(kube, namespace, name, host, secret=None):
    spec = {"rules": [{"host": host, "http": {"paths": [_path()]}}]}
    if secret:
        spec["tls"] = [{"hosts": [host], "secretName": secret}]
    body = {**res.INGRESS.header, "metadata": {"name": name, "namespace": namespace}, "spec": spec}
    kube.apply(res.INGRESS, body)


def _path():
    backend = {"service": {"name": "orders", "port": {"number": 80}}}
    return {"path": "/", "pathType": "Prefix", "backend": backend}


def run(kubeconfig, namespace, dns_port, **overrides):
    args = {
        "kubeconfig": kubeconfig,
        "namespace": namespace,
        "url": f"https://{HOST}/orders",
        "node_ip": ["127.0.0.1"],
        "resolver": "127.0.0.1",
        "resolver_port": dns_port,
    }
    return endpoint_info.check(module_params(ARGUMENT_SPEC, **{**args, **overrides}))


def by_name(result) -> dict:
    return {c["name"]: c for c in result["checks"]}


def test_the_whole_chain_passes(kubeconfig, namespace, kube, dns_port, wildcard):
    ingress(kube, namespace, "orders", HOST, "octo-wildcard-tls")
    with tls_server.serving(wildcard / "wildcard.crt", wildcard / "wildcard.key") as port:
        result = run(
            kubeconfig,
            namespace,
            dns_port,
            handshake=True,
            port=port,
            handshake_ca_cert=str(wildcard / "ca.crt"),
        )
    assert result["ok"] is True, result["failures"]
    assert result["changed"] is False and result["host"] == HOST
    checks = by_name(result)
    assert list(checks) == ["dns", "ingress", "secret", "certificate", "handshake"]
    assert checks["dns"]["addresses"] == ["127.0.0.1"]
    assert checks["ingress"]["secret_name"] == "octo-wildcard-tls"
    assert checks["certificate"]["days_left"] in (396, 397)
    assert checks["certificate"]["dns_names"] == [f"*.{DOMAIN}", DOMAIN]
    assert (
        checks["handshake"]["fingerprint_sha256"]
        == certs.facts((wildcard / "wildcard.crt").read_bytes()).fingerprint_sha256
    )
    assert checks["handshake"]["message"] == f"TLS handshake with 127.0.0.1:{port} verified"
    assert "PRIVATE KEY" not in json.dumps(result)


def test_dns_answers_other_than_the_node(kubeconfig, namespace, dns_port):
    stray = run(kubeconfig, namespace, dns_port, url=f"stray.{DOMAIN}")
    assert stray["ok"] is False
    assert (
        by_name(stray)["dns"]["message"]
        == f"stray.{DOMAIN} resolves to 198.51.100.9, not the node (127.0.0.1)"
    )
    missing = run(kubeconfig, namespace, dns_port, url=f"https://nowhere.{DOMAIN}")
    assert (
        by_name(missing)["dns"]["message"] == f"nowhere.{DOMAIN} does not resolve: 127.0.0.1 answers NXDOMAIN"
    )
    any_ip = run(kubeconfig, namespace, dns_port, url=f"stray.{DOMAIN}", node_ip=[])
    assert by_name(any_ip)["dns"]["ok"] is True


def test_ingress_and_secret_findings(kubeconfig, namespace, kube, dns_port):
    none = run(kubeconfig, namespace, dns_port, url=f"none.{DOMAIN}")  # a host no test gives an Ingress
    assert none["failures"][1:] == [f"no Ingress has a rule for none.{DOMAIN}"]
    assert [c["name"] for c in none["checks"]] == ["dns", "ingress"]

    ingress(kube, namespace, "plain", f"plain.{DOMAIN}")
    plain = run(kubeconfig, namespace, dns_port, url=f"http://plain.{DOMAIN}/")
    assert plain["failures"] == [f"Ingress {namespace}/plain serves plain.{DOMAIN} without TLS"]

    elsewhere = run(kubeconfig, "default", dns_port, url=f"http://plain.{DOMAIN}/")
    assert elsewhere["checks"][1]["namespace"] == namespace  # not in "default": found in every namespace

    ingress(kube, namespace, "orders", HOST, "orders-tls")
    lost = run(kubeconfig, namespace, dns_port)
    assert lost["failures"] == [f"TLS Secret {namespace}/orders-tls does not exist"]


def test_certificate_not_covering_or_near_expiry(kubeconfig, namespace, kube, dns_port, wildcard):
    ingress(kube, namespace, "other", "deep.orders.octo.test", "octo-wildcard-tls")
    deep = run(kubeconfig, namespace, dns_port, url="deep.orders.octo.test", node_ip=[])
    message = f"the certificate covers *.{DOMAIN}, {DOMAIN}, not deep.orders.octo.test"
    assert by_name(deep)["certificate"]["message"] == message
    assert by_name(deep)["dns"]["ok"] is False  # NXDOMAIN as well

    ingress(kube, namespace, "orders", HOST, "octo-wildcard-tls")
    soon = run(kubeconfig, namespace, dns_port, min_days_left=1000)
    left = by_name(soon)["certificate"]["days_left"]
    assert soon["failures"] == [f"the certificate for {HOST} expires in {left} days (threshold 1000)"]


def test_handshake_findings(kubeconfig, namespace, kube, dns_port, wildcard, tmp_path):
    ingress(kube, namespace, "orders", HOST, "octo-wildcard-tls")
    other_ca = tmp_path / "other-ca.crt"
    other_ca.write_bytes(certs.new_ca("Someone else")[1])
    other_key, other_cert = certs.issue(
        (wildcard / "ca.key").read_bytes(), (wildcard / "ca.crt").read_bytes(), (HOST,)
    )
    (tmp_path / "other.key").write_bytes(other_key)
    (tmp_path / "other.crt").write_bytes(other_cert)
    with tls_server.serving(wildcard / "wildcard.crt", wildcard / "wildcard.key") as port:
        untrusted = run(
            kubeconfig, namespace, dns_port, handshake=True, port=port, handshake_ca_cert=str(other_ca)
        )
    assert by_name(untrusted)["handshake"]["message"].startswith(
        f"TLS handshake with 127.0.0.1:{port} failed: unable to get local issuer certificate"
    )
    with tls_server.serving(tmp_path / "other.crt", tmp_path / "other.key") as port:
        swapped = run(
            kubeconfig,
            namespace,
            dns_port,
            handshake=True,
            port=port,
            handshake_ca_cert=str(wildcard / "ca.crt"),
        )
    assert swapped["failures"] == [f"127.0.0.1:{port} serves another certificate than the Secret holds"]
    closed = run(
        kubeconfig, namespace, dns_port, handshake=True, port=1, handshake_ca_cert=str(wildcard / "ca.crt")
    )
    assert by_name(closed)["handshake"]["message"].startswith("TLS handshake with 127.0.0.1:1 failed: ")


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"url": "https:///nohost"}, "url: 'https:///nohost' has no DNS host name"),
        ({"node_ip": ["10.0.0.300"]}, "node_ip: '10.0.0.300' is not an IP address"),
        ({"resolver": "dns.example"}, "resolver: 'dns.example' is not an IP address"),
        ({"resolver_port": 0}, "resolver_port: must be between 1 and 65535"),
        ({"min_days_left": -1}, "min_days_left: must be 0 or more"),
        (
            {"handshake_ca_cert": "/nonexistent/ca.crt"},
            "handshake_ca_cert: /nonexistent/ca.crt is not a file",
        ),
    ],
)
def test_bad_input(kubeconfig, namespace, dns_port, overrides, message):
    with pytest.raises(ValidationError) as caught:
        run(kubeconfig, namespace, dns_port, **overrides)
    assert str(caught.value) == f"Failed to validate the endpoint: {message}"
