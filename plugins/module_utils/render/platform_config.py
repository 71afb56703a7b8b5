"""The platform's settings (the role's platform_* variables without the prefix), validated before any write.

Every error names the role variable (``platform_<key>``) so a user sees which setting to fix.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from ansible_collections.octo.platform.plugins.module_utils.common.errors import ValidationError
from ansible_collections.octo.platform.plugins.module_utils.render import backup_schedule, names

WHAT = "platform settings"
PULL_POLICIES = ("Always", "IfNotPresent", "Never")
ANTI_AFFINITIES = ("soft", "hard", "none")
SERVICE_TYPES = ("ClusterIP", "NodePort", "LoadBalancer")
TLS_MODES = ("wildcard", "http01", "none")
POSTGRES_MODES = ("in_cluster", "external")
REDIS_MODES = ("none", "in_cluster", "external")
# Values a key must never be: they are the ones copied from examples.
DEFAULT_SECRETS = frozenset({"", "changeme", "change-me", "default", "secret", "password", "octo", "example"})
MIN_KEY_CHARS = 32
_DIGEST = re.compile(r"sha256:[0-9a-f]{64}")
_TAG = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}")
_POSTGRES_URL = re.compile(r"postgres(ql)?://[^\s/]+/[^\s/?]+(\?\S*)?")
_REDIS_URL = re.compile(r"rediss?://\S+")
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_CLAIM = re.compile(r"[A-Za-z0-9_.:/-]+")


def fail(key: str, reason: str) -> ValidationError:
    return ValidationError(WHAT, f"platform_{key}", reason)


@dataclass(frozen=True)
class Image:
    repository: str
    tag: str = ""
    digest: str = ""
    pull_policy: str = "IfNotPresent"

    @property
    def reference(self) -> str:
        return f"{self.repository}@{self.digest}" if self.digest else f"{self.repository}:{self.tag}"


@dataclass(frozen=True)
class Component:
    image: Image
    replicas: int = 1
    resources: Mapping = field(default_factory=dict)
    port: int = 8080
    probe_path: str = "/healthz"
    service_type: str = "ClusterIP"
    extra_env: Mapping = field(default_factory=dict)


@dataclass(frozen=True)
class Oidc:
    enabled: bool = False
    issuer: str = ""
    client_id: str = ""
    write_roles: tuple = ()
    roles_claim: str = "roles"


@dataclass(frozen=True)
class Postgres:
    mode: str = "in_cluster"
    url: str = ""
    database: str = "octo"
    user: str = "octo"
    storage_size: str = "5Gi"
    storage_class: str = ""


@dataclass(frozen=True)
class Redis:
    mode: str = "none"
    url: str = ""


@dataclass(frozen=True)
class PlatformConfig:
    namespace: str
    integrations_namespace: str
    domain: str
    ingress_enabled: bool
    ingress_class: str
    tls_mode: str
    tls_secret: str
    cluster_issuer: str
    ingress_controller_namespace: str
    ingress_controller_labels: Mapping
    editor: Component
    orchestrator: Component
    postgres_component: Component
    redis_component: Component
    postgres: Postgres
    redis: Redis
    oidc: Oidc
    anti_affinity: str
    node_selector: Mapping
    tolerations: tuple
    image_pull_secrets: tuple
    integrations_quota: Mapping
    integrations_limits: Mapping
    backup: Mapping  # the scheduled backup's settings (render.backup_schedule); empty when off

    @property
    def editor_url(self) -> str:
        scheme = "http" if self.tls_mode == "none" else "https"
        return f"{scheme}://{self.domain}" if self.domain else ""

    @property
    def redirect_uri(self) -> str:
        return f"{self.editor_url}/api/auth/callback/eetr" if self.domain else ""


def parse_config(raw: Mapping) -> PlatformConfig:
    """Validate the settings (types come from the role's argument spec; here the cross-field rules)."""
    _check_names(raw)
    oidc = _oidc(raw)
    config = PlatformConfig(
        namespace=raw["namespace"],
        integrations_namespace=raw["integrations_namespace"],
        domain=raw.get("domain") or "",
        ingress_enabled=bool(raw.get("ingress_enabled", True)),
        ingress_class=raw.get("ingress_class") or "traefik",
        tls_mode=_choice(raw, "tls_mode", TLS_MODES, "wildcard"),
        tls_secret=raw.get("tls_secret") or "octo-wildcard-tls",
        cluster_issuer=raw.get("cluster_issuer") or "letsencrypt-prod",
        ingress_controller_namespace=raw.get("ingress_controller_namespace") or "kube-system",
        ingress_controller_labels=dict(raw.get("ingress_controller_labels") or {}),
        editor=_component(raw, "editor", 3000),
        orchestrator=_component(raw, "orchestrator", 8080),
        postgres_component=_component(raw, "postgres", 5432),
        redis_component=_component(raw, "redis", 6379),
        postgres=_postgres(raw),
        redis=_redis(raw),
        oidc=oidc,
        anti_affinity=_choice(raw, "anti_affinity", ANTI_AFFINITIES, "soft"),
        node_selector=dict(raw.get("node_selector") or {}),
        tolerations=tuple(raw.get("tolerations") or ()),
        image_pull_secrets=tuple(raw.get("image_pull_secrets") or ()),
        integrations_quota=dict(raw.get("integrations_quota") or {}),
        integrations_limits=dict(raw.get("integrations_limits") or {}),
        backup=_backup(raw),
    )
    _check_exposure(config)
    return config


def check_credentials(config: PlatformConfig, credentials: Mapping) -> None:
    """The state values the rendered Secrets need: present, and the encryption key neither empty nor default."""
    key = credentials.get("encryption_key")
    if not isinstance(key, str) or key.strip().lower() in DEFAULT_SECRETS or len(key) < MIN_KEY_CHARS:
        raise fail(
            "credentials.encryption_key",
            f"the orchestrator needs an encryption key of at least {MIN_KEY_CHARS} characters that is not "
            "empty or an example value (run octo.platform.platform_credentials to generate one)",
        )
    needed = ["session_secret"] + (["postgres_password"] if config.postgres.mode == "in_cluster" else [])
    needed += ["oidc_client_secret"] if config.oidc.enabled else []
    for name in needed:
        if not isinstance(credentials.get(name), str) or not credentials[name]:
            raise fail(f"credentials.{name}", "is missing from the platform state")


def _check_names(raw: Mapping) -> None:
    for key in ("namespace", "integrations_namespace", "ingress_controller_namespace"):
        value = raw.get(key, "kube-system" if key == "ingress_controller_namespace" else None)
        if not names.is_dns_label(value):
            raise fail(key, "must be an RFC 1123 label (lowercase a-z, 0-9, '-', at most 63 chars)")
    if raw["namespace"] == raw["integrations_namespace"]:
        raise fail(
            "integrations_namespace", "must differ from platform_namespace (default deny applies there)"
        )
    domain = raw.get("domain") or ""
    if domain and not names.is_dns_name(domain):
        raise fail("domain", "must be a lowercase DNS name without a trailing dot")
    for key in ("tls_secret", "cluster_issuer", "ingress_class"):
        value = raw.get(key)
        if value and not names.is_dns_name(value):
            raise fail(key, "must be a lowercase DNS name")
    for secret in raw.get("image_pull_secrets") or ():
        if not names.is_dns_name(secret):
            raise fail("image_pull_secrets", f"{secret!r} is not a Secret name")


def _choice(raw: Mapping, key: str, choices: tuple, default: str) -> str:
    value = raw.get(key) or default
    if value not in choices:
        raise fail(key, f"must be one of {', '.join(choices)}")
    return value


def _image(raw: Mapping, prefix: str) -> Image:
    spec = raw.get(f"{prefix}_image") or {}
    key = f"{prefix}_image"
    image = Image(
        repository=spec.get("repository") or "",
        tag=str(spec.get("tag") or ""),
        digest=spec.get("digest") or "",
        pull_policy=spec.get("pull_policy") or "IfNotPresent",
    )
    if not image.repository or any(c.isspace() for c in image.repository):
        raise fail(f"{key}.repository", "must be a non-empty image repository")
    if image.digest and not _DIGEST.fullmatch(image.digest):
        raise fail(f"{key}.digest", "must be sha256:<64 hex digits>")
    if not image.digest and not _TAG.fullmatch(image.tag):
        raise fail(f"{key}.tag", "must be set (or a digest) and be a valid image tag")
    if image.pull_policy not in PULL_POLICIES:
        raise fail(f"{key}.pull_policy", f"must be one of {', '.join(PULL_POLICIES)}")
    if not image.digest and image.tag == "latest" and image.pull_policy == "IfNotPresent":
        raise fail(
            f"{key}.tag",
            "'latest' with pull_policy IfNotPresent never updates a node's copy: pin a version or a digest, "
            "or set pull_policy Always",
        )
    return image


def _component(raw: Mapping, prefix: str, port: int) -> Component:
    used = prefix == "redis" and (raw.get("redis_mode") or "none") != "in_cluster"
    used = used or (prefix == "postgres" and raw.get("postgres_mode", "in_cluster") != "in_cluster")
    image = Image(repository="unused", tag="unused") if used else _image(raw, prefix)
    replicas = raw.get(f"{prefix}_replicas", 1)
    if isinstance(replicas, bool) or not isinstance(replicas, int) or replicas < 0:
        raise fail(f"{prefix}_replicas", "must be an integer >= 0")
    service_type = _choice(raw, f"{prefix}_service_type", SERVICE_TYPES, "ClusterIP")
    if prefix != "editor" and service_type != "ClusterIP":
        raise fail(f"{prefix}_service_type", "must be ClusterIP: only the editor may be exposed")
    extra_env = dict(raw.get(f"{prefix}_extra_env") or {})
    for name in extra_env:
        if not _ENV_NAME.fullmatch(str(name)):
            raise fail(f"{prefix}_extra_env", f"{name!r} is not an environment variable name")
    probe_path = raw.get(f"{prefix}_probe_path") or "/healthz"
    if not probe_path.startswith("/"):
        raise fail(f"{prefix}_probe_path", "must start with '/'")
    resources = raw.get(f"{prefix}_resources") or {}
    if set(resources) - {"requests", "limits"}:
        raise fail(f"{prefix}_resources", "takes only requests and limits")
    return Component(
        image=image,
        replicas=replicas,
        resources=resources,
        port=raw.get(f"{prefix}_port") or port,
        probe_path=probe_path,
        service_type=service_type,
        extra_env={str(k): str(v) for k, v in extra_env.items()},
    )


def _postgres(raw: Mapping) -> Postgres:
    mode = _choice(raw, "postgres_mode", POSTGRES_MODES, "in_cluster")
    url = raw.get("postgres_url") or ""
    if mode == "external" and not url:
        raise fail("postgres_url", "is required with platform_postgres_mode external")
    if url and not _POSTGRES_URL.fullmatch(url):
        raise fail("postgres_url", "must be postgres://[user[:password]@]host[:port]/database[?options]")
    if mode == "in_cluster" and url:
        raise fail("postgres_url", "is only used with platform_postgres_mode external")
    return Postgres(
        mode=mode,
        url=url,
        database=raw.get("postgres_database") or "octo",
        user=raw.get("postgres_user") or "octo",
        storage_size=str(raw.get("postgres_storage_size") or "5Gi"),
        storage_class=raw.get("postgres_storage_class") or "",
    )


def _redis(raw: Mapping) -> Redis:
    mode = _choice(raw, "redis_mode", REDIS_MODES, "none")
    url = raw.get("redis_url") or ""
    if mode == "external" and not url:
        raise fail("redis_url", "is required with platform_redis_mode external")
    if url and (mode != "external" or not _REDIS_URL.fullmatch(url)):
        raise fail("redis_url", "must be redis://... or rediss://... and is only used with mode external")
    return Redis(mode=mode, url=url)


def _oidc(raw: Mapping) -> Oidc:
    if not raw.get("oidc_enabled"):
        return Oidc()
    issuer = raw.get("oidc_issuer") or ""
    if not issuer.startswith("https://") or any(c.isspace() for c in issuer):
        raise fail("oidc_issuer", "is required with platform_oidc_enabled and must be an https:// URL")
    if not raw.get("oidc_client_id"):
        raise fail("oidc_client_id", "is required with platform_oidc_enabled")
    claim = raw.get("oidc_roles_claim") or "roles"
    if not _CLAIM.fullmatch(claim):
        raise fail("oidc_roles_claim", "must be a claim name (letters, digits, '_', '.', ':', '/', '-')")
    roles = tuple(raw.get("oidc_write_roles") or ())
    if any("," in role or not role.strip() for role in roles):
        raise fail("oidc_write_roles", "each role must be non-empty and hold no comma")
    return Oidc(True, issuer, raw["oidc_client_id"], roles, claim)


def _backup(raw: Mapping) -> dict:
    """The backup schedule's settings when backups are on: in-cluster Postgres only, bucket and image required."""
    backup = {key: value for key, value in (raw.get("backup") or {}).items() if key != "name"}
    if not backup.pop("enabled", False):
        return {}
    if raw.get("postgres_mode", "in_cluster") != "in_cluster":
        raise fail(
            "backup_enabled", "schedules backups of the in-cluster Postgres only (platform_postgres_mode)"
        )
    for key in ("bucket", "image"):
        if not backup.get(key):
            raise fail(f"backup_{key}", "is required with platform_backup_enabled")
    settings = {
        **{key: value for key, value in backup.items() if value not in (None, "")},
        "namespace": raw["namespace"],
        "database": raw.get("postgres_database") or "octo",
        "postgres_user": raw.get("postgres_user") or "octo",
    }
    try:
        return backup_schedule.validate(settings)
    except ValidationError as err:
        raise fail(f"backup_{err.field}", err.reason.removeprefix(f"{err.field}: ")) from None


def _check_exposure(config: PlatformConfig) -> None:
    if config.ingress_enabled and not config.domain:
        raise fail("domain", "is required with platform_ingress_enabled (the editor is served at the apex)")
    if config.oidc.enabled and not config.domain:
        raise fail("domain", "is required with platform_oidc_enabled (the redirect URI is on the apex)")
    if config.oidc.enabled and config.tls_mode == "none":
        raise fail("tls_mode", "must not be none with platform_oidc_enabled: the session cookie needs https")
