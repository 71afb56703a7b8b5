"""Least privilege for the platform: pod hardening, the orchestrator's Role, NetworkPolicies, integration limits."""

from __future__ import annotations

from ansible_collections.octo.platform.plugins.module_utils.render import names

# (apiGroup, resource) -> verbs the orchestrator needs to deploy, scale and undeploy integrations.
MANAGE_VERBS = ("get", "list", "watch", "create", "update", "patch", "delete")
MANAGED_RESOURCES = (
    ("", "configmaps"),
    ("", "services"),
    ("apps", "deployments"),
    ("networking.k8s.io", "ingresses"),
)
# The integration secrets' one Secret, named: written, never listed (resourceNames cannot restrict list/create).
SECRET_VERBS = ("get", "update", "patch")
DNS_PORT = 53
API_SERVER_PORTS = (443, 6443)
HTTPS_PORT = 443
BACKUP = "octo-backup"  # the scheduled backup's pods and objects (render.backup_schedule)
DEFAULT_QUOTA = {
    "pods": "50",
    "requests.cpu": "4",
    "requests.memory": "8Gi",
    "limits.cpu": "8",
    "limits.memory": "16Gi",
}
DEFAULT_LIMITS = {
    "default": {"cpu": "500m", "memory": "256Mi"},
    "defaultRequest": {"cpu": "50m", "memory": "64Mi"},
}


def pod_security() -> dict:
    return {
        "runAsNonRoot": True,
        "runAsUser": 65532,
        "runAsGroup": 65532,
        "seccompProfile": {"type": "RuntimeDefault"},
    }


def container_security() -> dict:
    return {
        "allowPrivilegeEscalation": False,
        "readOnlyRootFilesystem": True,
        "runAsNonRoot": True,
        "capabilities": {"drop": ["ALL"]},
        "seccompProfile": {"type": "RuntimeDefault"},
    }


def orchestrator_rbac(config, account: str) -> list[dict]:
    """A Role in the integrations namespace bound to the orchestrator's ServiceAccount; nothing cluster-wide."""
    rules = [
        {"apiGroups": [group], "resources": [resource], "verbs": list(MANAGE_VERBS)}
        for group, resource in MANAGED_RESOURCES
    ]
    rules.append(
        {
            "apiGroups": [""],
            "resources": ["secrets"],
            "resourceNames": [names.SECRETS_NAME],
            "verbs": list(SECRET_VERBS),
        }
    )
    meta = {
        "name": account,
        "namespace": config.integrations_namespace,
        "labels": {names.LABEL_NAME: account, names.LABEL_PART_OF: names.PART_OF},
    }
    role = {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role", "metadata": meta, "rules": rules}
    binding = {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "RoleBinding",
        "metadata": dict(meta),
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": account},
        "subjects": [{"kind": "ServiceAccount", "name": account, "namespace": config.namespace}],
    }
    return [role, binding]


def network_policies(config, peers: dict) -> list[dict]:
    """Default deny in the platform namespace, then exactly: ingress controller -> editor -> orchestrator ->
    Postgres/Redis, DNS for every pod, the API server for the orchestrator, the issuer for the editor (OIDC).

    ``peers`` maps a component name to (pod labels, port).
    """
    policies = [_policy(config, "octo-default-deny", {}, ["Ingress", "Egress"], {})]
    policies.append(_policy(config, "octo-allow-dns", {}, ["Egress"], {"egress": [_dns_rule()]}))
    editor_labels, editor_port = peers["octo-editor"]
    controller = {
        "namespaceSelector": {
            "matchLabels": {"kubernetes.io/metadata.name": config.ingress_controller_namespace}
        }
    }
    if config.ingress_controller_labels:
        controller["podSelector"] = {"matchLabels": dict(config.ingress_controller_labels)}
    policies.append(
        _ingress_from(config, "octo-editor-from-ingress-controller", editor_labels, [controller], editor_port)
    )
    for source, target in _paths(peers):
        source_labels = peers[source][0]
        target_labels, port = peers[target]
        sources = [{"podSelector": {"matchLabels": source_labels}}]
        policies.append(_ingress_from(config, f"{target}-from-{source}", target_labels, sources, port))
        egress = {
            "egress": [{"to": [{"podSelector": {"matchLabels": target_labels}}], "ports": [_port(port)]}]
        }
        policies.append(
            _policy(config, f"{source}-to-{target.removeprefix('octo-')}", source_labels, ["Egress"], egress)
        )
    orchestrator_labels = peers["octo-orchestrator"][0]
    api = {"egress": [{"ports": [_port(port) for port in API_SERVER_PORTS]}]}
    policies.append(_policy(config, "octo-orchestrator-to-api", orchestrator_labels, ["Egress"], api))
    if config.oidc.enabled:
        issuer = {"egress": [{"ports": [_port(HTTPS_PORT)]}]}
        policies.append(_policy(config, "octo-editor-to-issuer", editor_labels, ["Egress"], issuer))
    if BACKUP in peers:
        storage = {"egress": [{"ports": [_port(HTTPS_PORT)]}]}
        policies.append(_policy(config, "octo-backup-to-storage", peers[BACKUP][0], ["Egress"], storage))
    return policies


def integrations_limits(config) -> list[dict]:
    meta = {
        "namespace": config.integrations_namespace,
        "labels": {names.LABEL_NAME: "octo-integrations", names.LABEL_PART_OF: names.PART_OF},
    }
    quota = {"hard": dict(config.integrations_quota or DEFAULT_QUOTA)}
    limits = dict(config.integrations_limits or DEFAULT_LIMITS)
    return [
        {
            "apiVersion": "v1",
            "kind": "ResourceQuota",
            "metadata": {"name": "octo-integrations", **meta},
            "spec": quota,
        },
        {
            "apiVersion": "v1",
            "kind": "LimitRange",
            "metadata": {"name": "octo-integrations", **meta},
            "spec": {"limits": [{"type": "Container", **limits}]},
        },
    ]


def _paths(peers: dict) -> list[tuple[str, str]]:
    paths = [("octo-editor", "octo-orchestrator")]
    paths += [("octo-orchestrator", store) for store in ("octo-postgres", "octo-redis") if store in peers]
    if BACKUP in peers and "octo-postgres" in peers:
        paths.append((BACKUP, "octo-postgres"))
    return paths


def _port(port: int) -> dict:
    return {"protocol": "TCP", "port": port}


def _dns_rule() -> dict:
    return {"ports": [{"protocol": "UDP", "port": DNS_PORT}, {"protocol": "TCP", "port": DNS_PORT}]}


def _ingress_from(config, name: str, labels: dict, sources: list, port: int) -> dict:
    spec = {"ingress": [{"from": sources, "ports": [_port(port)]}]}
    return _policy(config, name, labels, ["Ingress"], spec)


def _policy(config, name: str, pod_labels: dict, types: list, rules: dict) -> dict:
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {
            "name": name,
            "namespace": config.namespace,
            "labels": {names.LABEL_PART_OF: names.PART_OF},
        },
        "spec": {
            "podSelector": {"matchLabels": dict(pod_labels)} if pod_labels else {},
            "policyTypes": types,
            **rules,
        },
    }
