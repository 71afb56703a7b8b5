"""The platform's settings checks and rendered objects (editor, orchestrator, Postgres, Secrets, RBAC, policies)."""

from __future__ import annotations

import copy

import pytest

from ansible_collections.octo.platform.plugins.module_utils.common.errors import ValidationError
from ansible_collections.octo.platform.plugins.module_utils.render import platform
from ansible_collections.octo.platform.plugins.module_utils.render.platform_config import parse_config

IMAGE = {"repository": "ghcr.io/octo/editor", "tag": "v0.1.4", "pull_policy": "IfNotPresent"}
SETTINGS = {
    "namespace": "octo",
    "integrations_namespace": "octo-dev",
    "domain": "octo.example.com",
    "editor_image": IMAGE,
    "orchestrator_image": {**IMAGE, "repository": "ghcr.io/octo/orchestrator"},
    "postgres_image": {**IMAGE, "repository": "octo.local/postgres", "tag": "15"},
    "redis_image": {**IMAGE, "repository": "redis", "tag": "7"},
}
CREDENTIALS = {
    "postgres_password": "pg-" + "p" * 40,
    "session_secret": "s" * 43,
    "encryption_key": "k" * 43,
    "oidc_client_secret": "oidc-" + "c" * 30,
    "backup_key": "b" * 43,
}
BACKUP = {
    "enabled": True,
    "bucket": "my-project-octo-state",
    "image": "ghcr.io/octo/ee:1.0",
    "schedule": "17 2 * * *",
}


def settings(**changes) -> dict:
    result = copy.deepcopy(SETTINGS)
    result.update(changes)
    return result


def objects(**changes) -> dict:
    rendered = platform.render(parse_config(settings(**changes)), CREDENTIALS)
    return {(obj["kind"], obj["metadata"]["name"]): obj for obj in rendered}


def env_of(pod_owner: dict) -> dict:
    entries = pod_owner["spec"]["template"]["spec"]["containers"][0]["env"]
    return {e["name"]: e.get("value", e.get("valueFrom", {}).get("secretKeyRef")) for e in entries}


def checksums(pod_owner: dict) -> dict:
    annotations = pod_owner["spec"]["template"]["metadata"].get("annotations", {})
    return {k: v for k, v in annotations.items() if k.startswith(platform.CHECKSUM_PREFIX)}


@pytest.mark.parametrize(
    ("changes", "variable"),
    [
        ({"domain": ""}, "platform_domain"),
        ({"postgres_mode": "external"}, "platform_postgres_url"),
        ({"postgres_mode": "external", "postgres_url": "mysql://x/y"}, "platform_postgres_url"),
        ({"oidc_enabled": True, "oidc_client_id": "octo"}, "platform_oidc_issuer"),
        ({"oidc_enabled": True, "oidc_issuer": "https://id.example.com"}, "platform_oidc_client_id"),
        ({"editor_image": {**IMAGE, "tag": "latest"}}, "platform_editor_image.tag"),
        ({"orchestrator_image": {"repository": "x"}}, "platform_orchestrator_image.tag"),
        ({"editor_image": {**IMAGE, "digest": "sha256:abc"}}, "platform_editor_image.digest"),
        ({"anti_affinity": "sometimes"}, "platform_anti_affinity"),
        ({"orchestrator_service_type": "LoadBalancer"}, "platform_orchestrator_service_type"),
        ({"integrations_namespace": "octo"}, "platform_integrations_namespace"),
        ({"redis_mode": "external"}, "platform_redis_url"),
        ({"editor_extra_env": {"1BAD": "x"}}, "platform_editor_extra_env"),
        (
            {"oidc_enabled": True, "oidc_issuer": "https://i", "oidc_client_id": "c", "tls_mode": "none"},
            "platform_tls_mode",
        ),
        ({"backup": {**BACKUP, "bucket": ""}}, "platform_backup_bucket"),
        ({"backup": {**BACKUP, "image": ""}}, "platform_backup_image"),
        ({"backup": {**BACKUP, "schedule": "every night"}}, "platform_backup_schedule"),
        (
            {"backup": BACKUP, "postgres_mode": "external", "postgres_url": "postgres://u:p@db:5432/octo"},
            "platform_backup_enabled",
        ),
    ],
)
def test_bad_settings_name_the_variable(changes, variable):
    with pytest.raises(ValidationError) as error:
        parse_config(settings(**changes))
    assert error.value.field == variable
    assert str(error.value).startswith(f"Failed to validate platform settings: {variable}: ")


def test_latest_is_accepted_with_pull_policy_always_or_no_ingress_without_domain():
    config = parse_config(settings(editor_image={**IMAGE, "tag": "latest", "pull_policy": "Always"}))
    assert config.editor.image.reference == "ghcr.io/octo/editor:latest"
    assert parse_config(settings(domain="", ingress_enabled=False)).editor_url == ""


@pytest.mark.parametrize("key", ["", "changeme", "short-key"])
def test_an_empty_default_or_short_encryption_key_is_refused(key):
    with pytest.raises(ValidationError) as error:
        platform.render(parse_config(settings()), {**CREDENTIALS, "encryption_key": key})
    assert error.value.field == "platform_credentials.encryption_key"
    assert key not in str(error.value) or key == ""


def test_objects_and_apex_ingress_with_wildcard_tls():
    rendered = objects()
    assert sorted(rendered) == sorted(
        [("Namespace", "octo"), ("Namespace", "octo-dev")]
        + [("Secret", n) for n in ("octo-postgres", "octo-session", "octo-encryption")]
        + [("ServiceAccount", n) for n in ("octo-editor", "octo-orchestrator", "octo-postgres")]
        + [("Deployment", "octo-editor"), ("Service", "octo-editor"), ("Ingress", "octo-editor")]
        + [("Deployment", "octo-orchestrator"), ("Service", "octo-orchestrator")]
        + [("StatefulSet", "octo-postgres"), ("Service", "octo-postgres")]
        + [("Role", "octo-orchestrator"), ("RoleBinding", "octo-orchestrator")]
        + [("NetworkPolicy", n) for n in platform_policy_names()]
        + [("ResourceQuota", "octo-integrations"), ("LimitRange", "octo-integrations")]
    )
    ingress = rendered[("Ingress", "octo-editor")]["spec"]
    assert ingress["rules"][0]["host"] == "octo.example.com"
    assert ingress["tls"] == [{"hosts": ["octo.example.com"], "secretName": "octo-wildcard-tls"}]
    assert rendered[("Service", "octo-orchestrator")]["spec"]["type"] == "ClusterIP"
    assert rendered[("Service", "octo-postgres")]["spec"]["clusterIP"] == "None"


def platform_policy_names() -> list[str]:
    return [
        "octo-default-deny",
        "octo-allow-dns",
        "octo-editor-from-ingress-controller",
        "octo-orchestrator-from-octo-editor",
        "octo-editor-to-orchestrator",
        "octo-postgres-from-octo-orchestrator",
        "octo-orchestrator-to-postgres",
        "octo-orchestrator-to-api",
    ]


def test_http01_annotates_the_issuer_and_no_ingress_when_off():
    ingress = objects(tls_mode="http01")[("Ingress", "octo-editor")]
    assert ingress["metadata"]["annotations"] == {"cert-manager.io/cluster-issuer": "letsencrypt-prod"}
    assert ingress["spec"]["tls"][0]["secretName"] == "octo-editor-tls"
    assert ("Ingress", "octo-editor") not in objects(ingress_enabled=False)


def test_env_wiring_and_secret_references():
    rendered = objects()
    orchestrator = env_of(rendered[("Deployment", "octo-orchestrator")])
    assert orchestrator["BASE_DOMAIN"] == "octo.example.com"
    assert orchestrator["OCTO_NAMESPACE"] == "octo-dev"
    assert orchestrator["DATABASE_URL"] == {"name": "octo-postgres", "key": "DATABASE_URL"}
    assert orchestrator["ENCRYPTION_KEY"] == {"name": "octo-encryption", "key": "ENCRYPTION_KEY"}
    editor = env_of(rendered[("Deployment", "octo-editor")])
    assert editor["ORCHESTRATOR_URL"] == "http://octo-orchestrator.octo.svc:8080"
    assert editor["AUTH_SECRET"] == {"name": "octo-session", "key": "AUTH_SECRET"}
    assert "AUTH_EETR_SECRET" not in editor and editor["AUTH_OIDC_ENABLED"] == "false"
    secret = rendered[("Secret", "octo-postgres")]["stringData"]
    assert (
        secret["DATABASE_URL"]
        == f"postgres://octo:{CREDENTIALS['postgres_password']}@octo-postgres.octo.svc:5432/octo"
    )
    assert env_of(rendered[("StatefulSet", "octo-postgres")])["POSTGRES_PASSWORD"]["name"] == "octo-postgres"


def test_oidc_env_and_redirect_uri():
    changes = {
        "oidc_enabled": True,
        "oidc_issuer": "https://id.example.com/realms/octo",
        "oidc_client_id": "octo-editor",
        "oidc_write_roles": ["octo-admin", "octo-dev"],
        "oidc_roles_claim": "groups",
    }
    rendered = objects(**changes)
    editor = env_of(rendered[("Deployment", "octo-editor")])
    assert editor["AUTH_WRITE_ROLES"] == "octo-admin,octo-dev"
    assert editor["AUTH_ROLES_CLAIM"] == "groups"
    assert editor["AUTH_EETR_ISSUER"] == "https://id.example.com/realms/octo"
    assert editor["AUTH_EETR_SECRET"] == {"name": "octo-oidc", "key": "AUTH_EETR_SECRET"}
    assert ("NetworkPolicy", "octo-editor-to-issuer") in rendered
    assert parse_config(settings(**changes)).redirect_uri == "https://octo.example.com/api/auth/callback/eetr"


def test_rotating_one_credential_changes_only_its_readers_checksums():
    config = parse_config(
        settings(oidc_enabled=True, oidc_issuer="https://id.example.com", oidc_client_id="c")
    )

    def pods(credentials):
        rendered = platform.render(config, credentials)
        return {
            o["metadata"]["name"]: checksums(o)
            for o in rendered
            if o["kind"] in ("Deployment", "StatefulSet")
        }

    before = pods(CREDENTIALS)
    assert sorted(before["octo-editor"]) == [
        f"{platform.CHECKSUM_PREFIX}octo-oidc",
        f"{platform.CHECKSUM_PREFIX}octo-session",
    ]
    rotations = {
        "postgres_password": {"octo-orchestrator", "octo-postgres"},
        "session_secret": {"octo-editor"},
        "encryption_key": {"octo-orchestrator"},
        "oidc_client_secret": {"octo-editor"},
    }
    for credential, readers in rotations.items():
        after = pods({**CREDENTIALS, credential: CREDENTIALS[credential] + "-rotated"})
        assert {name for name in before if before[name] != after[name]} == readers, credential


def test_pods_are_hardened_and_scheduled_as_asked():
    rendered = objects(
        anti_affinity="hard",
        node_selector={"pool": "platform"},
        tolerations=[{"key": "dedicated", "operator": "Equal", "value": "octo", "effect": "NoSchedule"}],
        image_pull_secrets=["ghcr"],
        editor_replicas=2,
        editor_resources={"requests": {"cpu": "100m"}},
    )
    for key in [
        ("Deployment", "octo-editor"),
        ("Deployment", "octo-orchestrator"),
        ("StatefulSet", "octo-postgres"),
    ]:
        pod = rendered[key]["spec"]["template"]["spec"]
        assert pod["securityContext"]["runAsNonRoot"] is True
        assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
        container = pod["containers"][0]["securityContext"]
        assert container["readOnlyRootFilesystem"] is True and container["capabilities"] == {"drop": ["ALL"]}
        assert container["allowPrivilegeEscalation"] is False
        assert pod["nodeSelector"] == {"pool": "platform"} and pod["imagePullSecrets"] == [{"name": "ghcr"}]
        assert "requiredDuringSchedulingIgnoredDuringExecution" in pod["affinity"]["podAntiAffinity"]
        assert pod["automountServiceAccountToken"] is (key[1] == "octo-orchestrator")
    editor = rendered[("Deployment", "octo-editor")]["spec"]
    assert editor["replicas"] == 2
    assert editor["template"]["spec"]["containers"][0]["resources"] == {"requests": {"cpu": "100m"}}
    soft = objects()[("Deployment", "octo-editor")]["spec"]["template"]["spec"]["affinity"]["podAntiAffinity"]
    assert "preferredDuringSchedulingIgnoredDuringExecution" in soft
    assert (
        "affinity"
        not in objects(anti_affinity="none")[("Deployment", "octo-editor")]["spec"]["template"]["spec"]
    )


def test_orchestrator_role_is_namespaced_and_exact():
    rendered = objects()
    role = rendered[("Role", "octo-orchestrator")]
    assert role["metadata"]["namespace"] == "octo-dev"
    rules = {
        (r["apiGroups"][0], r["resources"][0]): (r["verbs"], r.get("resourceNames")) for r in role["rules"]
    }
    verbs = ["get", "list", "watch", "create", "update", "patch", "delete"]
    assert rules == {
        ("", "configmaps"): (verbs, None),
        ("", "services"): (verbs, None),
        ("apps", "deployments"): (verbs, None),
        ("networking.k8s.io", "ingresses"): (verbs, None),
        ("", "secrets"): (["get", "update", "patch"], ["octo-secrets"]),
    }
    binding = rendered[("RoleBinding", "octo-orchestrator")]
    assert binding["subjects"] == [
        {"kind": "ServiceAccount", "name": "octo-orchestrator", "namespace": "octo"}
    ]
    assert not any(o["kind"].startswith("Cluster") for o in rendered.values())


def test_external_postgres_and_in_cluster_redis():
    url = "postgres://octo:pw@db.example.com:5432/octo?sslmode=require"
    rendered = platform.render(
        parse_config(settings(postgres_mode="external", postgres_url=url, redis_mode="in_cluster")),
        CREDENTIALS,
    )
    by_key = {(o["kind"], o["metadata"]["name"]): o for o in rendered}
    assert ("StatefulSet", "octo-postgres") not in by_key
    assert by_key[("Secret", "octo-postgres")]["stringData"] == {"DATABASE_URL": url}
    assert (
        env_of(by_key[("Deployment", "octo-orchestrator")])["REDIS_URL"] == "redis://octo-redis.octo.svc:6379"
    )
    assert ("NetworkPolicy", "octo-orchestrator-to-redis") in by_key


def test_plan_describes_without_secrets_when_validating_only():
    params = {"settings": settings(), "credentials": CREDENTIALS, "postgres_url": None, "validate_only": True}
    result = platform.plan(params)
    assert "definitions" not in result and result["editor_url"] == "https://octo.example.com"
    assert {"kind": "StatefulSet", "namespace": "octo", "name": "octo-postgres"} in result["objects"]
    text = repr(result)
    assert not any(value in text for value in CREDENTIALS.values())
    full = platform.plan({**params, "validate_only": False})
    assert len(full["definitions"]) == len(result["objects"])


def test_check_mode_predicts_before_the_credentials_are_generated():
    params = {"settings": settings(), "credentials": {}, "postgres_url": None, "validate_only": False}
    with pytest.raises(ValidationError):
        platform.plan(params)
    predicted = platform.plan(params, check_mode=True)
    kinds = [(o["kind"], o["metadata"]["name"]) for o in predicted["definitions"]]
    assert ("Secret", "octo-encryption") in kinds and ("StatefulSet", "octo-postgres") in kinds


def test_scheduled_backup_of_the_in_cluster_postgres_and_its_network_paths():
    assert ("CronJob", "octo-backup") not in objects()  # off by default
    rendered = objects(backup=BACKUP)
    cronjob = rendered[("CronJob", "octo-backup")]
    assert cronjob["metadata"]["namespace"] == "octo" and cronjob["spec"]["schedule"] == "17 2 * * *"
    container = cronjob["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]
    assert container["image"] == "ghcr.io/octo/ee:1.0"
    assert "login_host=octo-postgres.octo.svc" in container["command"][-1]
    assert CREDENTIALS["backup_key"] not in str(container) and CREDENTIALS["postgres_password"] not in str(
        container
    )
    secret = rendered[("Secret", "octo-backup")]
    assert secret["stringData"]["OCTO_BACKUP_KEY"] == CREDENTIALS["backup_key"]
    backup_labels = cronjob["spec"]["jobTemplate"]["spec"]["template"]["metadata"]["labels"]
    to_postgres = rendered[("NetworkPolicy", "octo-backup-to-postgres")]
    assert to_postgres["spec"]["podSelector"]["matchLabels"] == backup_labels
    from_backup = rendered[("NetworkPolicy", "octo-postgres-from-octo-backup")]
    assert from_backup["spec"]["ingress"][0]["from"] == [{"podSelector": {"matchLabels": backup_labels}}]
    storage = rendered[("NetworkPolicy", "octo-backup-to-storage")]
    assert storage["spec"]["egress"] == [{"ports": [{"protocol": "TCP", "port": 443}]}]
