"""platform_release on a local state file and in the state bucket (fake-gcs-server)."""

from __future__ import annotations

import json
import stat

from gcp_support import PROJECT, module_params
from google.auth.credentials import AnonymousCredentials
from google.cloud import storage

from ansible_collections.octo.platform.plugins.module_utils.common.backup_args import RELEASE
from ansible_collections.octo.platform.plugins.module_utils.gcp import platform_release

V1 = {"editor": {"repository": "ghcr.io/o/editor", "tag": "v1"}}
V2 = {"editor": {"repository": "ghcr.io/o/editor", "tag": "v2"}}


def test_local_history_check_mode_idempotence_and_rollback(tmp_path):
    path = tmp_path / "state" / "platform-releases.json"
    p = module_params(RELEASE, path=str(path), images=V1)
    check = platform_release.ensure(p, check_mode=True, diff=True)
    assert check["changed"] and not path.exists() and len(check["diff"]["after"]["releases"]) == 1
    assert platform_release.ensure(p)["changed"] and not platform_release.ensure(p)["changed"]
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    second = platform_release.ensure({**p, "images": V2, "backup": "backups/octo/20260101T000000Z.dump.enc"})
    read = platform_release.ensure({**p, "images": None})
    assert not read["changed"] and read["releases"] == second["releases"]
    assert read["rollback"]["image_settings"] == {"editor": {"repository": "ghcr.io/o/editor", "tag": "v1"}}
    assert read["rollback"]["restore_backup"] == "backups/octo/20260101T000000Z.dump.enc"
    assert json.loads(path.read_text())["releases"][-1]["images"] == {"editor": "ghcr.io/o/editor:v2"}


def test_history_in_the_state_bucket(fake_gcs, unique):
    gcs = storage.Client(
        project=PROJECT, credentials=AnonymousCredentials(), client_options={"api_endpoint": fake_gcs.url}
    )
    bucket = gcs.create_bucket(gcs.bucket(unique("releases")))
    p = module_params(
        RELEASE, backend="gcs", bucket=bucket.name, images=V1, project=PROJECT, auth_kind="anonymous",
        storage_endpoint=fake_gcs.url,
    )  # fmt: skip
    platform_release.ensure(p)
    platform_release.ensure({**p, "images": V2})
    stored = json.loads(bucket.get_blob("octo/platform-releases.json").download_as_bytes())
    assert [r["images"]["editor"] for r in stored["releases"]] == [
        "ghcr.io/o/editor:v1",
        "ghcr.io/o/editor:v2",
    ]
