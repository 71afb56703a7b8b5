"""platform_backup / platform_restore against a real PostgreSQL 15 server and fake-gcs-server."""

from __future__ import annotations

import base64
import json
import os

import pytest
from gcp_support import PROJECT, module_params
from google.auth.credentials import AnonymousCredentials
from google.cloud import storage
from support.playbook import run_tasks
from support.postgres import PostgresServer

from ansible_collections.octo.platform.plugins.module_utils.common.backup_args import BACKUP, RESTORE
from ansible_collections.octo.platform.plugins.module_utils.common.errors import OctoError
from ansible_collections.octo.platform.plugins.module_utils.gcp import platform_backup

SENTINEL = "row-SENTINEL-93be"


@pytest.fixture(scope="module")
def pg():
    with PostgresServer() as server:
        yield server


@pytest.fixture
def bucket(fake_gcs, unique):
    client = storage.Client(
        project=PROJECT, credentials=AnonymousCredentials(), client_options={"api_endpoint": fake_gcs.url}
    )
    return client.create_bucket(client.bucket(unique("backups")))


@pytest.fixture
def app_db(pg, unique):
    name = unique("app").replace("-", "_")
    pg.sql("postgres", f"CREATE DATABASE {name}")
    pg.sql(name, "CREATE TABLE runs (id serial PRIMARY KEY, note text)")
    pg.sql(name, f"INSERT INTO runs (note) SELECT '{SENTINEL}-' || g FROM generate_series(1, 500) g")
    pg.sql(name, "CREATE TABLE users (name text)")
    pg.sql(name, "INSERT INTO users VALUES ('ada'), ('grace')")
    return name


def params(spec, pg, fake_gcs, bucket, key, **extra):
    return module_params(
        spec, bucket=bucket.name, encryption_key=key, project=PROJECT, auth_kind="anonymous",
        storage_endpoint=fake_gcs.url, **pg.params(), **extra,
    )  # fmt: skip


def rows(pg, db):
    return pg.sql(db, "SELECT (SELECT count(*) FROM runs), (SELECT count(*) FROM users)")[0]


def test_backup_change_restore_round_trip(pg, fake_gcs, bucket, app_db, state_key):
    p = params(BACKUP, pg, fake_gcs, bucket, state_key, database=app_db)
    check = platform_backup.backup(p, check_mode=True, diff=True)
    assert check["changed"] and check["deleted"] == [] and list(bucket.list_blobs()) == []
    made = platform_backup.backup(p)["backup"]
    assert made["row_counts"] == {"public.runs": 500, "public.users": 2}
    blob = bucket.get_blob(made["name"])
    assert blob.size == made["size"] and blob.metadata["octo-key-id"] == made["key_id"]
    data = blob.download_as_bytes()
    assert data.startswith(b"OCTOBAK1") and SENTINEL.encode() not in data and state_key.encode() not in data

    pg.sql(app_db, "DELETE FROM runs WHERE id > 100; UPDATE users SET name = 'changed'")
    r = params(RESTORE, pg, fake_gcs, bucket, state_key, database=app_db)
    with pytest.raises(OctoError, match=r"not empty .* set force=true"):
        platform_backup.restore(r)
    assert rows(pg, app_db) == ["100", "2"]  # refused: untouched
    done = platform_backup.restore({**r, "force": True})
    assert done["replaced"] and done["row_counts"] == made["row_counts"]
    assert rows(pg, app_db) == ["500", "2"]
    assert pg.sql(app_db, "SELECT name FROM users ORDER BY 1") == [["ada"], ["grace"]]

    other = f"{app_db}_copy"
    copy = platform_backup.restore(
        {**r, "target_database": other, "backup": made["name"].rsplit("/", 1)[1][:16]}
    )
    assert not copy["replaced"] and rows(pg, other) == ["500", "2"]


def test_wrong_key_and_corrupted_backup_leave_the_target_untouched(pg, fake_gcs, bucket, app_db, state_key):
    made = platform_backup.backup(params(BACKUP, pg, fake_gcs, bucket, state_key, database=app_db))["backup"]
    pg.sql(app_db, "DELETE FROM runs WHERE id > 10")
    wrong = base64.b64encode(os.urandom(32)).decode()
    r = params(RESTORE, pg, fake_gcs, bucket, wrong, database=app_db, force=True)
    with pytest.raises(OctoError, match="backup key does not match"):
        platform_backup.restore(r)
    assert rows(pg, app_db) == ["10", "2"]

    blob = bucket.get_blob(made["name"])
    data = bytearray(blob.download_as_bytes())
    data[len(data) // 2] ^= 0x01
    blob.upload_from_string(bytes(data))
    with pytest.raises(OctoError, match="authentication failed at chunk 0: the backup is corrupted"):
        platform_backup.restore({**r, "encryption_key": state_key})
    assert rows(pg, app_db) == ["10", "2"]

    blob.upload_from_string(bytes(data[: len(data) - 40]))
    with pytest.raises(OctoError, match=r"Failed to decrypt backup gs://.*: .*(truncated|corrupted)"):
        platform_backup.restore({**r, "encryption_key": state_key})
    assert rows(pg, app_db) == ["10", "2"]


def test_rotation_deletes_beyond_the_last_days_and_weeks(pg, fake_gcs, bucket, app_db, state_key):
    old = [
        "20250101T010000Z", "20250101T020000Z", "20250102T010000Z", "20250110T010000Z", "20250120T010000Z",
    ]  # fmt: skip
    for stamp in old:
        bucket.blob(f"backups/{app_db}/{stamp}.dump.enc").upload_from_string(b"old")
    p = params(BACKUP, pg, fake_gcs, bucket, state_key, database=app_db, keep_daily=2, keep_weekly=3)
    predicted = platform_backup.backup(p, check_mode=True)
    done = platform_backup.backup(p)
    prefix = f"backups/{app_db}/"
    # newest of the last 2 days (today, 01-20) and of the last 3 ISO weeks (this, 01-20's, 01-10's)
    assert [n[len(prefix) :] for n in done["deleted"]] == [
        "20250102T010000Z.dump.enc", "20250101T020000Z.dump.enc", "20250101T010000Z.dump.enc",
    ]  # fmt: skip
    assert predicted["deleted"] == done["deleted"]
    listed = sorted(b.name for b in bucket.list_blobs(prefix=prefix))
    assert listed == sorted(done["kept"]) and done["backup"]["name"] in listed


def test_modules_in_a_play_keep_the_key_and_password_out_of_the_output(
    pg, fake_gcs, bucket, app_db, state_key
):
    env = {"GCP_PROJECT": PROJECT, "GCP_AUTH_KIND": "anonymous", "OCTO_STORAGE_ENDPOINT": fake_gcs.url,
           "OCTO_BACKUP_KEY": state_key, "PGPASSWORD": pg.password}  # fmt: skip
    conn = {k: v for k, v in pg.params().items() if k != "login_password"}
    conn.update(bucket=bucket.name, database=app_db)
    tasks = [
        {"name": "backup", "octo.platform.platform_backup": conn},
        {"name": "restore", "octo.platform.platform_restore": {**conn, "target_database": f"{app_db}_r"}},
        {"name": "again", "octo.platform.platform_restore": {**conn, "target_database": f"{app_db}_r"},
         "ignore_errors": True},
    ]  # fmt: skip
    run = run_tasks(tasks, diff=True, verbosity=3, env=env)
    assert run.rc == 0, run.output
    assert run.task("restore")["result"]["row_counts"] == {"public.runs": 500, "public.users": 2}
    assert "not empty" in run.task("again")["result"]["msg"]
    for secret in (state_key, pg.password):
        assert secret not in run.output and secret not in json.dumps(run.results)
