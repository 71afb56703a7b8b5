"""platform_credentials against fake-gcs-server (generation preconditions) and a local file."""

from __future__ import annotations

import base64
import json
import os
import stat
import threading

import pytest
from gcp_support import PROJECT, module_params
from google.auth.credentials import AnonymousCredentials
from google.cloud import storage
from support.playbook import run_tasks

from ansible_collections.octo.platform.plugins.module_utils.common.errors import OctoError, ValidationError
from ansible_collections.octo.platform.plugins.module_utils.common.gcp_args import PLATFORM_CREDENTIALS
from ansible_collections.octo.platform.plugins.module_utils.gcp import gcs_state_store, platform_credentials
from ansible_collections.octo.platform.plugins.module_utils.state import envelope, local_store

OBJECT = "octo/platform-credentials.json.enc"
SENTINEL = "oidc-SENTINEL-7f3a9c"


@pytest.fixture
def bucket(fake_gcs, unique):
    client = storage.Client(
        project=PROJECT, credentials=AnonymousCredentials(), client_options={"api_endpoint": fake_gcs.url}
    )
    created = client.bucket(unique("creds"))
    created.versioning_enabled = True
    return client.create_bucket(created)


def gcs_params(fake_gcs, bucket, key, **extra):
    return module_params(
        PLATFORM_CREDENTIALS, backend="gcs", bucket=bucket.name, encryption_key=key,
        project=PROJECT, auth_kind="anonymous", storage_endpoint=fake_gcs.url, **extra,
    )  # fmt: skip


def local_params(path, key, **extra):
    return module_params(PLATFORM_CREDENTIALS, backend="local", path=str(path), encryption_key=key, **extra)


def stored(bucket, key) -> dict:
    blob = bucket.get_blob(OBJECT)
    return envelope.decrypt(
        envelope.parse_key(key), blob.download_as_bytes(), platform_credentials.CONTEXT, "x"
    )


def test_generated_once_and_stable_across_runs(fake_gcs, bucket, state_key):
    p = gcs_params(fake_gcs, bucket, state_key, oidc_client_secret=SENTINEL)
    check = platform_credentials.ensure(p, check_mode=True, diff=True)
    assert check["changed"] and check["credentials"] == {} and bucket.get_blob(OBJECT) is None
    assert check["diff"]["after"]["postgres_password"] == "(generated)"
    first = platform_credentials.ensure(p, diff=True)
    creds = first["credentials"]
    assert first["actions"] == {
        "postgres_password": "generated",
        "session_secret": "generated",
        "encryption_key": "generated",
        "k3s_token": "generated",
        "backup_key": "generated",
        "oidc_client_secret": "set",
    }
    assert len(base64.urlsafe_b64decode(creds["postgres_password"] + "==")) >= 32
    assert creds["postgres_password"] != creds["session_secret"]
    assert SENTINEL not in json.dumps(first["diff"])
    generation = bucket.get_blob(OBJECT).generation
    again = platform_credentials.ensure(p)
    assert not again["changed"] and again["credentials"] == creds
    assert bucket.get_blob(OBJECT).generation == generation  # no write at all
    assert stored(bucket, state_key)["credentials"] == creds
    raw = bucket.get_blob(OBJECT).download_as_bytes()
    assert SENTINEL.encode() not in raw and creds["postgres_password"].encode() not in raw


def test_oidc_update_keeps_generated_values(fake_gcs, bucket, state_key):
    first = platform_credentials.ensure(gcs_params(fake_gcs, bucket, state_key, oidc_client_secret="one"))
    second = platform_credentials.ensure(gcs_params(fake_gcs, bucket, state_key, oidc_client_secret="two"))
    assert second["actions"] == {"oidc_client_secret": "updated"}
    assert second["credentials"] == {**first["credentials"], "oidc_client_secret": "two"}
    assert (
        platform_credentials.ensure(gcs_params(fake_gcs, bucket, state_key))["credentials"][
            "oidc_client_secret"
        ]
        == "two"
    )


def test_wrong_key_is_a_clear_error_and_writes_nothing(fake_gcs, bucket, state_key):
    platform_credentials.ensure(gcs_params(fake_gcs, bucket, state_key))
    generation = bucket.get_blob(OBJECT).generation
    other = base64.b64encode(os.urandom(32)).decode()
    with pytest.raises(OctoError, match="encryption key does not match"):
        platform_credentials.ensure(gcs_params(fake_gcs, bucket, other, oidc_client_secret="x"))
    assert bucket.get_blob(OBJECT).generation == generation


@pytest.mark.parametrize(
    "extra, field",
    [({"encryption_key": "c2hvcnQ="}, "encryption_key"), ({"secret_bytes": 16}, "secret_bytes"),
     ({"oidc_client_secret": " "}, "oidc_client_secret")],
)  # fmt: skip
def test_bad_input_writes_nothing(fake_gcs, bucket, state_key, extra, field):
    p = {**gcs_params(fake_gcs, bucket, state_key), **extra}
    with pytest.raises(ValidationError) as err:
        platform_credentials.ensure(p)
    assert err.value.field == field and bucket.get_blob(OBJECT) is None


def race(monkeypatch, store_class, run_one):
    """Run two writers whose reads both happen before either writes; return their results."""
    barrier = threading.Barrier(2, timeout=20)
    real_read = store_class.read
    first_reads = set()

    def read(self):
        data = real_read(self)
        if threading.get_ident() not in first_reads:
            first_reads.add(threading.get_ident())
            barrier.wait()
        return data

    monkeypatch.setattr(store_class, "read", read)
    results, errors = [None, None], []

    def worker(index):
        try:
            results[index] = run_one(index)
        except Exception as err:  # reported below
            errors.append(err)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    monkeypatch.undo()
    assert not errors, errors
    return results


def test_two_concurrent_gcs_writers(monkeypatch, fake_gcs, bucket, state_key):
    results = race(
        monkeypatch, gcs_state_store.GcsStore,
        lambda i: platform_credentials.ensure(gcs_params(fake_gcs, bucket, state_key, oidc_client_secret=f"s{i}")),
    )  # fmt: skip
    assert sorted(r["conflicts"] for r in results) == [0, 1]  # exactly one 412
    loser = next(r for r in results if r["conflicts"])
    winner = next(r for r in results if not r["conflicts"])
    final = stored(bucket, state_key)["credentials"]
    assert (
        final["postgres_password"]
        == winner["credentials"]["postgres_password"]
        == loser["credentials"]["postgres_password"]
    )
    assert final["session_secret"] == winner["credentials"]["session_secret"]
    assert (
        final["oidc_client_secret"] == loser["credentials"]["oidc_client_secret"]
    )  # merged, last writer's input
    assert loser["actions"] == {"oidc_client_secret": "updated"}


def test_conflict_without_retries_fails_clearly(monkeypatch, fake_gcs, bucket, state_key):
    def run_one(i):
        try:
            return platform_credentials.ensure(gcs_params(fake_gcs, bucket, state_key, conflict_retries=0))
        except OctoError as err:
            return err

    results = race(monkeypatch, gcs_state_store.GcsStore, run_one)
    failures = [r for r in results if isinstance(r, OctoError)]
    assert len(failures) == 1 and "another run changed it" in str(failures[0])
    winner = next(r for r in results if not isinstance(r, OctoError))
    assert stored(bucket, state_key)["credentials"] == winner["credentials"]


def test_two_concurrent_local_writers(monkeypatch, tmp_path, state_key):
    path = tmp_path / "state" / "creds.json.enc"
    results = race(
        monkeypatch, local_store.LocalStore,
        lambda i: platform_credentials.ensure(local_params(path, state_key, oidc_client_secret=f"s{i}")),
    )  # fmt: skip
    assert sorted(r["conflicts"] for r in results) == [0, 1]
    assert results[0]["credentials"]["postgres_password"] == results[1]["credentials"]["postgres_password"]
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    again = platform_credentials.ensure(local_params(path, state_key))
    assert (
        not again["changed"]
        and again["credentials"]["postgres_password"] == results[0]["credentials"]["postgres_password"]
    )


def test_local_loose_mode_is_tightened(tmp_path, state_key):
    path = tmp_path / "creds.json.enc"
    platform_credentials.ensure(local_params(path, state_key))
    path.chmod(0o644)
    assert platform_credentials.ensure(local_params(path, state_key), check_mode=True)["changed"]
    assert stat.S_IMODE(path.stat().st_mode) == 0o644
    assert platform_credentials.ensure(local_params(path, state_key))["changed"]
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_no_value_in_any_output_of_ansible_playbook(tmp_path, fake_gcs, bucket, state_key, gcs_env):
    out = tmp_path / "materialized.json"
    tasks = [
        {
            "name": "credentials",
            "octo.platform.platform_credentials": {
                "backend": "gcs",
                "bucket": bucket.name,
                "oidc_client_secret": SENTINEL,
            },
            "register": "platform",
            "no_log": False,  # prove the module itself masks its result
        },
        {
            "name": "materialize",
            "ansible.builtin.copy": {
                "content": "{{ platform.credentials | to_json }}",
                "dest": str(out),
                "mode": "0600",
            },
            "no_log": True,
        },
    ]
    env = {**gcs_env, "OCTO_STATE_KEY": state_key}
    runs = [run_tasks(tasks, check=check, diff=True, verbosity=3, env=env) for check in (False, False)]
    assert all(run.rc == 0 for run in runs), runs[-1].output
    assert [run.task("credentials")["status"] for run in runs] == ["changed", "ok"]
    creds = stored(bucket, state_key)["credentials"]
    assert json.loads(out.read_text()) == creds  # the registered values reach the next task
    for run in runs:
        for value in creds.values():
            assert value not in run.output
            assert value not in json.dumps(run.results)
        assert "censored" in json.dumps(run.task("credentials")["result"])
    wrong = run_tasks(
        tasks[:1], verbosity=3, env={**env, "OCTO_STATE_KEY": base64.b64encode(os.urandom(32)).decode()}
    )
    assert wrong.rc != 0 and "encryption key does not match" in wrong.output
    assert all(value not in wrong.output for value in creds.values())
