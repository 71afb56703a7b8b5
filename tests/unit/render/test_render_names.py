"""Object names and DNS name rules."""

from __future__ import annotations

import pytest

from ansible_collections.octo.platform.plugins.module_utils.render import names


def test_object_names():
    assert names.deployment_object_name("d41") == "octo-dep-d41"
    assert names.integration_service_name("orders") == "octo-int-orders"
    assert names.tls_secret_name("d41") == "octo-dep-d41-tls"


@pytest.mark.parametrize("value", ["a", "orders", "a-b-1", "0day", "x" * 63])
def test_dns_label_accepts(value):
    assert names.is_dns_label(value)


@pytest.mark.parametrize("value", ["", "A", "a_b", "-a", "a-", "a.b", "x" * 64, None, 12, "é"])
def test_dns_label_rejects(value):
    assert not names.is_dns_label(value)


@pytest.mark.parametrize(
    "value", ["example.com", "a.b.c", "localhost", ".".join(["a" * 63] * 3 + ["b" * 61])]
)
def test_dns_name_accepts(value):
    assert names.is_dns_name(value)


@pytest.mark.parametrize(
    "value", ["", "example.com.", ".example.com", "a..b", "Example.com", "*.example.com", "a" * 254, None]
)
def test_dns_name_rejects(value):
    assert not names.is_dns_name(value)


@pytest.mark.parametrize(
    ("value", "ok"), [("API_KEY", True), ("A1", True), ("api_key", False), ("1A", False)]
)
def test_env_name(value, ok):
    assert names.is_env_name(value) is ok
