"""Pure hardening checks of the platform configuration and of facts read from the cluster and the state bucket.

``findings(config, facts)`` returns every Finding (id, severity, evidence, fix); a fact that was not read
(None) skips its check. ``table`` renders them as the lines the play prints. Secret values never appear in a
finding, only their names.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import asdict, dataclass
from urllib.parse import urlsplit

from ansible_collections.octo.platform.plugins.module_utils.render import names
from ansible_collections.octo.platform.plugins.module_utils.render.k3s import SERVER_DEFAULTS
from ansible_collections.octo.platform.plugins.module_utils.render.platform_config import DEFAULT_SECRETS

MIN_SECRET_BYTES = 32
MIN_ENTROPY_BITS = 128
SEVERITIES = ("high", "medium", "low")
EXAMPLE_DOMAINS = ("example.com", "example.org", "example.net")
PRIVATE_SUFFIXES = (
    ".test",
    ".local",
    ".localhost",
    ".internal",
    ".lan",
    ".home.arpa",
    ".example",
    ".invalid",
)
IMAGES = ("editor", "orchestrator", "postgres", "redis")
# One registry of the findings: id -> (severity, fix).
CHECKS = {
    "secret_weak": ("high", "regenerate it with platform_credentials (32 random bytes)"),
    "secret_default": ("high", "replace the example value with a generated secret"),
    "domain_example": ("medium", "set platform_domain to the platform's real domain"),
    "oidc_public": ("high", "set platform_oidc_enabled with an issuer and client, or waive oidc_public"),
    "tls_off": ("high", "set platform_tls_mode to wildcard or http01 (and tls on the integration)"),
    "postgres_no_backup": ("high", "schedule platform_backup (the backup CronJob) or use managed Postgres"),
    "quota_missing": ("medium", "set platform_integrations_quota (a ResourceQuota on the namespace)"),
    "pull_policy_never": ("medium", "use pull_policy IfNotPresent or Always with a registry image"),
    "mutable_tag": ("medium", "pin a release tag or a sha256 digest instead of latest"),
    "rbac_cluster_wide": ("high", "bind the orchestrator to a namespaced Role only (no ClusterRoleBinding)"),
    "secrets_encryption_off": ("high", "keep secrets-encryption: true in k3s_config"),
    "state_bucket_drift": ("high", "run gcs_state_bucket with fix_drift: true"),
    "public_url_mismatch": ("medium", "make the public URL's host the domain or a name under it"),
}


@dataclass(frozen=True)
class Finding:
    id: str
    severity: str
    evidence: str
    fix: str
    waived: bool = False


def _finding(check: str, evidence: str, waivers: frozenset = frozenset()) -> Finding:
    severity, fix = CHECKS[check]
    return Finding(check, severity, evidence, fix, check in waivers)


def entropy_bits(value: str) -> float:
    """Shannon entropy of the value's characters times its length: a low estimate flags repetition."""
    if not value:
        return 0.0
    counts = Counter(value)
    per_char = -sum(n / len(value) * math.log2(n / len(value)) for n in counts.values())
    return per_char * len(value)


def secret_findings(secrets: dict) -> list[Finding]:
    found = []
    for name in sorted(secrets):
        value = secrets[name]
        if not isinstance(value, str):
            continue
        if value.strip().lower() in DEFAULT_SECRETS or any(
            w in value.lower() for w in ("changeme", "example")
        ):
            found.append(_finding("secret_default", f"{name} is an example or default value"))
        elif len(value.encode()) < MIN_SECRET_BYTES:
            found.append(
                _finding("secret_weak", f"{name} has {len(value.encode())} bytes (< {MIN_SECRET_BYTES})")
            )
        elif entropy_bits(value) < MIN_ENTROPY_BITS:
            bits = round(entropy_bits(value))
            found.append(
                _finding("secret_weak", f"{name} has about {bits} bits of entropy (< {MIN_ENTROPY_BITS})")
            )
    return found


def is_public(domain: str) -> bool:
    """A domain reachable from the internet: not empty, not an IP, not a reserved or private suffix."""
    if not domain or not names.is_dns_name(domain) or "." not in domain:
        return False
    return not domain.endswith(PRIVATE_SUFFIXES) and not domain.replace(".", "").isdigit()


def public_urls(config: dict, given: dict) -> dict:
    """The public URLs to check: given ones and the components' *PUBLIC_URL / AUTH_URL variables."""
    found = {}
    for component in ("editor", "orchestrator"):
        for name, value in (config.get(f"{component}_extra_env") or {}).items():
            if ("PUBLIC_URL" in name or name in ("NEXTAUTH_URL", "AUTH_URL")) and "://" in str(value):
                found[f"platform_{component}_extra_env.{name}"] = str(value)
    return {**found, **(given or {})}


def public_hosts(config: dict, given: list) -> list[dict]:
    """The editor's host (when exposed) and the given integration hosts, each with whether TLS is on."""
    hosts = list(given or [])
    if config.get("domain") and config.get("ingress_enabled", True):
        hosts.insert(0, {"host": config["domain"], "tls": config.get("tls_mode", "wildcard") != "none"})
    return hosts


def exposure_findings(config: dict, waivers: frozenset) -> list[Finding]:
    domain = config.get("domain") or ""
    found = []
    if domain.endswith(EXAMPLE_DOMAINS):
        found.append(_finding("domain_example", f"platform_domain is {domain}"))
    if is_public(domain) and not config.get("oidc_enabled"):
        found.append(
            _finding("oidc_public", f"{domain} is public and platform_oidc_enabled is false", waivers)
        )
    for host in config.get("public_hosts") or []:
        if not host.get("tls", True):
            found.append(_finding("tls_off", f"{host['host']} is served without TLS"))
    for name, url in sorted((config.get("public_urls") or {}).items()):
        host = (urlsplit(url).hostname or "").lower()
        if domain and not (host == domain or host.endswith("." + domain)):
            found.append(_finding("public_url_mismatch", f"{name} {url} is not under {domain}"))
        elif urlsplit(url).scheme != "https" and config.get("tls_mode") != "none":
            found.append(_finding("public_url_mismatch", f"{name} {url} is not https"))
    return found


def image_findings(config: dict) -> list[Finding]:
    found = []
    for component in IMAGES:
        image = config.get(f"{component}_image")
        if not image:
            continue
        reference = f"{image.get('repository')}:{image.get('tag') or ''}"
        if image.get("pull_policy") == "Never":
            found.append(_finding("pull_policy_never", f"platform_{component}_image pull_policy is Never"))
        if not image.get("digest") and (image.get("tag") or "latest") == "latest":
            found.append(_finding("mutable_tag", f"platform_{component}_image is {reference} (mutable)"))
    return found


def postgres_findings(config: dict) -> list[Finding]:
    if config.get("postgres_mode", "in_cluster") == "in_cluster" and not config.get("backups_enabled"):
        return [_finding("postgres_no_backup", "Postgres runs in the cluster and no backup is scheduled")]
    return []


def fact_findings(facts: dict) -> list[Finding]:
    """Findings from what was read live; None means the fact was not read."""
    found = []
    if facts.get("quota_present") is False and not facts.get("quota_configured"):
        ns = facts.get("integrations_namespace")
        found.append(_finding("quota_missing", f"no ResourceQuota in namespace {ns} and none configured"))
    for grant in facts.get("rbac_cluster_wide") or []:
        found.append(_finding("rbac_cluster_wide", f"{facts['orchestrator']} may {grant}"))
    if facts.get("k3s_config") is not None:
        effective = {**SERVER_DEFAULTS, **facts["k3s_config"]}
        if effective.get("secrets-encryption") is not True:
            found.append(_finding("secrets_encryption_off", "k3s_config sets secrets-encryption to false"))
    for item in facts.get("bucket_drift") or []:
        evidence = f"state bucket {item['field']} is {item['actual']} (wanted {item['wanted']})"
        found.append(_finding("state_bucket_drift", evidence))
    return found


def findings(config: dict, secrets: dict, facts: dict, waivers: list[str]) -> list[Finding]:
    waived = frozenset(waivers)
    found = secret_findings(secrets) + exposure_findings(config, waived) + image_findings(config)
    found += postgres_findings(config) + fact_findings(facts)
    return sorted(found, key=lambda f: (SEVERITIES.index(f.severity), f.id, f.evidence))


def blocking(found: list[Finding]) -> list[Finding]:
    """The high findings that are not waived: what strict mode fails on."""
    return [f for f in found if f.severity == "high" and not f.waived]


def as_dicts(found: list[Finding]) -> list[dict]:
    return [asdict(f) for f in found]


def table(found: list[Finding]) -> list[str]:
    """SEVERITY, ID, EVIDENCE per finding with its fix on the next line; one line when there is none."""
    if not found:
        return ["PASS    no finding: every hardening check passed"]
    width = max(len(f.id) for f in found)
    lines = [f"{'SEVERITY':8}  {'ID':{width}}  EVIDENCE"]
    for f in found:
        severity = f"{f.severity}*" if f.waived else f.severity
        lines.append(f"{severity.upper():8}  {f.id:{width}}  {f.evidence}")
        lines.append(f"{'':8}  {'':{width}}  fix: {f.fix}")
    if any(f.waived for f in found):
        lines.append("* waived")
    return lines
