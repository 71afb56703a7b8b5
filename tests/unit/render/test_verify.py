"""Pure verification judgements: endpoint options, header rules, the table."""

from __future__ import annotations

import re

import pytest

from ansible_collections.octo.platform.plugins.module_utils.common.errors import ValidationError
from ansible_collections.octo.platform.plugins.module_utils.render import verify


def test_endpoints_take_auth_from_oidc_unless_overridden():
    found = verify.endpoints(
        {
            "oidc_enabled": True,
            "endpoints": [
                {"url": "https://octo.example.com", "auth_required": None},
                {"name": "orders", "url": "https://orders.example.com:8443", "auth_required": False},
            ],
        }
    )
    assert [(e["name"], e["host"], e["auth_required"]) for e in found] == [
        ("octo.example.com", "octo.example.com", True),
        ("orders", "orders.example.com", False),
    ]


@pytest.mark.parametrize(
    ("item", "field"),
    [
        ({"url": "ftp://octo.example.com"}, "endpoints[0].url"),
        ({"url": "https://octo.example.com", "health_path": "health"}, "endpoints[0].health_path"),
    ],
)
def test_bad_endpoints_are_refused(item, field):
    with pytest.raises(ValidationError, match=re.escape(f"platform verification: {field}: ")):
        verify.endpoints({"endpoints": [item]})
    with pytest.raises(ValidationError, match="list at least the editor"):
        verify.endpoints({"endpoints": []})


def test_header_rules():
    good = {
        "strict-transport-security": 'max-age="15552000"',
        "X-Content-Type-Options": "nosniff",
        "X-Frame-Options": "sameorigin",
        "Referrer-Policy": "no-referrer",
    }
    assert verify.headers_check(good).ok
    bad = verify.headers_check({**good, "X-Frame-Options": "ALLOW-FROM x", "Strict-Transport-Security": "x"})
    assert not bad.ok and "max-age" in bad.message and "frame-ancestors" in bad.message


def test_table_aligns_one_line_per_check():
    results = [
        {"name": "editor", "checks": [{"name": "dns", "ok": True, "message": "ok"}]},
        {"name": "orders-api", "checks": [{"name": "auth", "ok": False, "message": "HTTP 200"}]},
    ]
    assert verify.table(results) == [
        "RESULT  ENDPOINT    CHECK        DETAIL",
        "PASS    editor      dns          ok",
        "FAIL    orders-api  auth         HTTP 200",
    ]
