"""local_ca: the local CA and wildcard certificate, generated once, kept as files and as the wildcard TLS Secret."""

from __future__ import annotations

import base64
import json

import pytest
from k8s_support import module_params

from ansible_collections.octo.platform.plugins.module_utils.common.errors import ValidationError
from ansible_collections.octo.platform.plugins.module_utils.kube import local_ca
from ansible_collections.octo.platform.plugins.module_utils.kube import resources as res
from ansible_collections.octo.platform.plugins.module_utils.kube.client import Kube
from ansible_collections.octo.platform.plugins.module_utils.tls import certs
from ansible_collections.octo.platform.plugins.modules.local_ca import ARGUMENT_SPEC

DOMAIN = "octo.localtest.me"


@pytest.fixture
def kube(kubeconfig):
    return Kube({"kubeconfig": kubeconfig})


def params(kubeconfig, namespace, directory, **overrides) -> dict:
    args = {"kubeconfig": kubeconfig, "namespace": namespace, "dir": str(directory), "domain": DOMAIN}
    return module_params(ARGUMENT_SPEC, **{**args, **overrides})


def secret_data(kube, namespace) -> dict:
    secret = kube.get(res.SECRET, "octo-wildcard-tls", namespace)
    return {key: base64.b64decode(value) for key, value in secret["data"].items()} | {"type": secret["type"]}


def test_generated_once_and_stored_as_the_wildcard_secret(kubeconfig, namespace, kube, tmp_path):
    directory = tmp_path / "tls"
    first = local_ca.ensure(params(kubeconfig, namespace, directory))
    assert first["changed"] is True
    assert first["files_written"] == ["ca.crt", "ca.key", "wildcard.crt", "wildcard.key"]
    assert first["secret"] == {"name": "octo-wildcard-tls", "namespace": namespace, "action": "created"}
    assert {p.name: p.stat().st_mode & 0o777 for p in directory.iterdir()} == {
        "ca.key": 0o600,
        "ca.crt": 0o644,
        "wildcard.key": 0o600,
        "wildcard.crt": 0o644,
    }
    assert directory.stat().st_mode & 0o777 == 0o700
    stored = secret_data(kube, namespace)
    assert stored["type"] == "kubernetes.io/tls"
    assert stored["tls.crt"] == (directory / "wildcard.crt").read_bytes()
    assert stored["tls.key"] == (directory / "wildcard.key").read_bytes()
    assert certs.signed_by(stored["tls.crt"], (directory / "ca.crt").read_bytes())
    assert certs.facts(stored["tls.crt"]).dns_names == (f"*.{DOMAIN}", DOMAIN)
    assert first["certificate"]["days_left"] in (396, 397)
    assert first["ca_cert_pem"] == (directory / "ca.crt").read_text()

    before = {p.name: p.read_bytes() for p in directory.iterdir()}
    again = local_ca.ensure(params(kubeconfig, namespace, directory), diff=True)
    assert again["changed"] is False and again["files_written"] == []
    assert again["secret"]["action"] == "unchanged" and again["diff"] == {}
    assert {p.name: p.read_bytes() for p in directory.iterdir()} == before


def test_check_mode_writes_nothing_and_diff_hides_keys(kubeconfig, namespace, kube, tmp_path):
    directory = tmp_path / "tls"
    result = local_ca.ensure(params(kubeconfig, namespace, directory), check_mode=True, diff=True)
    assert result["changed"] is True and result["secret"]["action"] == "created"
    assert not directory.exists()
    assert kube.get(res.SECRET, "octo-wildcard-tls", namespace) is None
    assert "ca.crt: absent" in result["diff"]["before"]
    assert f"Secret {namespace}/octo-wildcard-tls: absent" in result["diff"]["before"]
    assert "PRIVATE KEY" not in json.dumps(result)

    real = local_ca.ensure(params(kubeconfig, namespace, directory), diff=True)
    assert real["files_written"] == result["files_written"]
    assert "PRIVATE KEY" not in json.dumps(real)
    assert real["ca_fingerprint_sha256"] in real["diff"]["after"]


def test_near_expiry_or_other_names_reissue_the_certificate_only(
    kubeconfig, namespace, kube, tmp_path, monkeypatch
):
    directory = tmp_path / "tls"
    monkeypatch.setattr(certs, "LEAF_DAYS", 20)  # within the 30 days renewal window
    short = local_ca.ensure(params(kubeconfig, namespace, directory))
    assert short["certificate"]["days_left"] in (19, 20)
    monkeypatch.undo()
    ca_before = (directory / "ca.crt").read_bytes()

    renewed = local_ca.ensure(params(kubeconfig, namespace, directory))
    assert renewed["files_written"] == ["wildcard.crt", "wildcard.key"]
    assert renewed["secret"]["action"] == "updated"
    assert (directory / "ca.crt").read_bytes() == ca_before
    assert secret_data(kube, namespace)["tls.crt"] == (directory / "wildcard.crt").read_bytes()

    other = local_ca.ensure(params(kubeconfig, namespace, directory, domain="demo.localtest.me"))
    assert other["files_written"] == ["wildcard.crt", "wildcard.key"]
    assert other["certificate"]["dns_names"] == ["*.demo.localtest.me", "demo.localtest.me"]


def test_a_secret_changed_by_hand_is_written_back(kubeconfig, namespace, kube, tmp_path):
    directory = tmp_path / "tls"
    local_ca.ensure(params(kubeconfig, namespace, directory))
    patch = {"data": {"tls.crt": base64.b64encode(b"tampered").decode()}}
    kube.merge_patch(res.SECRET, "octo-wildcard-tls", namespace, patch, manager="someone-else")
    result = local_ca.ensure(params(kubeconfig, namespace, directory))
    assert result["secret"]["action"] == "updated" and result["files_written"] == []
    assert secret_data(kube, namespace)["tls.crt"] == (directory / "wildcard.crt").read_bytes()


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"domain": "localhost"}, "domain: 'localhost' is not a DNS domain with a dot"),
        ({"domain": "Bad_Domain.example"}, "domain:"),
        ({"secret_name": "Bad_Name"}, "secret_name: must be a lowercase DNS name"),
    ],
)
def test_bad_input_fails_before_any_write(kubeconfig, namespace, kube, tmp_path, overrides, message):
    directory = tmp_path / "tls"
    with pytest.raises(ValidationError) as caught:
        local_ca.ensure(params(kubeconfig, namespace, directory, **overrides))
    assert str(caught.value).startswith("Failed to validate the local CA: ")
    assert message in str(caught.value)
    assert not directory.exists()
    assert kube.get(res.SECRET, "octo-wildcard-tls", namespace) is None


def test_a_broken_ca_is_reported_not_replaced(kubeconfig, namespace, tmp_path):
    directory = tmp_path / "tls"
    local_ca.ensure(params(kubeconfig, namespace, directory))
    (directory / "ca.key").write_bytes(certs.new_ca("other")[0])
    with pytest.raises(local_ca.OctoError, match=r"Failed to read the local CA: ca\.key and ca\.crt are not"):
        local_ca.ensure(params(kubeconfig, namespace, directory))
