"""Argument spec of one integration deployment, shared by the single and the bulk modules."""

from __future__ import annotations

from ansible.module_utils.basic import env_fallback

DEFAULT_IMAGE = "ghcr.io/octo-run/octo:0.1.4"

INTEGRATION = {
    "name": {"type": "str"},
    "slug": {"type": "str"},
    "deployment_id": {"type": "str", "required": True, "aliases": ["id"]},
    "definition": {"type": "str"},
    "definition_file": {"type": "path"},
    "env": {"type": "dict", "default": {}},
    "replicas": {"type": "int", "default": 1},
    "image": {"type": "str", "default": DEFAULT_IMAGE},
    "namespace": {"type": "str", "default": "octo-dev"},
    "expose": {"type": "bool", "default": False},
    "subdomain": {"type": "str"},
    "base_domain": {"type": "str", "fallback": (env_fallback, ["OCTO_BASE_DOMAIN"])},
    "tls_mode": {"type": "str", "default": "http01", "choices": ["http01", "wildcard", "none"]},
    "cluster_issuer": {"type": "str", "default": "letsencrypt-prod"},
    "wildcard_secret": {"type": "str", "default": "octo-wildcard-tls"},
    "ingress_class": {"type": "str", "default": "traefik"},
    "state": {"type": "str", "default": "present", "choices": ["present", "absent"]},
}
