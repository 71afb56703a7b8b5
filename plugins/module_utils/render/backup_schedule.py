"""Pure builder of the scheduled backup of the in-cluster Postgres: a Secret, a ServiceAccount and a CronJob.

The CronJob runs the collection's execution environment image (with the PostgreSQL client) and calls
``octo.platform.platform_backup`` against the in-cluster Postgres Service; the backup key and the database
password come from the Secret by environment (OCTO_BACKUP_KEY, PGPASSWORD), never from the command line.
"""

from __future__ import annotations

import re
import shlex

from ansible_collections.octo.platform.plugins.module_utils.common.errors import ValidationError
from ansible_collections.octo.platform.plugins.module_utils.render import backup_plan, names
from ansible_collections.octo.platform.plugins.module_utils.render.platform_security import (
    BACKUP,
    container_security,
    pod_security,
)

WHAT = "backup schedule"
NAME = BACKUP
API_VERSIONS = ("batch/v1", "batch/v1beta1")  # batch/v1 from Kubernetes 1.21
_FIELD = r"(\*|\d+(-\d+)?)(/\d+)?(,(\*|\d+(-\d+)?)(/\d+)?)*"
_SCHEDULE = re.compile(rf"^{_FIELD}( {_FIELD}){{4}}$|^@(hourly|daily|weekly|monthly)$")
GCP_KEY_PATH = "/var/run/secrets/octo-backup-gcp/key.json"
DEFAULTS = {
    "name": NAME,
    "schedule": "17 2 * * *",
    "postgres_host": "octo-postgres",
    "postgres_port": 5432,
    "postgres_user": "octo",
    "database": "octo",
    "keep_daily": 7,
    "keep_weekly": 4,
    "api_version": "batch/v1",
    "gcp_key_secret": "",
}


def validate(settings: dict) -> dict:
    """The settings with defaults, checked before anything is rendered."""
    s = {**DEFAULTS, **{k: v for k, v in settings.items() if v is not None}}
    for key in ("namespace", "name"):
        if not names.is_dns_label(s.get(key)):
            raise ValidationError(WHAT, key, f"{s.get(key)!r} must be an RFC 1123 label")
    if not _SCHEDULE.match(str(s["schedule"])):
        raise ValidationError(WHAT, "schedule", f"{s['schedule']!r} is not a five-field cron expression")
    if not s.get("image"):
        raise ValidationError(
            WHAT, "image", "required: the execution environment image with psql and pg_dump"
        )
    if s["api_version"] not in API_VERSIONS:
        raise ValidationError(WHAT, "api_version", f"must be one of {', '.join(API_VERSIONS)}")
    if s["gcp_key_secret"] and not names.is_dns_name(s["gcp_key_secret"]):
        raise ValidationError(WHAT, "gcp_key_secret", "must be a Secret name")
    backup_plan.validate(s)
    return s


def command(s: dict) -> list[str]:
    """``ansible localhost -m octo.platform.platform_backup -a '<key=value ...>'``; no secret in it."""
    args = {
        "database": s["database"],
        "bucket": s["bucket"],
        "login_host": f"{s['postgres_host']}.{s['namespace']}.svc",
        "login_port": s["postgres_port"],
        "login_user": s["postgres_user"],
        "keep_daily": s["keep_daily"],
        "keep_weekly": s["keep_weekly"],
    }
    text = " ".join(f"{key}={shlex.quote(str(value))}" for key, value in args.items())
    return ["ansible", "localhost", "-c", "local", "-m", "octo.platform.platform_backup", "-a", text]


def objects(settings: dict, backup_key: str, postgres_password: str) -> list[dict]:
    """Secret, ServiceAccount and CronJob of the scheduled backup."""
    s = validate(settings)
    labels = {names.LABEL_NAME: s["name"], names.LABEL_PART_OF: names.PART_OF}
    meta = {"name": s["name"], "namespace": s["namespace"], "labels": labels}
    secret = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": meta,
        "type": "Opaque",
        "stringData": {"OCTO_BACKUP_KEY": backup_key, "PGPASSWORD": postgres_password},
    }
    account = {
        "apiVersion": "v1",
        "kind": "ServiceAccount",
        "metadata": meta,
        "automountServiceAccountToken": False,
    }
    return [secret, account, _cronjob(s, meta, labels)]


def _cronjob(s: dict, meta: dict, labels: dict) -> dict:
    env = [{"name": "HOME", "value": "/tmp"}, {"name": "ANSIBLE_LOCAL_TEMP", "value": "/tmp/.ansible"}]
    env += [{"name": "ANSIBLE_REMOTE_TEMP", "value": "/tmp/.ansible"}]
    volumes, mounts = [{"name": "tmp", "emptyDir": {}}], [{"name": "tmp", "mountPath": "/tmp"}]
    if s["gcp_key_secret"]:
        env.append({"name": "GOOGLE_APPLICATION_CREDENTIALS", "value": GCP_KEY_PATH})
        volumes.append({"name": "gcp", "secret": {"secretName": s["gcp_key_secret"], "defaultMode": 0o400}})
        mounts.append({"name": "gcp", "mountPath": GCP_KEY_PATH.rsplit("/", 1)[0], "readOnly": True})
    container = {
        "name": "backup",
        "image": s["image"],
        "imagePullPolicy": "IfNotPresent",
        "command": command(s),
        "env": env,
        "envFrom": [{"secretRef": {"name": s["name"]}}],
        "volumeMounts": mounts,
        "securityContext": container_security(),
        "resources": {"requests": {"cpu": "50m", "memory": "128Mi"}, "limits": {"memory": "512Mi"}},
    }
    pod = {
        "serviceAccountName": s["name"],
        "automountServiceAccountToken": False,
        "restartPolicy": "Never",
        "securityContext": pod_security(),
        "containers": [container],
        "volumes": volumes,
    }
    job = {
        "backoffLimit": 2,
        "activeDeadlineSeconds": 3600,
        "template": {"metadata": {"labels": labels}, "spec": pod},
    }
    spec = {
        "schedule": s["schedule"],
        "concurrencyPolicy": "Forbid",
        "startingDeadlineSeconds": 600,
        "successfulJobsHistoryLimit": 3,
        "failedJobsHistoryLimit": 3,
        "jobTemplate": {"metadata": {"labels": labels}, "spec": job},
    }
    return {"apiVersion": s["api_version"], "kind": "CronJob", "metadata": meta, "spec": spec}
