"""Each preflight finding made true, and false on a hardened configuration."""

from __future__ import annotations

import secrets

import pytest

from ansible_collections.octo.platform.plugins.module_utils.render import preflight

HARDENED = {
    "namespace": "octo",
    "integrations_namespace": "octo-dev",
    "domain": "octo.acme.io",
    "ingress_enabled": True,
    "tls_mode": "wildcard",
    "oidc_enabled": True,
    "postgres_mode": "in_cluster",
    "editor_image": {
        "repository": "ghcr.io/octo-dev/octo-editor",
        "tag": "v0.1.4",
        "pull_policy": "IfNotPresent",
    },
    "orchestrator_image": {
        "repository": "ghcr.io/o/orch",
        "digest": "sha256:" + "a" * 64,
        "pull_policy": "Always",
    },
    "editor_extra_env": {"API_PUBLIC_URL": "https://octo.acme.io/api"},
    "integrations_quota": {"pods": "50"},
}
SECRETS = {
    name: secrets.token_urlsafe(32) for name in ("postgres_password", "session_secret", "encryption_key")
}
FACTS = {
    "quota_present": True,
    "quota_configured": True,
    "integrations_namespace": "octo-dev",
    "orchestrator": "ServiceAccount octo/octo-orchestrator",
    "rbac_cluster_wide": [],
    "k3s_config": {},
    "bucket_drift": [],
}


def run(config=None, creds=None, facts=None, waivers=()):
    config = {**HARDENED, **(config or {})}
    config = {
        **config,
        "backups_enabled": config.get("backups_enabled", True),
        "public_hosts": preflight.public_hosts(config, config.get("public_hosts")),
        "public_urls": preflight.public_urls(config, {}),
    }
    return preflight.findings(config, {**SECRETS, **(creds or {})}, {**FACTS, **(facts or {})}, list(waivers))


def ids(found):
    return [f.id for f in found]


def test_a_hardened_configuration_has_no_finding():
    assert run() == []
    assert preflight.table([]) == ["PASS    no finding: every hardening check passed"]


@pytest.mark.parametrize(
    ("config", "creds", "facts", "expected", "evidence"),
    [
        ({}, {"session_secret": "short"}, {}, "secret_weak", "session_secret has 5 bytes (< 32)"),
        ({}, {"session_secret": "ab" * 20}, {}, "secret_weak", "session_secret has about 40 bits"),
        ({}, {"encryption_key": "changeme-changeme-changeme-changeme"}, {}, "secret_default", "encryption_key is"),
        ({"domain": "octo.example.com", "editor_extra_env": {}}, {}, {}, "domain_example", "octo.example.com"),
        ({"oidc_enabled": False}, {}, {}, "oidc_public", "octo.acme.io is public"),
        ({"tls_mode": "none", "editor_extra_env": {}}, {}, {}, "tls_off", "octo.acme.io is served without TLS"),
        ({"public_hosts": [{"host": "orders.octo.acme.io", "tls": False}]}, {}, {}, "tls_off", "orders.octo"),
        ({"backups_enabled": False}, {}, {}, "postgres_no_backup", "no backup is scheduled"),
        ({"integrations_quota": {}}, {}, {"quota_present": False, "quota_configured": False}, "quota_missing",
         "no ResourceQuota in namespace octo-dev"),
        ({"editor_image": {"repository": "r/e", "tag": "v1", "pull_policy": "Never"}}, {}, {}, "pull_policy_never",
         "platform_editor_image pull_policy is Never"),
        ({"editor_image": {"repository": "r/e", "tag": "latest"}}, {}, {}, "mutable_tag", "r/e:latest"),
        ({"editor_image": {"repository": "r/e"}}, {}, {}, "mutable_tag", "r/e: (mutable)"),
        ({}, {}, {"rbac_cluster_wide": ["list secrets in all namespaces"]}, "rbac_cluster_wide",
         "octo-orchestrator may list secrets in all namespaces"),
        ({}, {}, {"k3s_config": {"secrets-encryption": False}}, "secrets_encryption_off", "secrets-encryption"),
        ({}, {}, {"bucket_drift": [{"field": "versioning", "actual": False, "wanted": True}]}, "state_bucket_drift",
         "state bucket versioning is False (wanted True)"),
        ({"editor_extra_env": {"API_PUBLIC_URL": "https://octo.other.io/api"}}, {}, {}, "public_url_mismatch",
         "API_PUBLIC_URL https://octo.other.io/api is not under octo.acme.io"),
        ({"editor_extra_env": {"NEXTAUTH_URL": "http://octo.acme.io"}}, {}, {}, "public_url_mismatch", "not https"),
    ],
)  # fmt: skip
def test_each_finding_made_true(config, creds, facts, expected, evidence):
    found = run(config, creds, facts)
    assert ids(found) == [expected], found
    assert evidence in found[0].evidence and found[0].fix == preflight.CHECKS[expected][1]
    assert found[0].severity == preflight.CHECKS[expected][0]
    for value in creds.values():
        assert value not in found[0].evidence  # names only, never values


def test_facts_not_read_skip_their_checks_and_configured_quota_counts():
    unknown = {"quota_present": None, "rbac_cluster_wide": None, "k3s_config": None, "bucket_drift": None}
    assert run(facts=unknown) == []
    assert run(facts={"quota_present": False}) == []  # platform_integrations_quota will create it


def test_private_domains_need_no_oidc_and_waivers_do_not_block():
    assert run({"domain": "octo.test", "oidc_enabled": False, "editor_extra_env": {}}) == []
    found = run({"oidc_enabled": False}, waivers=["oidc_public"])
    assert ids(found) == ["oidc_public"] and found[0].waived and preflight.blocking(found) == []
    assert preflight.table(found)[-1] == "* waived" and "HIGH*" in preflight.table(found)[1]


def test_findings_sorted_high_first_and_the_table_gives_each_fix():
    found = run({"editor_image": {"repository": "r/e", "tag": "latest"}, "backups_enabled": False})
    assert ids(found) == ["postgres_no_backup", "mutable_tag"]
    lines = preflight.table(found)
    assert lines[0].split() == ["SEVERITY", "ID", "EVIDENCE"]
    assert lines[1].startswith("HIGH      postgres_no_backup") and "fix: schedule platform_backup" in lines[2]
    assert [f.id for f in preflight.blocking(found)] == ["postgres_no_backup"]


def test_entropy_estimate():
    assert preflight.entropy_bits("a" * 64) == 0
    assert preflight.entropy_bits(secrets.token_urlsafe(32)) > preflight.MIN_ENTROPY_BITS
