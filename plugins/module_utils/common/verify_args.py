"""Argument spec of platform_verify."""

from __future__ import annotations

VERIFY = {
    "endpoints": {
        "type": "list",
        "elements": "dict",
        "required": True,
        "options": {
            "name": {"type": "str"},
            "url": {"type": "str", "required": True},
            "health_path": {"type": "str", "default": "/api/health"},
            "health_keys": {"type": "list", "elements": "str", "default": ["status"], "no_log": False},
            "auth_path": {"type": "str", "default": "/api/"},
            "auth_required": {"type": "bool"},
            "address": {"type": "str"},
        },
    },
    "oidc_enabled": {"type": "bool", "default": False},
    "node_addresses": {"type": "list", "elements": "str", "default": []},
    "address": {"type": "str"},
    "resolver": {"type": "str"},
    "resolver_port": {"type": "int", "default": 53},
    "ca_cert": {"type": "path"},
    "min_days_left": {"type": "int", "default": 14},
    "require_tls": {"type": "bool", "default": True},
    "retries": {"type": "int", "default": 5},
    "delay": {"type": "float", "default": 3.0},
    "fail_on_error": {"type": "bool", "default": True},
    "checks": {
        "type": "list",
        "elements": "str",
        "choices": ["dns", "certificate", "health", "headers", "auth"],
        "default": ["dns", "certificate", "health", "headers", "auth"],
    },
}
