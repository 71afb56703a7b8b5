"""Pure endpoint checks: the host of a URL, which Ingress serves a host, its TLS Secret and the check messages."""

from __future__ import annotations

import pytest

from ansible_collections.octo.platform.plugins.module_utils.common.errors import ValidationError
from ansible_collections.octo.platform.plugins.module_utils.render import endpoint


def ingress(namespace, name, hosts, tls=None):
    spec = {"rules": [{"host": h} for h in hosts]}
    if tls:
        spec["tls"] = tls
    return {"metadata": {"namespace": namespace, "name": name}, "spec": spec}


@pytest.mark.parametrize(
    ("url", "host"),
    [
        ("https://Orders.Example.com/x?y", "orders.example.com"),
        ("orders.example.com", "orders.example.com"),
        ("http://orders.example.com:8080/", "orders.example.com"),
    ],
)
def test_host_of(url, host):
    assert endpoint.host_of(url) == host


def test_host_of_rejects_urls_without_a_host():
    with pytest.raises(ValidationError, match="url: 'https://' has no DNS host name"):
        endpoint.host_of("https://")


def test_exact_rule_wins_over_a_wildcard_rule():
    wild = ingress("a", "wild", ["*.example.com"], [{"hosts": ["*.example.com"], "secretName": "wild-tls"}])
    exact = ingress("b", "exact", ["orders.example.com"])
    assert endpoint.serving_ingress("orders.example.com", [wild, exact]) is exact
    assert endpoint.serving_ingress("billing.example.com", [wild, exact]) is wild
    assert endpoint.serving_ingress("a.b.example.com", [wild, exact]) is None
    assert endpoint.tls_secret_name("billing.example.com", wild) == "wild-tls"
    assert endpoint.tls_secret_name("orders.example.com", exact) is None


def test_dns_check_messages():
    assert endpoint.dns_check("h.example", [], ["10.0.0.1"], None).message == "h.example has no A/AAAA record"
    ok = endpoint.dns_check("h.example", ["10.0.0.1"], ["10.0.0.1", "10.0.0.2"], None)
    assert ok.ok and ok.message == "h.example resolves to 10.0.0.1"


def test_ip_list():
    assert endpoint.ip_list(["10.0.0.1", "::1"], "node_ip") == ["10.0.0.1", "::1"]
    with pytest.raises(ValidationError, match="node_ip: 'x' is not an IP address"):
        endpoint.ip_list(["x"], "node_ip")
