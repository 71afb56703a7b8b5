"""deploy_token's GCS replay records against fake-gcs-server (real ifGenerationMatch=0 preconditions).

Each ansible-playbook task is a new process: a replay is refused by the object alone, after any restart.
"""

from __future__ import annotations

import json
import time

import pytest
from gcp_support import PROJECT
from google.auth.credentials import AnonymousCredentials
from google.cloud import storage
from support.oidc import REPOSITORY, Issuer
from support.playbook import run_tasks

from ansible_collections.octo.platform.plugins.module_utils.auth.replay import record_key

PREFIX = "deploy-gate/jti/"


@pytest.fixture
def bucket(fake_gcs, unique):
    client = storage.Client(
        project=PROJECT, credentials=AnonymousCredentials(), client_options={"api_endpoint": fake_gcs.url}
    )
    return client.create_bucket(unique("gate"))


@pytest.fixture
def issuer():
    server = Issuer.start()
    yield server
    server.stop()


def verify_task(name: str, issuer: Issuer, token: str, action: str, bucket, cache: str) -> dict:
    return {
        "name": name,
        "octo.platform.deploy_token": {
            "token": token,
            "action": action,
            "issuer": issuer.url,
            "pins": {"aud": "octo-deploy", "repository": REPOSITORY},
            "jwks_cache_dir": cache,
            "replay_backend": "gcs",
            "replay_gcs": {"bucket": bucket.name},
        },
        "ignore_errors": True,
    }


def test_jti_object_created_once_replay_refused_expired_pruned(bucket, issuer, gcs_env, tmp_path):
    expired = bucket.blob(PREFIX + "0" * 64)
    expired.metadata = {"expires": str(int(time.time()) - 10)}
    expired.upload_from_string(json.dumps({"action": "deploy", "expires": 1}), if_generation_match=0)
    live = bucket.blob(PREFIX + "1" * 64)
    live.metadata = {"expires": str(int(time.time()) + 600)}
    live.upload_from_string("{}", if_generation_match=0)
    token = issuer.mint()
    cache = str(tmp_path / "jwks")
    tasks = [
        {**verify_task("check", issuer, token, "deploy", bucket, cache), "check_mode": True},
        verify_task("first", issuer, token, "deploy", bucket, cache),
        verify_task("replay", issuer, token, "rollback", bucket, cache),
    ]
    run = run_tasks(tasks, env=gcs_env)
    assert run.task("check")["status"] == "changed"
    first = run.task("first")
    assert first["status"] == "changed", first["result"]
    assert first["result"]["replay_pruned"] == 1
    refused = run.task("replay")["result"]
    assert refused["refusal"] == "replay" and "first seen by action deploy" in refused["msg"]
    names = sorted(blob.name for blob in bucket.list_blobs(prefix=PREFIX))
    jti = first["result"]["claims"]["jti"]
    assert names == sorted([PREFIX + "1" * 64, PREFIX + record_key(jti)])
    stored = json.loads(bucket.get_blob(PREFIX + record_key(jti)).download_as_bytes())
    assert stored["action"] == "deploy" and stored["expires"] >= first["result"]["claims"]["exp"]
    assert token not in run.output


def test_missing_bucket_option_refused_before_the_token(issuer, gcs_env, tmp_path):
    task = {
        "name": "no bucket",
        "octo.platform.deploy_token": {
            "token": "not-even-a-jwt",
            "action": "deploy",
            "issuer": issuer.url,
            "pins": {"aud": "octo-deploy"},
            "replay_backend": "gcs",
        },
        "ignore_errors": True,
    }
    result = run_tasks([task], env=gcs_env).task("no bucket")["result"]
    assert result["msg"] == (
        "Failed to validate the replay records: replay_gcs.bucket: required with replay_backend=gcs"
    )
