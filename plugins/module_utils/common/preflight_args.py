"""Argument spec of platform_preflight (with K8S_AUTH for the live checks)."""

from __future__ import annotations

from ansible_collections.octo.platform.plugins.module_utils.render.preflight import CHECKS

PREFLIGHT = {
    "settings": {"type": "dict", "required": True},
    "credentials": {"type": "dict", "no_log": True, "default": {}},
    "public_hosts": {
        "type": "list",
        "elements": "dict",
        "default": [],
        "options": {"host": {"type": "str", "required": True}, "tls": {"type": "bool", "default": True}},
    },
    "public_urls": {"type": "dict", "default": {}},
    "backups_enabled": {"type": "bool", "default": False},
    "k3s_config": {"type": "dict"},
    "state_bucket_drift": {"type": "list", "elements": "dict"},
    "cluster": {"type": "bool", "default": True},
    "orchestrator_service_account": {"type": "str", "default": "octo-orchestrator"},
    "waivers": {"type": "list", "elements": "str", "default": [], "choices": sorted(CHECKS)},
    "strict": {"type": "bool", "default": False},
}
