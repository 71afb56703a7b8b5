"""The scheduled backup's objects: validated settings, no secret on the command line, hardened pod."""

from __future__ import annotations

import pytest

from ansible_collections.octo.platform.plugins.module_utils.common.errors import ValidationError
from ansible_collections.octo.platform.plugins.module_utils.render import backup_schedule

SETTINGS = {
    "namespace": "octo",
    "bucket": "acme-octo-state",
    "image": "registry.local/octo-platform-ee:0.1.0",
}
KEY, PASSWORD = "k" * 43, "p" * 43


def test_secret_account_and_cronjob():
    secret, account, cronjob = backup_schedule.objects(SETTINGS, KEY, PASSWORD)
    assert secret["stringData"] == {"OCTO_BACKUP_KEY": KEY, "PGPASSWORD": PASSWORD}
    assert account["automountServiceAccountToken"] is False
    spec = cronjob["spec"]
    assert (cronjob["apiVersion"], spec["schedule"], spec["concurrencyPolicy"]) == (
        "batch/v1",
        "17 2 * * *",
        "Forbid",
    )
    pod = spec["jobTemplate"]["spec"]["template"]["spec"]
    container = pod["containers"][0]
    assert container["command"] == [
        "ansible", "localhost", "-c", "local", "-m", "octo.platform.platform_backup", "-a",
        "database=octo bucket=acme-octo-state login_host=octo-postgres.octo.svc login_port=5432 login_user=octo "
        "keep_daily=7 keep_weekly=4",
    ]  # fmt: skip
    assert container["envFrom"] == [{"secretRef": {"name": "octo-backup"}}]
    assert KEY not in str(cronjob) and PASSWORD not in str(cronjob)
    assert pod["securityContext"]["runAsNonRoot"] and container["securityContext"]["readOnlyRootFilesystem"]
    assert (
        pod["restartPolicy"] == "Never" and {"name": "tmp", "mountPath": "/tmp"} in container["volumeMounts"]
    )


def test_gcp_key_secret_is_mounted_read_only():
    cronjob = backup_schedule.objects({**SETTINGS, "gcp_key_secret": "octo-backup-gcp"}, KEY, PASSWORD)[2]
    pod = cronjob["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    env = {e["name"]: e.get("value") for e in pod["containers"][0]["env"]}
    assert env["GOOGLE_APPLICATION_CREDENTIALS"] == backup_schedule.GCP_KEY_PATH
    assert {"name": "gcp", "secret": {"secretName": "octo-backup-gcp", "defaultMode": 0o400}} in pod[
        "volumes"
    ]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"schedule": "every night"}, "schedule"),
        ({"schedule": "0 2 * *"}, "schedule"),
        ({"namespace": "Octo"}, "namespace"),
        ({"image": ""}, "image"),
        ({"api_version": "batch/v2"}, "api_version"),
        ({"bucket": None, "database": "x y"}, "database"),
        ({"keep_weekly": -1}, "keep_weekly"),
    ],
)
def test_bad_settings_are_refused(change, field):
    with pytest.raises(
        ValidationError, match=f"Failed to validate backup schedule: {field}: |platform backup: {field}"
    ):
        backup_schedule.objects({**SETTINGS, **change}, KEY, PASSWORD)


def test_schedules_accepted():
    for schedule in ("*/30 * * * *", "0 1,13 * * 1-5", "@daily"):
        assert backup_schedule.validate({**SETTINGS, "schedule": schedule})["schedule"] == schedule
