"""Object names, label keys and DNS name rules of an integration deployment."""

from __future__ import annotations

import re

DEPLOYMENT_PREFIX = "octo-dep-"
INTEGRATION_PREFIX = "octo-int-"
TLS_SUFFIX = "-tls"
SECRETS_NAME = "octo-secrets"
DEFINITION_DIR = "/etc/octo/integrations"

LABEL_NAME = "app.kubernetes.io/name"
LABEL_INSTANCE = "app.kubernetes.io/instance"
LABEL_COMPONENT = "app.kubernetes.io/component"
LABEL_PART_OF = "app.kubernetes.io/part-of"
LABEL_MANAGED_BY = "app.kubernetes.io/managed-by"
LABEL_SLUG = "octo.dev/slug"
LABEL_DEPLOYMENT = "octo.dev/deployment"

APP_NAME = "octo-integration"
PART_OF = "octo"
MANAGED_BY = "octo.platform"

ANNOTATION_INTEGRATION = "octo.dev/integration"
ANNOTATION_DEFINITION_SHA = "octo.dev/definition-sha256"
ANNOTATION_CLUSTER_ISSUER = "cert-manager.io/cluster-issuer"

MAX_LABEL = 63
MAX_DNS_NAME = 253

_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")
_ENV_NAME = re.compile(r"[A-Z][A-Z0-9_]*")


def deployment_object_name(deployment_id: str) -> str:
    """Name of the ConfigMap, Deployment, Service and Ingress of one deployment."""
    return f"{DEPLOYMENT_PREFIX}{deployment_id}"


def integration_service_name(slug: str) -> str:
    """Name of the Service shared by every deployment of an integration."""
    return f"{INTEGRATION_PREFIX}{slug}"


def tls_secret_name(deployment_id: str) -> str:
    """Secret cert-manager fills with the per-host certificate (HTTP-01 mode)."""
    return f"{deployment_object_name(deployment_id)}{TLS_SUFFIX}"


def is_dns_label(value: object) -> bool:
    """RFC 1123 label: lowercase alphanumerics and '-', alphanumeric at both ends, at most 63 chars."""
    return isinstance(value, str) and len(value) <= MAX_LABEL and _LABEL.fullmatch(value) is not None


def is_dns_name(value: object) -> bool:
    """RFC 1123 subdomain: dot-separated labels, at most 253 chars, no trailing dot."""
    return (
        isinstance(value, str)
        and 0 < len(value) <= MAX_DNS_NAME
        and all(is_dns_label(part) for part in value.split("."))
    )


def is_env_name(value: object) -> bool:
    """UPPER_SNAKE_CASE, as env var names and octo-secrets keys must be."""
    return isinstance(value, str) and _ENV_NAME.fullmatch(value) is not None
