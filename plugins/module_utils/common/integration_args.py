"""Argument specs of integration deployments, shared by the single (`integration`) and bulk (`integrations`) modules."""

from __future__ import annotations

from ansible.module_utils.basic import env_fallback

DEFAULT_IMAGE = "ghcr.io/octo-run/octo:0.1.4"

# Options a bulk call sets once for all its integrations; an item may override each.
SHARED = {
    "image": {"type": "str", "default": DEFAULT_IMAGE},
    "namespace": {"type": "str", "default": "octo-dev"},
    "base_domain": {"type": "str", "fallback": (env_fallback, ["OCTO_BASE_DOMAIN"])},
    "tls_mode": {"type": "str", "default": "http01", "choices": ["http01", "wildcard", "none"]},
    "cluster_issuer": {"type": "str", "default": "letsencrypt-prod"},
    "wildcard_secret": {"type": "str", "default": "octo-wildcard-tls", "no_log": False},  # a Secret's name
    "ingress_class": {"type": "str", "default": "traefik"},
}

TOLERATION = {
    "key": {"type": "str", "no_log": False},  # a taint key
    "operator": {"type": "str", "choices": ["Equal", "Exists"]},
    "value": {"type": "raw"},
    "effect": {"type": "str", "choices": ["NoSchedule", "PreferNoSchedule", "NoExecute"]},
    "tolerationSeconds": {"type": "int"},
}
PROBES = {
    "path": {"type": "str"},
    "initial_delay_seconds": {"type": "int"},
    "period_seconds": {"type": "int"},
    "failure_threshold": {"type": "int"},
}
PROMOTE_FROM = {
    "deployment_id": {"type": "str", "required": True},
    "namespace": {"type": "str"},
    "revision": {"type": "str"},  # a number or "latest"; default the newest that rolled out
    "env": {"type": "bool", "default": False},  # also copy the source's env bindings
}

# Options of one deployment.
DEPLOYMENT = {
    "name": {"type": "str"},
    "slug": {"type": "str"},
    "deployment_id": {"type": "str", "required": True, "aliases": ["id"]},
    "definition": {"type": "str"},
    "definition_file": {"type": "path"},
    "env": {"type": "dict", "default": {}},
    "replicas": {"type": "int"},  # None: 1, or the live count when rolling back or promoting
    "expose": {"type": "bool", "default": False},
    "subdomain": {"type": "str"},
    "resources": {
        "type": "dict",
        "options": {
            # Keys cpu, memory, ephemeral-storage (not Python names, so no suboptions): the render layer
            # checks the names, parses the quantities ("500m", 0.5, "256Mi") and canonicalizes them.
            "requests": {"type": "dict"},
            "limits": {"type": "dict"},
        },
    },
    "node_selector": {"type": "dict"},
    "tolerations": {"type": "list", "elements": "dict", "options": TOLERATION},
    "probes": {"type": "dict", "options": PROBES},
    "rollback_to": {"type": "str"},  # a revision number or "previous"
    "promote_from": {"type": "dict", "options": PROMOTE_FROM},
    "atomic": {"type": "bool", "default": False},
    "history_limit": {"type": "int", "default": 10},
    "actor": {"type": "str"},
}

INTEGRATION = {
    **DEPLOYMENT,
    **SHARED,
    "state": {"type": "str", "default": "present", "choices": ["present", "absent"]},
}

# A bulk item: the deployment options, plus the shared ones without defaults (unset means "the call's value").
BULK_ITEM = {
    **{key: dict(spec, required=key in ("slug", "deployment_id")) for key, spec in DEPLOYMENT.items()},
    **{
        key: {k: v for k, v in spec.items() if k not in ("default", "fallback")}
        for key, spec in SHARED.items()
    },
}
