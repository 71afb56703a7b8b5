"""Traefik's platform settings as objects: the k3s HelmChartConfig and the traefik.io objects beside it.

Pure (stdlib + PyYAML). One ``TraefikSettings`` gives both forms of the same values:

- ``objects()``: what the `traefik` role applies on a k3s node: a ``HelmChartConfig`` for kube-system/traefik
  (access logs, dashboard off, trusted forwarded headers, the security headers on the websecure entry point)
  plus the traefik.io ``Middleware``s, the ``TLSOption`` ``default`` (minimum TLS version) and the
  ``IngressRoute`` that redirects HTTP to HTTPS;
- ``file_provider()`` and ``entry_point_http()``: the same routers, middlewares and TLS options for a
  Traefik that reads them from its file provider (the local cluster's Traefik).

The HTTP -> HTTPS redirect is a router on the ``web`` entry point whose rule matches every path except
``/.well-known/acme-challenge/`` (and, when ``redirect_domain`` is set, only that domain and its
subdomains), with a priority above every Ingress router (Traefik gives those the length of their rule).
Traefik serves an Ingress on every entry point (TLS on ``websecure``, whose ``http.tls`` is on, plain on
``web``), so the redirect must outrank them on ``web``; the ACME prefix is excluded from its rule, so
cert-manager's HTTP-01 solver Ingress keeps answering the challenge over plain HTTP. An entry point redirect
(``redirections.entryPoint``) would catch the challenge too.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass

from ansible_collections.octo.platform.plugins.module_utils.common.errors import (
    DependencyError,
    ValidationError,
)
from ansible_collections.octo.platform.plugins.module_utils.render import names

try:
    import yaml

    IMPORT_ERROR = None
except ImportError as err:  # pragma: no cover - depends on the host
    IMPORT_ERROR = err

ACME_PREFIX = "/.well-known/acme-challenge/"
TRAEFIK_API = "traefik.io/v1alpha1"
HELM_API = "helm.cattle.io/v1"
CHART_NAMESPACE = "kube-system"
CHART_NAME = "traefik"
HEADERS_MIDDLEWARE = "security-headers"
REDIRECT_MIDDLEWARE = "redirect-https"
REDIRECT_ROUTER = "http-to-https"
# Above every Ingress router: Traefik gives those the length of their rule (a host is at most 253 characters).
REDIRECT_PRIORITY = 10000
TLS_VERSIONS = ("VersionTLS12", "VersionTLS13")
REFERRER_POLICIES = (
    "no-referrer",
    "no-referrer-when-downgrade",
    "origin",
    "origin-when-cross-origin",
    "same-origin",
    "strict-origin",
    "strict-origin-when-cross-origin",
)
_WHAT = "the Traefik settings"


@dataclass(frozen=True)
class TraefikSettings:
    namespace: str = CHART_NAMESPACE  # where the Middlewares, the TLSOption and the redirect live
    trusted_ips: tuple = ()  # CIDRs whose X-Forwarded-* headers Traefik trusts
    min_tls_version: str = "VersionTLS12"
    hsts_seconds: int = 31536000
    hsts_include_subdomains: bool = True
    hsts_preload: bool = False
    referrer_policy: str = "strict-origin-when-cross-origin"
    redirect_to_https: bool = True
    redirect_domain: str | None = None  # redirect only this domain and its subdomains (None: every host)
    access_log: bool = True


def validate(settings: TraefikSettings) -> TraefikSettings:
    """Raise ValidationError on the first bad setting; return the settings."""
    if not names.is_dns_name(settings.namespace):
        raise ValidationError(_WHAT, "namespace", "must be a lowercase DNS name")
    for cidr in settings.trusted_ips:
        try:
            ipaddress.ip_network(str(cidr), strict=False)
        except ValueError:
            raise ValidationError(_WHAT, "trusted_ips", f"{cidr!r} is not an IP address or CIDR") from None
    if settings.min_tls_version not in TLS_VERSIONS:
        raise ValidationError(_WHAT, "min_tls_version", f"must be one of {', '.join(TLS_VERSIONS)}")
    if isinstance(settings.hsts_seconds, bool) or not isinstance(settings.hsts_seconds, int):
        raise ValidationError(_WHAT, "hsts_seconds", "must be an integer")
    if settings.hsts_seconds < 0:
        raise ValidationError(_WHAT, "hsts_seconds", "must be 0 or more")
    if settings.referrer_policy not in REFERRER_POLICIES:
        raise ValidationError(_WHAT, "referrer_policy", f"must be one of {', '.join(REFERRER_POLICIES)}")
    if settings.redirect_domain is not None and not names.is_dns_name(settings.redirect_domain):
        raise ValidationError(_WHAT, "redirect_domain", "must be a lowercase DNS name")
    return settings


def redirect_rule(settings: TraefikSettings) -> str:
    rule = f"PathPrefix(`/`) && !PathPrefix(`{ACME_PREFIX}`)"
    if settings.redirect_domain:
        domain = re.escape(settings.redirect_domain)
        rule = f"HostRegexp(`^([a-z0-9-]+[.])*{domain}$`) && {rule}"
    return rule


def headers(settings: TraefikSettings) -> dict:
    """The security headers middleware's `headers` (the same in the CRD and in the file provider)."""
    return {
        "stsSeconds": settings.hsts_seconds,
        "stsIncludeSubdomains": settings.hsts_include_subdomains,
        "stsPreload": settings.hsts_preload,
        "forceSTSHeader": True,
        "contentTypeNosniff": True,
        "frameDeny": True,
        "referrerPolicy": settings.referrer_policy,
    }


def redirect() -> dict:
    return {"scheme": "https", "permanent": True}


def helm_values(settings: TraefikSettings) -> dict:
    """Values of k3s' Traefik chart: access logs, no dashboard, forwarded headers, headers on websecure."""
    trusted = {"trustedIPs": [str(cidr) for cidr in settings.trusted_ips]}
    return {
        "logs": {"access": {"enabled": settings.access_log}},
        "ingressRoute": {"dashboard": {"enabled": False}},
        "providers": {"kubernetesCRD": {"enabled": True, "allowCrossNamespace": False}},
        "ports": {
            "web": {"forwardedHeaders": trusted},
            "websecure": {
                "forwardedHeaders": trusted,
                "tls": {"enabled": True},
                "middlewares": [f"{settings.namespace}-{HEADERS_MIDDLEWARE}@kubernetescrd"],
            },
        },
    }


def objects(settings: TraefikSettings) -> list[dict]:
    """The objects the `traefik` role applies (validated settings expected)."""
    if IMPORT_ERROR is not None:
        raise DependencyError("yaml", "PyYAML", IMPORT_ERROR)
    found = [
        {
            "apiVersion": HELM_API,
            "kind": "HelmChartConfig",
            "metadata": {"name": CHART_NAME, "namespace": CHART_NAMESPACE},
            "spec": {"valuesContent": yaml.safe_dump(helm_values(settings), sort_keys=True)},
        },
        _traefik_object(settings, "Middleware", HEADERS_MIDDLEWARE, {"headers": headers(settings)}),
        _traefik_object(settings, "TLSOption", "default", {"minVersion": settings.min_tls_version}),
    ]
    if settings.redirect_to_https:
        found.append(
            _traefik_object(settings, "Middleware", REDIRECT_MIDDLEWARE, {"redirectScheme": redirect()})
        )
        found.append(_traefik_object(settings, "IngressRoute", REDIRECT_ROUTER, _redirect_route(settings)))
    return found


def _traefik_object(settings: TraefikSettings, kind: str, name: str, spec: dict) -> dict:
    return {
        "apiVersion": TRAEFIK_API,
        "kind": kind,
        "metadata": {"name": name, "namespace": settings.namespace},
        "spec": spec,
    }


def _redirect_route(settings: TraefikSettings) -> dict:
    return {
        "entryPoints": ["web"],
        "routes": [
            {
                "kind": "Rule",
                "match": redirect_rule(settings),
                "priority": REDIRECT_PRIORITY,
                "middlewares": [{"name": REDIRECT_MIDDLEWARE}],
                "services": [{"kind": "TraefikService", "name": "noop@internal"}],
            }
        ],
    }


def file_provider(settings: TraefikSettings) -> dict:
    """The same middlewares, redirect router and TLS options as Traefik's file provider configuration."""
    http: dict = {"middlewares": {HEADERS_MIDDLEWARE: {"headers": headers(settings)}}}
    if settings.redirect_to_https:
        http["middlewares"][REDIRECT_MIDDLEWARE] = {"redirectScheme": redirect()}
        http["routers"] = {
            REDIRECT_ROUTER: {
                "entryPoints": ["web"],
                "rule": redirect_rule(settings),
                "priority": REDIRECT_PRIORITY,
                "middlewares": [REDIRECT_MIDDLEWARE],
                "service": "noop@internal",
            }
        }
    return {"http": http, "tls": {"options": {"default": {"minVersion": settings.min_tls_version}}}}


def entry_point_http() -> dict:
    """The websecure entry point's `http` block with the file provider: TLS and the security headers on every router."""
    return {"middlewares": [f"{HEADERS_MIDDLEWARE}@file"], "tls": {}}
