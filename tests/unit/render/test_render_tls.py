"""Pure TLS decisions: wildcard names, host matching, days left and reuse of a kept certificate."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from ansible_collections.octo.platform.plugins.module_utils.common.errors import ValidationError
from ansible_collections.octo.platform.plugins.module_utils.render import tls

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=timezone.utc)  # noqa: UP017 - datetime.UTC is 3.11+


def test_wildcard_names():
    assert tls.wildcard_names("Octo.LocalTest.me.") == ("*.octo.localtest.me", "octo.localtest.me")
    for bad in ("localhost", "bad_name.example", ""):
        with pytest.raises(ValidationError, match="Failed to validate the local CA: domain: "):
            tls.wildcard_names(bad)


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("orders.example.com", True),
        ("ORDERS.example.com.", True),
        ("example.com", True),
        ("a.b.example.com", False),  # a wildcard covers one label only
        ("example.org", False),
        ("xexample.com", False),
    ],
)
def test_covers(host, expected):
    assert tls.covers(("*.example.com", "example.com"), host) is expected


def test_exact_name_only():
    assert tls.covers(("orders.example.com",), "orders.example.com")
    assert not tls.covers(("orders.example.com",), "billing.example.com")
    assert not tls.covers((), "orders.example.com")


def test_days_left():
    assert tls.days_left(NOW + timedelta(days=30), NOW) == 30
    assert tls.days_left(NOW + timedelta(days=30, hours=-1), NOW) == 29
    assert tls.days_left(NOW - timedelta(hours=1), NOW) == -1


def facts(names, days):
    return tls.CertFacts("CN=x", "CN=ca", names, NOW - timedelta(days=1), NOW + timedelta(days=days), "aa")


def test_reusable():
    wanted = ("*.example.com", "example.com")
    assert tls.reusable(facts(wanted, 31), wanted, NOW)
    assert not tls.reusable(facts(wanted, 30), wanted, NOW)
    assert not tls.reusable(facts(("*.example.com",), 300), wanted, NOW)
