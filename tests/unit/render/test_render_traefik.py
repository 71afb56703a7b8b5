"""Traefik's platform objects: the HelmChartConfig values, the traefik.io objects and the file provider form."""

from __future__ import annotations

import re
from dataclasses import replace

import pytest
import yaml

from ansible_collections.octo.platform.plugins.module_utils.common.errors import ValidationError
from ansible_collections.octo.platform.plugins.module_utils.render import traefik

SETTINGS = traefik.TraefikSettings(trusted_ips=("10.0.0.0/8", "203.0.113.7"))


def by_kind(objs: list[dict]) -> dict:
    return {(o["kind"], o["metadata"]["name"]): o for o in objs}


def test_helm_chart_config_values():
    objs = by_kind(traefik.objects(SETTINGS))
    chart = objs["HelmChartConfig", "traefik"]
    assert chart["apiVersion"] == "helm.cattle.io/v1"
    assert chart["metadata"]["namespace"] == "kube-system"
    values = yaml.safe_load(chart["spec"]["valuesContent"])
    assert values["logs"]["access"]["enabled"] is True
    assert values["ingressRoute"]["dashboard"]["enabled"] is False
    for port in ("web", "websecure"):
        assert values["ports"][port]["forwardedHeaders"]["trustedIPs"] == ["10.0.0.0/8", "203.0.113.7"]
    assert values["ports"]["websecure"]["middlewares"] == ["kube-system-security-headers@kubernetescrd"]
    assert values["ports"]["websecure"]["tls"] == {"enabled": True}


def test_security_headers_and_tls_option():
    objs = by_kind(traefik.objects(SETTINGS))
    headers = objs["Middleware", "security-headers"]["spec"]["headers"]
    assert headers["stsSeconds"] == 31536000
    assert headers["stsIncludeSubdomains"] is True
    assert headers["contentTypeNosniff"] is True
    assert headers["frameDeny"] is True
    assert headers["referrerPolicy"] == "strict-origin-when-cross-origin"
    assert objs["TLSOption", "default"]["spec"] == {"minVersion": "VersionTLS12"}
    assert all(o["metadata"]["namespace"] == "kube-system" for o in objs.values())


def test_redirect_keeps_the_acme_challenge_on_plain_http():
    objs = by_kind(traefik.objects(SETTINGS))
    assert objs["Middleware", "redirect-https"]["spec"] == {
        "redirectScheme": {"scheme": "https", "permanent": True}
    }
    (route,) = objs["IngressRoute", "http-to-https"]["spec"]["routes"]
    assert objs["IngressRoute", "http-to-https"]["spec"]["entryPoints"] == ["web"]
    assert route["match"] == "PathPrefix(`/`) && !PathPrefix(`/.well-known/acme-challenge/`)"
    assert route["priority"] == 10000  # above every Ingress router (rule length)
    assert route["middlewares"] == [{"name": "redirect-https"}]


def test_redirect_domain_limits_the_redirect():
    settings = replace(SETTINGS, redirect_domain="octo.localtest.me")
    rule = traefik.redirect_rule(settings)
    pattern = re.search(r"HostRegexp\(`([^`]+)`\)", rule).group(1)
    assert re.match(pattern, "octo.localtest.me")
    assert re.match(pattern, "http-orders.octo.localtest.me")
    assert not re.match(pattern, "no-such-host.localtest.me")
    assert not re.match(pattern, "evil-octo.localtest.me.example.com")


def test_no_redirect_objects_when_off():
    kinds = {o["kind"] for o in traefik.objects(replace(SETTINGS, redirect_to_https=False))}
    assert kinds == {"HelmChartConfig", "Middleware", "TLSOption"}
    dynamic = traefik.file_provider(replace(SETTINGS, redirect_to_https=False))
    assert "routers" not in dynamic["http"]


def test_file_provider_has_the_same_values():
    objs = by_kind(traefik.objects(SETTINGS))
    dynamic = traefik.file_provider(SETTINGS)
    assert (
        dynamic["http"]["middlewares"]["security-headers"] == objs["Middleware", "security-headers"]["spec"]
    )
    assert dynamic["http"]["middlewares"]["redirect-https"] == objs["Middleware", "redirect-https"]["spec"]
    router = dynamic["http"]["routers"]["http-to-https"]
    assert router["rule"] == objs["IngressRoute", "http-to-https"]["spec"]["routes"][0]["match"]
    assert router["priority"] == 10000 and router["service"] == "noop@internal"
    assert dynamic["tls"]["options"]["default"] == {"minVersion": "VersionTLS12"}
    assert traefik.entry_point_http() == {"middlewares": ["security-headers@file"], "tls": {}}


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"namespace": "Kube_System"}, "namespace"),
        ({"trusted_ips": ("10.0.0.0/33",)}, "trusted_ips"),
        ({"trusted_ips": ("not-an-ip",)}, "trusted_ips"),
        ({"min_tls_version": "VersionTLS10"}, "min_tls_version"),
        ({"hsts_seconds": -1}, "hsts_seconds"),
        ({"hsts_seconds": True}, "hsts_seconds"),
        ({"referrer_policy": "always"}, "referrer_policy"),
        ({"redirect_domain": "Octo.Example"}, "redirect_domain"),
    ],
)
def test_bad_settings_are_named(change, field):
    with pytest.raises(ValidationError) as caught:
        traefik.validate(replace(SETTINGS, **change))
    assert caught.value.field == field
    assert str(caught.value).startswith(f"Failed to validate the Traefik settings: {field}: ")


def test_good_settings_pass():
    assert traefik.validate(SETTINGS) is SETTINGS
