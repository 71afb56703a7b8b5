"""The deploy gate through real ansible-playbook runs: refused tokens (table), ci_deploy.yml end to end.

Keys and tokens are made here (tests/support/oidc.py); the issuer's discovery document and JWKS are served by
a local HTTP server. The table runs every row as a deploy_token task of one playbook (each task is its own
module process); the ci_deploy.yml tests run the shipped playbook against the local cluster.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from k8s_support import SAMPLES, TEST_IMAGE
from support.oidc import REPOSITORY, WORKFLOW_REF, Issuer, rsa_key
from support.playbook import CALLBACKS, REPO_ROOT, ansible_bin, run_tasks

from ansible_collections.octo.platform.plugins.module_utils.kube.client import Kube
from ansible_collections.octo.platform.plugins.module_utils.kube.resources import CONFIG_MAP, DEPLOYMENT
from ansible_collections.octo.platform.plugins.module_utils.render.lease import LEASE, LOCK_NAME

DEPLOY_PINS = {"aud": "octo-deploy", "repository": REPOSITORY, "workflow_ref": WORKFLOW_REF}
PLAN_WORKFLOW = "octo/integrations/.github/workflows/plan.yml"
PLAN_PINS = {
    "aud": "octo-deploy",  # the same audience: only the other pins keep a plan token from deploying
    "repository": REPOSITORY,
    "sub": f"repo:{REPOSITORY}:pull_request",
    "workflow_ref": PLAN_WORKFLOW + "@*",
}
ACTIONS = {"deploy": DEPLOY_PINS, "rollback": DEPLOY_PINS, "plan": PLAN_PINS}
RUN_TIMEOUT = 300


@pytest.fixture(scope="module")
def issuer():
    server = Issuer.start()
    yield server
    server.stop()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def hs256_with_public_key(issuer: Issuer) -> str:
    """The classic key-confusion token: HMAC-signed with the issuer's public key PEM as the secret."""
    pem = (
        issuer.keys["rsa-1"][1]
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    signing_input = ".".join(
        _b64(json.dumps(part).encode())
        for part in ({"alg": "HS256", "typ": "JWT", "kid": "rsa-1"}, issuer.claims())
    )
    signature = hmac.new(pem, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{_b64(signature)}"


def _rows(issuer: Issuer) -> list[tuple]:
    """(id, action, token, expected refusal, words of the message); rows run in this order."""
    now = int(time.time())
    replayed, other_action = issuer.mint(), issuer.mint()
    intruder = rsa_key()
    return [
        ("accepted", "deploy", replayed, None, "claims"),
        ("replay-same-action", "deploy", replayed, "replay", "first seen by action deploy"),
        ("accepted-rollback", "rollback", other_action, None, "claims"),
        ("replay-other-action", "deploy", other_action, "replay", "first seen by action rollback"),
        (
            "wrong-signature",
            "deploy",
            jwt.encode(issuer.claims(), intruder, algorithm="RS256", headers={"kid": "rsa-1"}),
            "signature",
            "does not verify",
        ),
        (
            "missing-signature",
            "deploy",
            issuer.mint().rsplit(".", 1)[0] + ".",
            "signature",
            "does not verify",
        ),
        (
            "alg-none",
            "deploy",
            jwt.encode(issuer.claims(), None, algorithm="none", headers={"kid": "rsa-1"}),
            "alg-none",
            "unsigned",
        ),
        ("hs256-public-key", "deploy", hs256_with_public_key(issuer), "alg-hmac", "HMAC algorithm HS256"),
        (
            "alg-key-mismatch",
            "deploy",
            jwt.encode(issuer.claims(), issuer.keys["es-1"][1], algorithm="ES256", headers={"kid": "rsa-1"}),
            "alg-key-mismatch",
            "does not match key rsa-1",
        ),
        (
            "unknown-kid",
            "deploy",
            jwt.encode(issuer.claims(), intruder, algorithm="RS256", headers={"kid": "rsa-9"}),
            "unknown-kid",
            "after one refresh",
        ),
        ("expired", "deploy", issuer.mint(iat=now - 900, nbf=now - 900, exp=now - 600), "expired", "expired"),
        ("nbf-future", "deploy", issuer.mint(nbf=now + 600), "nbf", "nbf is in the future"),
        ("iat-future", "deploy", issuer.mint(iat=now + 600, exp=now + 900), "iat", "iat is in the future"),
        ("wrong-aud", "deploy", issuer.mint(aud="octo-other"), "audience", "claim aud is 'octo-other'"),
        (
            "other-action-pins",
            "deploy",
            issuer.mint(
                sub=f"repo:{REPOSITORY}:pull_request", workflow_ref=PLAN_WORKFLOW + "@refs/pull/7/merge"
            ),
            "pin",
            "claim workflow_ref",
        ),
        ("wrong-repository", "deploy", issuer.mint(repository="mallory/fork"), "pin", "claim repository"),
        (
            "workflow-other-branch",
            "deploy",
            issuer.mint(workflow_ref=WORKFLOW_REF.replace("refs/heads/main", "refs/heads/dev")),
            "pin",
            "claim workflow_ref",
        ),
        ("missing-jti", "deploy", issuer.mint(jti=None), "missing-jti", "no jti claim"),
        ("es256-accepted", "deploy", issuer.mint(kid="es-1"), None, "claims"),
    ]


@pytest.fixture(scope="module")
def table(issuer, tmp_path_factory):
    """One ansible-playbook run: a deploy_token task per row, then one against a JWKS endpoint that is down."""
    work = tmp_path_factory.mktemp("gate-table")
    rows = _rows(issuer)
    common = {
        "issuer": issuer.url,
        "jwks_cache_dir": str(work / "jwks"),
        "replay_path": str(work / "replay"),
    }
    tasks = [
        {
            "name": row_id,
            "octo.platform.deploy_token": {
                "token": token,
                "action": action,
                "pins": ACTIONS[action],
                **common,
            },
            "ignore_errors": True,
        }
        for row_id, action, token, _refusal, _words in rows
    ]
    down = {**common, "discovery_url": "http://127.0.0.1:9/.well-known/openid-configuration"}
    down["jwks_cache_dir"] = str(work / "jwks-empty")
    tasks.append(
        {
            "name": "jwks-down",
            "octo.platform.deploy_token": {
                "token": issuer.mint(),
                "action": "deploy",
                "pins": DEPLOY_PINS,
                **down,
            },
            "ignore_errors": True,
        }
    )
    before = dict(issuer.requests)
    started = time.monotonic()
    run = run_tasks(tasks, verbosity=3, timeout=RUN_TIMEOUT)
    fetched = {path: issuer.requests[path] - before.get(path, 0) for path in issuer.requests}
    return {
        "run": run,
        "rows": {row[0]: row for row in rows},
        "fetched": fetched,
        "seconds": time.monotonic() - started,
        "work": work,
    }


REFUSED_ROWS = [
    "replay-same-action",
    "replay-other-action",
    "wrong-signature",
    "missing-signature",
    "alg-none",
    "hs256-public-key",
    "alg-key-mismatch",
    "unknown-kid",
    "expired",
    "nbf-future",
    "iat-future",
    "wrong-aud",
    "other-action-pins",
    "wrong-repository",
    "workflow-other-branch",
    "missing-jti",
]


@pytest.mark.parametrize("row_id", REFUSED_ROWS)
def test_refused_with_reason(table, row_id):
    _id, _action, token, refusal, words = table["rows"][row_id]
    entry = table["run"].task(row_id)
    result = entry["result"]
    assert entry["status"] == "ignored", result
    assert result["refusal"] == refusal, result
    assert result["msg"].startswith("Failed to verify the deploy token: ")
    assert words in result["msg"], result["msg"]
    assert "claims" not in result and result["changed"] is False
    assert token not in table["run"].output  # not even at -vvv


def test_jwks_endpoint_down_fails_closed(table):
    result = table["run"].task("jwks-down")["result"]
    assert result["refusal"] == "jwks-unavailable", result
    assert "cannot fetch http://127.0.0.1:9/" in result["msg"] and "failing closed" in result["msg"]


@pytest.mark.parametrize("row_id", ["accepted", "accepted-rollback", "es256-accepted"])
def test_accepted_tokens_return_claims_not_token(table, row_id):
    _id, action, token, _refusal, _words = table["rows"][row_id]
    entry = table["run"].task(row_id)
    assert entry["status"] == "changed", entry["result"]
    claims = entry["result"]["claims"]
    assert claims["repository"] == REPOSITORY and claims["actor"] == "alice" and claims["sha"]
    assert entry["result"]["action"] == action
    assert token not in json.dumps(entry["result"]) and token not in table["run"].output


def test_jwks_cached_and_refreshed_once_for_unknown_kid(table):
    # A cold cache fetches once; only the unknown kid forces one more fetch (the down endpoint is another URL).
    assert table["fetched"].get("/jwks") == 2, table["fetched"]
    assert table["fetched"].get("/.well-known/openid-configuration") == 2, table["fetched"]
    assert table["seconds"] < RUN_TIMEOUT


def test_refusals_record_nothing(table):
    """Only the accepted tokens left replay records: three files in the replay directory."""
    assert len(os.listdir(table["work"] / "replay")) == 3


# ci_deploy.yml ---------------------------------------------------------------------------------------------


def _inventory(work: Path) -> Path:
    path = work / "inventory.json"
    host = {"ansible_connection": "local", "ansible_python_interpreter": sys.executable}
    path.write_text(json.dumps({"all": {"hosts": {"localhost": host}}}))
    return path


def ci_deploy(work: Path, token: str, extra_vars: dict, name: str):
    """Start playbooks/ci_deploy.yml (a new session, so a test can kill it whole); returns the Popen."""
    vars_file = work / f"{name}.json"
    vars_file.write_text(json.dumps(extra_vars))
    env = {
        **os.environ,
        "ANSIBLE_CONFIG": str(REPO_ROOT / "ansible.cfg"),
        "ANSIBLE_CALLBACK_PLUGINS": str(CALLBACKS),
        "ANSIBLE_CALLBACKS_ENABLED": "task_results",
        "ANSIBLE_NOCOLOR": "1",
        "ANSIBLE_LOCAL_TEMP": str(work / f"{name}-tmp"),
        "OCTO_TASK_RESULTS_FILE": str(work / f"{name}.jsonl"),
        "OCTO_DEPLOY_TOKEN": token,
    }
    command = [
        ansible_bin("ansible-playbook"),
        "-i",
        str(_inventory(work)),
        "-e",
        f"@{vars_file}",
        str(REPO_ROOT / "playbooks" / "ci_deploy.yml"),
    ]
    return subprocess.Popen(
        command,
        cwd=REPO_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )


def finish(proc, work: Path, name: str) -> tuple[int, str, dict]:
    """rc, output and the task results by task name of a ci_deploy run."""
    output, _ = proc.communicate(timeout=RUN_TIMEOUT)
    lines = (work / f"{name}.jsonl").read_text().splitlines() if (work / f"{name}.jsonl").exists() else []
    results = {}
    for line in lines:
        entry = json.loads(line)
        results[entry["task"]] = entry
    return proc.returncode, output, results


def deploy_vars(issuer: Issuer, work: Path, namespace: str, deployment_id: str, **overrides) -> dict:
    return {
        "octo_namespace": namespace,
        "ci_deploy_actions": ACTIONS,
        "ci_deploy_issuer": issuer.url,
        "ci_deploy_jwks_cache_dir": str(work / "jwks"),
        "ci_deploy_replay_backend": "cluster",
        "octo_image": TEST_IMAGE,
        "octo_wait": False,
        "octo_integrations": [
            {
                "slug": "http-orders",
                "deployment_id": deployment_id,
                "definition_file": str(SAMPLES / "http-orders.yaml"),
                "env": {"API_KEY": "literal-api-key"},
            }
        ],
        **overrides,
    }


def leftovers(kubeconfig: str, namespace: str) -> dict:
    kube = Kube({"kubeconfig": kubeconfig})
    return {
        "lease": kube.get(LEASE, LOCK_NAME, namespace),
        "deployments": [d["metadata"]["name"] for d in kube.list(DEPLOYMENT, namespace)],
        "results": [
            c["metadata"]["name"]
            for c in kube.list(CONFIG_MAP, namespace, label_selector="octo.dev/record=deploy-result")
        ],
    }


def status_info(namespace: str) -> dict:
    run = run_tasks([{"name": "status", "octo.platform.deploy_status_info": {"namespace": namespace}}])
    assert run.rc == 0, run.output
    return run.task("status")["result"]["actions"]


@pytest.fixture
def work():
    with tempfile.TemporaryDirectory(prefix="octo-gate-") as directory:
        yield Path(directory)


@pytest.mark.parametrize("backend", ["cluster", "local"])
def test_replay_refused_after_restart_of_everything(kubeconfig, namespace, issuer, work, backend):
    token = issuer.mint(actor="bob")
    extra = deploy_vars(issuer, work, namespace, "orders-1", ci_deploy_replay_backend=backend)
    extra["ci_deploy_replay_path"] = str(work / "replay")
    rc, output, results = finish(ci_deploy(work, token, extra, "first"), work, "first")
    assert rc == 0, output
    assert results["Take the deploy lock"]["result"]["outcome"] == "take"
    assert results["Renew the deploy lock"]["result"]["outcome"] == "renew"
    first = status_info(namespace)["deploy"]
    assert first["outcome"] == "succeeded" and first["actor"] == "bob" and first["repository"] == REPOSITORY
    assert [i["deployment_id"] for i in first["integrations"]] == ["orders-1"]
    assert leftovers(kubeconfig, namespace)["lease"] is None  # released

    issuer.stop()  # everything restarts: the issuer, a new JWKS cache, new ansible processes
    issuer.restart()
    extra["ci_deploy_jwks_cache_dir"] = str(work / "jwks-after-restart")
    extra["octo_integrations"][0]["deployment_id"] = "orders-2"
    rc, output, results = finish(ci_deploy(work, token, extra, "again"), work, "again")
    assert rc != 0
    refused = results["Verify the deploy token"]["result"]
    assert refused["refusal"] == "replay" and "first seen by action deploy" in refused["msg"]
    left = leftovers(kubeconfig, namespace)
    assert left["lease"] is None and left["deployments"] == ["octo-dep-orders-1"], left
    assert status_info(namespace)["deploy"] == first  # the refused run recorded nothing
    assert token not in output


def test_refused_request_deploys_nothing_and_takes_no_lock(kubeconfig, namespace, issuer, work):
    bad = issuer.mint(repository="mallory/fork")
    rc, output, results = finish(
        ci_deploy(work, bad, deploy_vars(issuer, work, namespace, "orders-1"), "bad"), work, "bad"
    )
    assert rc != 0 and bad not in output
    assert results["Verify the deploy token"]["result"]["refusal"] == "pin"
    assert "Take the deploy lock" not in results
    assert leftovers(kubeconfig, namespace) == {"lease": None, "deployments": [], "results": []}


def _holder(results: dict) -> str:
    return results["Take the deploy lock"]["result"]["holder_identity"]


def test_concurrent_runs_serialize(kubeconfig, namespace, issuer, work):
    """Two runs at once: one holds the lock through a slow rollout, the other waits and names it."""
    slow = {"probes": {"path": "/healthz", "initial_delay_seconds": 10}}
    runs = {}
    for name, actor in (("one", "alice"), ("two", "carol")):
        extra = deploy_vars(
            issuer, work, namespace, f"orders-{name}", octo_wait=True, ci_deploy_lock_wait_sleep=1
        )
        extra["octo_integrations"][0].update(slow)
        runs[name] = ci_deploy(work, issuer.mint(actor=actor), extra, name)
    done = {name: finish(proc, work, name) for name, proc in runs.items()}
    assert all(rc == 0 for rc, _output, _results in done.values()), [d[1] for d in done.values()]
    waited = {name: d[2]["Take the deploy lock"]["result"]["waited"] for name, d in done.items()}
    first, second = sorted(done, key=lambda name: waited[name])
    first_holder = _holder(done[first][2])
    assert f"deploy lock of namespace {namespace} is held by {first_holder}" in done[second][1]
    assert f"is held by {_holder(done[second][2])}" not in done[first][1]
    taken = done[second][2]["Take the deploy lock"]["result"]
    assert taken["outcome"] == "take" and taken["previous_holder"] is None  # released, not expired
    assert waited[second] >= 5, waited  # at least the first run's rollout
    left = leftovers(kubeconfig, namespace)
    assert left["lease"] is None
    assert sorted(left["deployments"]) == ["octo-dep-orders-one", "octo-dep-orders-two"]
    assert (
        status_info(namespace)["deploy"]["actor"]
        == done[second][2]["Record the result"]["result"]["result"]["actor"]
    )


def test_killed_run_lock_taken_over_after_ttl(kubeconfig, namespace, issuer, work):
    ttl = 60  # usually longer than the next run needs to start: it then finds the lock live and waits
    stuck = deploy_vars(
        issuer, work, namespace, "orders-stuck", octo_image=TEST_IMAGE + "-never-ready", octo_wait=True
    )
    stuck.update(octo_wait_timeout=120, ci_deploy_lock_ttl=ttl)
    killed = ci_deploy(work, issuer.mint(actor="dave"), stuck, "killed")
    kube = Kube({"kubeconfig": kubeconfig})
    deadline = time.monotonic() + 120
    lease = None
    while lease is None and time.monotonic() < deadline and killed.poll() is None:
        lease = kube.get(LEASE, LOCK_NAME, namespace)
        time.sleep(0.2)
    seen_at = time.monotonic()  # the lock was taken at most 0.2 s before
    assert lease is not None, killed.communicate()[0]
    os.killpg(killed.pid, signal.SIGKILL)
    killed.communicate()
    dead_holder = lease["spec"]["holderIdentity"]
    assert kube.get(LEASE, LOCK_NAME, namespace)["spec"]["holderIdentity"] == dead_holder  # left behind

    extra = deploy_vars(issuer, work, namespace, "orders-next", ci_deploy_lock_wait_sleep=1)
    started = time.monotonic()
    rc, output, results = finish(ci_deploy(work, issuer.mint(actor="erin"), extra, "next"), work, "next")
    assert rc == 0, output
    taken = results["Take the deploy lock"]["result"]
    assert taken["outcome"] == "takeover" and taken["previous_holder"] == dead_holder
    assert time.monotonic() - seen_at >= ttl - 2  # not before the TTL ran out (less the module's start)
    if started - seen_at < ttl / 2:  # a loaded machine may start the next run after the TTL: then no wait
        assert f"is held by {dead_holder}" in output  # it found the dead run's lock live and waited
    assert kube.get(LEASE, LOCK_NAME, namespace) is None


def lock_task(name: str, namespace: str, holder: str, **args) -> dict:
    return {
        "name": name,
        "octo.platform.deploy_lock": {"namespace": namespace, "holder": holder, **args},
        "ignore_errors": True,
    }


def test_lock_fail_fast_names_holder_and_release_only_by_holder(kubeconfig, namespace, issuer, work):
    held = run_tasks([lock_task("take", namespace, "ops maintenance (bob)", ttl=600)])
    assert held.task("take")["result"]["outcome"] == "take", held.output
    extra = deploy_vars(issuer, work, namespace, "orders-1", ci_deploy_lock_wait=False)
    rc, output, results = finish(ci_deploy(work, issuer.mint(), extra, "fast"), work, "fast")
    assert rc != 0 and "waiting (" not in output  # no wait: the first attempt fails
    refused = results["Take the deploy lock"]["result"]
    assert refused["msg"].startswith(
        f"Failed to take the deploy lock of namespace {namespace}: held by ops maintenance (bob) (held "
    )
    assert refused["holder_identity"] == "ops maintenance (bob)"
    assert leftovers(kubeconfig, namespace)["deployments"] == []
    tasks = [
        {**lock_task("check take", namespace, "other", wait=False), "check_mode": True},
        {
            **lock_task("check release", namespace, "ops maintenance (bob)", state="absent"),
            "check_mode": True,
        },
        lock_task("renew", namespace, "ops maintenance (bob)", ttl=600),
        lock_task("release by another", namespace, "other", state="absent"),
        lock_task("release", namespace, "ops maintenance (bob)", state="absent"),
        lock_task("release again", namespace, "ops maintenance (bob)", state="absent"),
    ]
    run = run_tasks(tasks)
    assert run.task("check take")["status"] == "ignored"  # busy fails fast in check mode too
    assert run.task("check release")["status"] == "changed"
    assert run.task("renew")["result"]["outcome"] == "renew"
    assert run.task("release by another")["status"] == "ok"
    assert run.task("release by another")["result"]["holder_identity"] == "ops maintenance (bob)"
    assert run.task("release")["status"] == "changed" and run.task("release again")["status"] == "ok"
    assert leftovers(kubeconfig, namespace)["lease"] is None
