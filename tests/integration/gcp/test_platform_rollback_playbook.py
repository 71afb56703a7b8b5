"""playbooks/platform_rollback.yml: the database restore step on real PostgreSQL and fake-gcs-server, and the
refusal when there is no release to roll back to."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from gcp_support import PROJECT, module_params
from google.auth.credentials import AnonymousCredentials
from google.cloud import storage
from support.playbook import ansible_bin
from support.postgres import PostgresServer

from ansible_collections.octo.platform.plugins.module_utils.common.backup_args import BACKUP, RELEASE
from ansible_collections.octo.platform.plugins.module_utils.common.gcp_args import PLATFORM_CREDENTIALS
from ansible_collections.octo.platform.plugins.module_utils.gcp import (
    platform_backup,
    platform_credentials,
    platform_release,
)

REPO = Path(__file__).resolve().parents[3]
V1 = {"editor": "ghcr.io/o/editor:v1", "orchestrator": "ghcr.io/o/orch:v1"}
V2 = {"editor": "ghcr.io/o/editor:v2", "orchestrator": "ghcr.io/o/orch:v2"}


@pytest.fixture(scope="module")
def pg():
    with PostgresServer() as server:
        yield server


@pytest.fixture
def setup(pg, fake_gcs, unique, tmp_path):
    """Local platform state (credentials + releases), the octo database backed up before release 2."""
    gcs = storage.Client(
        project=PROJECT, credentials=AnonymousCredentials(), client_options={"api_endpoint": fake_gcs.url}
    )
    bucket = gcs.create_bucket(gcs.bucket(unique("rollback")))
    key = base64.b64encode(os.urandom(32)).decode()
    state = tmp_path / "state" / "platform-credentials.json.enc"
    creds = platform_credentials.ensure(
        module_params(PLATFORM_CREDENTIALS, path=str(state), encryption_key=key)
    )["credentials"]
    database = unique("octo").replace("-", "_")
    pg.sql("postgres", f"ALTER USER postgres PASSWORD '{creds['postgres_password']}'")
    pg.password = creds["postgres_password"]
    pg.sql("postgres", f"CREATE DATABASE {database}")
    pg.sql(database, "CREATE TABLE runs (id int); INSERT INTO runs SELECT generate_series(1, 50)")
    gcp = {"project": PROJECT, "auth_kind": "anonymous", "storage_endpoint": fake_gcs.url}
    backup = platform_backup.backup(
        module_params(
            BACKUP,
            database=database,
            bucket=bucket.name,
            encryption_key=creds["backup_key"],
            **gcp,
            **pg.params(),
        )
    )["backup"]["name"]
    releases = str(tmp_path / "state" / "platform-releases.json")
    platform_release.ensure(module_params(RELEASE, path=releases, images=V1))
    extra = {
        "octo_state_backend": "local", "octo_state_path": str(state), "octo_state_key": key,
        "octo_state_bucket": bucket.name, "octo_postgres_port": pg.port, "platform_postgres_user": "postgres",
        "platform_postgres_database": database,
    }  # fmt: skip
    return {
        "extra": extra,
        "releases": releases,
        "backup": backup,
        "database": database,
        "creds": creds,
        "key": key,
    }


def rollback(setup, fake_gcs, tmp_path, *tags):
    (tmp_path / "extra.json").write_text(json.dumps(setup["extra"]))
    command = [
        ansible_bin("ansible-playbook"), "-i", "localhost,", "-c", "local", "-e", f"ansible_python_interpreter={sys.executable}",
        "-e", f"@{tmp_path / 'extra.json'}", "octo.platform.platform_rollback", "-vvv", *tags,
    ]  # fmt: skip
    env = {**os.environ, "ANSIBLE_CONFIG": str(REPO / "ansible.cfg"), "GCP_PROJECT": PROJECT, "GCP_AUTH_KIND": "anonymous",
           "OCTO_STORAGE_ENDPOINT": fake_gcs.url, "ANSIBLE_NOCOLOR": "1"}  # fmt: skip
    done = subprocess.run(
        command, cwd=REPO, env=env, capture_output=True, text=True, timeout=300, check=False
    )
    return done.returncode, done.stdout + done.stderr


def test_no_release_before_the_current_one_is_refused(pg, fake_gcs, setup, tmp_path):
    rc, output = rollback(setup, fake_gcs, tmp_path, "--tags", "restore")
    assert rc != 0 and "a rollback needs the one before the current" in output


def test_restore_step_brings_back_the_database_of_the_previous_release(pg, fake_gcs, setup, tmp_path):
    platform_release.ensure(module_params(RELEASE, path=setup["releases"], images=V2, backup=setup["backup"]))
    pg.sql(setup["database"], "DELETE FROM runs WHERE id > 5")
    rc, output = rollback(setup, fake_gcs, tmp_path, "--tags", "restore")
    assert rc == 0, output
    assert pg.sql(setup["database"], "SELECT count(*) FROM runs") == [["50"]]
    assert "ghcr.io/o/orch:v1" in output and setup["backup"] in output
    for secret in (setup["key"], setup["creds"]["backup_key"], setup["creds"]["postgres_password"]):
        assert secret not in output
