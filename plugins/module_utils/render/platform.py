"""Render the platform's objects: editor, orchestrator, Postgres, optional Redis, their Secrets, RBAC and policies.

Pure: settings (render.platform_config) and credentials in, a list of manifests out. Each Secret holds one
credential's values and its readers' pod templates carry ``checksum.octo.platform/<secret>``, so rotating a
credential rolls exactly the pods that read it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping

from ansible_collections.octo.platform.plugins.module_utils.render import backup_schedule, names
from ansible_collections.octo.platform.plugins.module_utils.render.platform_config import (
    PlatformConfig,
    check_credentials,
    parse_config,
)
from ansible_collections.octo.platform.plugins.module_utils.render.platform_security import (
    BACKUP,
    container_security,
    integrations_limits,
    network_policies,
    orchestrator_rbac,
    pod_security,
)

EDITOR = "octo-editor"
ORCHESTRATOR = "octo-orchestrator"
POSTGRES = "octo-postgres"
REDIS = "octo-redis"
SECRET_POSTGRES = "octo-postgres"
SECRET_SESSION = "octo-session"
SECRET_OIDC = "octo-oidc"
SECRET_ENCRYPTION = "octo-encryption"
CHECKSUM_PREFIX = "checksum.octo.platform/"
PG_DATA = "/var/lib/postgresql/data"
POSTGRES_UID = 999
GENERATED = ("postgres_password", "session_secret", "encryption_key")
CHECK_MODE_VALUE = "not-yet-generated-platform-credential"


def component_labels(component: str) -> dict:
    """The labels of one component's pods (and the selector of its Service and policies)."""
    return {names.LABEL_NAME: component, names.LABEL_PART_OF: names.PART_OF}


def render(config: PlatformConfig, credentials: Mapping) -> list[dict]:
    """Every object of the platform, Secrets first; raises ValidationError on missing credentials."""
    check_credentials(config, credentials)
    secrets = _secrets(config, credentials)
    checksums = {secret["metadata"]["name"]: _checksum(secret) for secret in secrets}
    objects = [*_namespaces(config), *secrets, *_service_accounts(config)]
    objects += _editor(config, checksums)
    objects += _orchestrator(config, checksums)
    if config.postgres.mode == "in_cluster":
        objects += _postgres(config, checksums)
    if config.redis.mode == "in_cluster":
        objects += _redis(config)
    objects += orchestrator_rbac(config, ORCHESTRATOR)
    objects += network_policies(config, _peers(config))
    objects += integrations_limits(config)
    if config.backup:
        objects += backup_schedule.objects(
            config.backup, credentials["backup_key"], credentials["postgres_password"]
        )
    return objects


def database_url(config: PlatformConfig, password: str) -> str:
    if config.postgres.mode == "external":
        return config.postgres.url
    host = f"{POSTGRES}.{config.namespace}.svc"
    return f"postgres://{config.postgres.user}:{password}@{host}:5432/{config.postgres.database}"


def _peers(config: PlatformConfig) -> dict:
    ports = {EDITOR: config.editor.port, ORCHESTRATOR: config.orchestrator.port}
    if config.postgres.mode == "in_cluster":
        ports[POSTGRES] = config.postgres_component.port
    if config.redis.mode == "in_cluster":
        ports[REDIS] = config.redis_component.port
    if config.backup:
        ports[BACKUP] = None  # a client only: its pods reach Postgres and the bucket
    return {name: (component_labels(name), port) for name, port in ports.items()}


def _checksum(secret: dict) -> str:
    text = json.dumps(secret["stringData"], sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()


def _meta(config: PlatformConfig, name: str, component: str | None = None) -> dict:
    labels = component_labels(component or name)
    return {"name": name, "namespace": config.namespace, "labels": labels}


def _secret(config: PlatformConfig, name: str, data: dict) -> dict:
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": _meta(config, name),
        "type": "Opaque",
        "stringData": data,
    }


def _secrets(config: PlatformConfig, credentials: Mapping) -> list[dict]:
    password = credentials.get("postgres_password") or ""
    postgres = {"DATABASE_URL": database_url(config, password)}
    if config.postgres.mode == "in_cluster":
        postgres["POSTGRES_PASSWORD"] = password
    secrets = [
        _secret(config, SECRET_POSTGRES, postgres),
        _secret(config, SECRET_SESSION, {"AUTH_SECRET": credentials["session_secret"]}),
        _secret(config, SECRET_ENCRYPTION, {"ENCRYPTION_KEY": credentials["encryption_key"]}),
    ]
    if config.oidc.enabled:
        secrets.append(_secret(config, SECRET_OIDC, {"AUTH_EETR_SECRET": credentials["oidc_client_secret"]}))
    return secrets


def _service_accounts(config: PlatformConfig) -> list[dict]:
    accounts = [EDITOR, ORCHESTRATOR]
    accounts += [POSTGRES] if config.postgres.mode == "in_cluster" else []
    accounts += [REDIS] if config.redis.mode == "in_cluster" else []
    return [
        {
            "apiVersion": "v1",
            "kind": "ServiceAccount",
            "metadata": _meta(config, name),
            "automountServiceAccountToken": name == ORCHESTRATOR,
        }
        for name in accounts
    ]


def _namespaces(config: PlatformConfig) -> list[dict]:
    return [
        {
            "apiVersion": "v1",
            "kind": "Namespace",
            "metadata": {"name": name, "labels": {names.LABEL_PART_OF: names.PART_OF}},
        }
        for name in (config.namespace, config.integrations_namespace)
    ]


def _secret_env(name: str, secret: str) -> dict:
    return {"name": name, "valueFrom": {"secretKeyRef": {"name": secret, "key": name}}}


def _literal_env(values: Mapping) -> list[dict]:
    return [{"name": key, "value": str(value)} for key, value in values.items()]


def _editor(config: PlatformConfig, checksums: dict) -> list[dict]:
    literal = {"ORCHESTRATOR_URL": f"http://{ORCHESTRATOR}.{config.namespace}.svc:{config.orchestrator.port}"}
    literal.update({"PORT": config.editor.port, "HOSTNAME": "0.0.0.0"})
    literal.update({"AUTH_URL": config.editor_url} if config.editor_url else {})
    literal["AUTH_OIDC_ENABLED"] = "true" if config.oidc.enabled else "false"
    secret_env = [_secret_env("AUTH_SECRET", SECRET_SESSION)]
    readers = [SECRET_SESSION]
    if config.oidc.enabled:
        literal.update(
            {
                "AUTH_EETR_ISSUER": config.oidc.issuer,
                "AUTH_EETR_ID": config.oidc.client_id,
                "AUTH_WRITE_ROLES": ",".join(config.oidc.write_roles),
                "AUTH_ROLES_CLAIM": config.oidc.roles_claim,
            }
        )
        secret_env.append(_secret_env("AUTH_EETR_SECRET", SECRET_OIDC))
        readers.append(SECRET_OIDC)
    literal.update(config.editor.extra_env)
    env = _literal_env(literal) + secret_env
    objects = [
        _deployment(config, EDITOR, config.editor, env, {k: checksums[k] for k in readers}),
        _service(config, EDITOR, config.editor.port, config.editor.service_type),
    ]
    if config.ingress_enabled:
        objects.append(_ingress(config))
    return objects


def _orchestrator(config: PlatformConfig, checksums: dict) -> list[dict]:
    literal = {
        "PORT": config.orchestrator.port,
        "OCTO_NAMESPACE": config.integrations_namespace,
        "BASE_DOMAIN": config.domain,
        "TLS_MODE": config.tls_mode,
        "TLS_SECRET": config.tls_secret,
        "CLUSTER_ISSUER": config.cluster_issuer,
        "INGRESS_CLASS": config.ingress_class,
    }
    if config.redis.mode != "none":
        literal["REDIS_URL"] = config.redis.url or f"redis://{REDIS}.{config.namespace}.svc:6379"
    literal.update(config.orchestrator.extra_env)
    env = _literal_env(literal)
    env += [_secret_env("DATABASE_URL", SECRET_POSTGRES), _secret_env("ENCRYPTION_KEY", SECRET_ENCRYPTION)]
    readers = {k: checksums[k] for k in (SECRET_POSTGRES, SECRET_ENCRYPTION)}
    return [
        _deployment(config, ORCHESTRATOR, config.orchestrator, env, readers),
        _service(config, ORCHESTRATOR, config.orchestrator.port, "ClusterIP"),
    ]


def _postgres(config: PlatformConfig, checksums: dict) -> list[dict]:
    component = config.postgres_component
    env = _literal_env(
        {
            "POSTGRES_USER": config.postgres.user,
            "POSTGRES_DB": config.postgres.database,
            "PGDATA": f"{PG_DATA}/pgdata",
        }
    )
    env.append(_secret_env("POSTGRES_PASSWORD", SECRET_POSTGRES))
    probe = {"exec": {"command": ["pg_isready", "-h", "127.0.0.1", "-U", config.postgres.user]}}
    pod = _pod(config, POSTGRES, component, env, {SECRET_POSTGRES: checksums[SECRET_POSTGRES]}, probe)
    pod["spec"]["securityContext"].update({"runAsUser": POSTGRES_UID, "runAsGroup": POSTGRES_UID})
    pod["spec"]["securityContext"]["fsGroup"] = POSTGRES_UID
    pod["spec"]["containers"][0]["volumeMounts"].append({"name": "data", "mountPath": PG_DATA})
    pod["spec"]["containers"][0]["volumeMounts"].append({"name": "run", "mountPath": "/var/run/postgresql"})
    pod["spec"]["volumes"].append({"name": "run", "emptyDir": {}})
    claim = {
        "accessModes": ["ReadWriteOnce"],
        "resources": {"requests": {"storage": config.postgres.storage_size}},
    }
    claim.update({"storageClassName": config.postgres.storage_class} if config.postgres.storage_class else {})
    statefulset = {
        "apiVersion": "apps/v1",
        "kind": "StatefulSet",
        "metadata": _meta(config, POSTGRES),
        "spec": {
            "serviceName": POSTGRES,
            "replicas": 1,
            "selector": {"matchLabels": component_labels(POSTGRES)},
            "template": pod,
            "volumeClaimTemplates": [{"metadata": {"name": "data"}, "spec": claim}],
        },
    }
    service = _service(config, POSTGRES, component.port, "ClusterIP")
    service["spec"]["clusterIP"] = "None"
    return [statefulset, service]


def _redis(config: PlatformConfig) -> list[dict]:
    component = config.redis_component
    probe = {"tcpSocket": {"port": "service"}}
    pod = _pod(config, REDIS, component, [], {}, probe)
    pod["spec"]["containers"][0]["args"] = ["--save", "", "--appendonly", "no"]
    deployment = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": _meta(config, REDIS),
        "spec": {"replicas": 1, "selector": {"matchLabels": component_labels(REDIS)}, "template": pod},
    }
    return [deployment, _service(config, REDIS, component.port, "ClusterIP")]


def _deployment(config, name: str, component, env: list, checksums: dict) -> dict:
    probe = {"httpGet": {"path": component.probe_path, "port": "service"}}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": _meta(config, name),
        "spec": {
            "replicas": component.replicas,
            "selector": {"matchLabels": component_labels(name)},
            "template": _pod(config, name, component, env, checksums, probe),
        },
    }


def _pod(config: PlatformConfig, name: str, component, env: list, checksums: dict, probe: dict) -> dict:
    container = {
        "name": name.removeprefix("octo-"),
        "image": component.image.reference,
        "imagePullPolicy": component.image.pull_policy,
        "env": env,
        "ports": [{"name": "service", "containerPort": component.port, "protocol": "TCP"}],
        "readinessProbe": probe,
        "livenessProbe": {**probe, "initialDelaySeconds": 10, "periodSeconds": 20},
        "securityContext": container_security(),
        "volumeMounts": [{"name": "tmp", "mountPath": "/tmp"}],
    }
    if component.resources:
        container["resources"] = dict(component.resources)
    spec = {
        "serviceAccountName": name,
        "automountServiceAccountToken": name == ORCHESTRATOR,
        "securityContext": pod_security(),
        "containers": [container],
        "volumes": [{"name": "tmp", "emptyDir": {}}],
    }
    spec.update(_scheduling(config, name))
    annotations = {f"{CHECKSUM_PREFIX}{secret}": value for secret, value in sorted(checksums.items())}
    metadata = {"labels": component_labels(name)}
    metadata.update({"annotations": annotations} if annotations else {})
    return {"metadata": metadata, "spec": spec}


def _scheduling(config: PlatformConfig, name: str) -> dict:
    spec = {}
    if config.node_selector:
        spec["nodeSelector"] = dict(config.node_selector)
    if config.tolerations:
        spec["tolerations"] = [dict(t) for t in config.tolerations]
    if config.image_pull_secrets:
        spec["imagePullSecrets"] = [{"name": secret} for secret in config.image_pull_secrets]
    term = {"labelSelector": {"matchLabels": component_labels(name)}, "topologyKey": "kubernetes.io/hostname"}
    if config.anti_affinity == "hard":
        spec["affinity"] = {"podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [term]}}
    elif config.anti_affinity == "soft":
        preferred = [{"weight": 100, "podAffinityTerm": term}]
        spec["affinity"] = {"podAntiAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": preferred}}
    return spec


def _service(config: PlatformConfig, name: str, port: int, service_type: str) -> dict:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": _meta(config, name),
        "spec": {
            "type": service_type,
            "selector": component_labels(name),
            "ports": [{"name": "service", "port": port, "targetPort": "service", "protocol": "TCP"}],
        },
    }


def _ingress(config: PlatformConfig) -> dict:
    metadata = _meta(config, EDITOR)
    spec = {
        "ingressClassName": config.ingress_class,
        "rules": [
            {
                "host": config.domain,
                "http": {
                    "paths": [
                        {
                            "path": "/",
                            "pathType": "Prefix",
                            "backend": {"service": {"name": EDITOR, "port": {"name": "service"}}},
                        }
                    ]
                },
            }
        ],
    }
    if config.tls_mode == "wildcard":
        spec["tls"] = [{"hosts": [config.domain], "secretName": config.tls_secret}]
    elif config.tls_mode == "http01":
        metadata["annotations"] = {names.ANNOTATION_CLUSTER_ISSUER: config.cluster_issuer}
        spec["tls"] = [{"hosts": [config.domain], "secretName": f"{EDITOR}-tls"}]
    return {"apiVersion": "networking.k8s.io/v1", "kind": "Ingress", "metadata": metadata, "spec": spec}


def plan(params: Mapping, check_mode: bool = False, diff: bool = False) -> dict:
    """The platform_objects module's operation: validate, render, and describe (no I/O, nothing to change)."""
    settings = dict(params["settings"])
    settings["postgres_url"] = params.get("postgres_url") or ""
    config = parse_config(settings)
    credentials = dict(params["credentials"])
    if check_mode:
        # platform_credentials generates these on the first real run; check mode predicts with stand-ins.
        for name in GENERATED:
            credentials.setdefault(name, f"{CHECK_MODE_VALUE}-{name}")
    objects = render(config, credentials)
    result = {
        "changed": False,
        "objects": [
            {
                "kind": obj["kind"],
                "namespace": obj["metadata"].get("namespace", ""),
                "name": obj["metadata"]["name"],
            }
            for obj in objects
        ],
        "editor_url": config.editor_url,
        "redirect_uri": config.redirect_uri if config.oidc.enabled else "",
        "namespaces": [config.namespace, config.integrations_namespace],
    }
    if not params.get("validate_only"):
        result["definitions"] = objects
    return result
