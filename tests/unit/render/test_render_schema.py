"""Rendered objects validate against the newest Kubernetes schema kubernetes-validate ships, in strict mode."""

from __future__ import annotations

import copy

import kubernetes_validate
import kubernetes_validate.utils
import pytest

from ansible_collections.octo.platform.plugins.module_utils.render.integration import TlsSettings, render
from ansible_collections.octo.platform.plugins.module_utils.render.plan import stamp


def version_tuple(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split("."))


VERSION = max(kubernetes_validate.utils.all_versions(), key=version_tuple)


def variants(network_request, worker_request, exposed_request):
    return {
        "worker": worker_request(replicas=0),
        "network": network_request(bindings={"API_KEY": {"secret": "K"}, "REGION": {"value": ""}}),
        "http01": exposed_request("http01"),
        "wildcard": exposed_request("wildcard"),
        "none": exposed_request("none", tls=TlsSettings(mode="none"), subdomain="shop"),
    }


def test_schema_version_is_recent():
    assert version_tuple(VERSION) >= (1, 30, 0)


@pytest.mark.parametrize("variant", ["worker", "network", "http01", "wildcard", "none"])
def test_rendered_objects_are_valid(network_request, worker_request, exposed_request, variant):
    request = variants(network_request, worker_request, exposed_request)[variant]
    for obj in render(request).objects:
        kubernetes_validate.validate(stamp(obj), VERSION, strict=True)


def test_strict_validation_rejects_a_misspelled_field(network_request):
    deployment = copy.deepcopy(render(network_request()).objects[1])
    deployment["spec"]["template"]["spec"]["contianers"] = deployment["spec"]["template"]["spec"].pop(
        "containers"
    )
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, VERSION, strict=True)
