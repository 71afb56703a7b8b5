"""Live progress of the bulk form through real ansible-playbook: aggregate lines and failing items' warnings."""

from __future__ import annotations

import itertools
import re
import time

from k8s_support import TEST_IMAGE, sample
from support.playbook import run_tasks
from test_ansible_runner import (  # noqa: F401 - the fixtures of AWX's way of running a job
    awx_namespace,
    collections,
    credential,
    events,
    ok_result,
    private_data_dir,
    run_job,
)

from ansible_collections.octo.platform.plugins.module_utils.kube import resources as res
from ansible_collections.octo.platform.plugins.module_utils.kube.client import Kube

AGGREGATE = re.compile(r"\[localhost\] (\d+/\d+ ready, \d+ rolling, \d+ failing.*)$", re.MULTILINE)


def bulk_task(namespace: str, integrations: list[dict], **args) -> dict:
    return {
        "name": "bulk",
        "octo.platform.integrations": {
            "namespace": namespace,
            "image": TEST_IMAGE,
            "base_domain": "octo.example.com",
            "wait_sleep": 1,
            "integrations": integrations,
            **args,
        },
    }


def batch(count: int) -> list[dict]:
    return [
        {
            "slug": f"report-{i}",
            "deployment_id": f"dep-{i}",
            "definition": sample("nightly-report"),
            "env": {"REPORT_BUCKET": "b"},
        }
        for i in range(count)
    ]


def test_aggregate_lines_and_warnings_of_the_failing_item(kubeconfig, namespace):
    items = batch(4)
    items[1]["image"] = f"{TEST_IMAGE}-fail-pull"

    run = run_tasks(
        [bulk_task(namespace, items, wait_timeout=120)], env={"K8S_AUTH_KUBECONFIG": kubeconfig}, verbosity=3
    )

    lines = AGGREGATE.findall(run.output)
    assert lines[0] == "0/4 ready, 4 rolling, 0 failing", run.output
    assert lines[-1] == "3/4 ready, 0 rolling, 1 failing: report-1/dep-1 ImagePullBackOff", run.output
    assert all(a != b for a, b in itertools.pairwise(lines))  # printed only when it changes
    assert re.search(r"\[localhost\] report-1/dep-1: Warning Failed pod/octo-dep-dep-1-\S+: ", run.output)
    assert "report-0/dep-0: Warning" not in run.output  # warnings only of failing items
    result = run.task("bulk")
    assert result["status"] == "failed"
    assert (
        "Failed to converge 1 of 4 integrations: report-1/dep-1: Failed to roll out"
        in result["result"]["msg"]
    )
    states = [r["rollout"]["state"] for r in result["result"]["integrations"]]
    assert states == ["complete", "failed", "complete", "complete"]
    assert result["result"]["summary"]["failed"] == 1
    assert len(re.findall(r"PUT .*AnsiballZ_integrations\.py", run.output)) == 1  # one module; polls run here
    assert "integration_info" not in run.output


def test_a_settled_set_prints_no_progress(kubeconfig, namespace):
    tasks = [bulk_task(namespace, batch(3)), {**bulk_task(namespace, batch(3)), "name": "again"}]

    run = run_tasks(tasks, env={"K8S_AUTH_KUBECONFIG": kubeconfig})

    assert run.rc == 0, run.output
    assert AGGREGATE.findall(run.output)[-1] == "3/3 ready, 0 rolling, 0 failing"
    assert run.task("again")["status"] == "ok"
    assert len(AGGREGATE.findall(run.output)) == len(AGGREGATE.findall(run.output.split("TASK [again]")[0]))
    assert [r["rollout"]["state"] for r in run.task("again")["result"]["integrations"]] == ["complete"] * 3


def test_without_wait_nothing_is_followed(kubeconfig, namespace):
    run = run_tasks([bulk_task(namespace, batch(2), wait=False)], env={"K8S_AUTH_KUBECONFIG": kubeconfig})

    assert run.rc == 0, run.output
    assert AGGREGATE.findall(run.output) == []
    assert all("rollout" not in r for r in run.task("bulk")["result"]["integrations"])


def test_a_waiting_run_records_the_result_of_rollouts_done_before_it(kubeconfig, namespace):
    items = batch(2)
    kube = Kube({"kubeconfig": kubeconfig})
    environment = {"K8S_AUTH_KUBECONFIG": kubeconfig}
    assert run_tasks([bulk_task(namespace, items, wait=False)], env=environment).rc == 0
    deadline = time.monotonic() + 120
    while any(
        (kube.get(res.DEPLOYMENT, f"octo-dep-{i['deployment_id']}", namespace).get("status") or {}).get(
            "availableReplicas"
        )
        != 1
        for i in items
    ):
        assert time.monotonic() < deadline, "the rollouts never completed"
        time.sleep(0.5)

    run = run_tasks([bulk_task(namespace, items)], env=environment)

    assert run.rc == 0, run.output
    assert AGGREGATE.findall(run.output) == []  # nothing left to follow
    results = run.task("bulk")["result"]["integrations"]
    assert [r["revision"]["result"] for r in results] == ["rolled-out", "rolled-out"]
    stored = kube.get(res.CONFIG_MAP, results[0]["revision"]["config_map"], namespace)
    assert stored["data"]["result"] == "rolled-out"


def test_the_lines_are_job_events_under_ansible_runner(collections, credential, awx_namespace, tmp_path):  # noqa: F811
    extravars = {
        "octo_namespace": awx_namespace,
        "octo_image": TEST_IMAGE,
        "octo_tls_mode": "none",
        "octo_integrations": batch(2),
    }
    data_dir = private_data_dir(tmp_path, collections, credential, extravars)

    rc, job = run_job(data_dir, "playbooks/integrations.yml", "bulk-job")

    assert rc == 0, (job / "stdout").read_text()
    lines = [e.get("stdout", "") for e in events(job)]
    assert "[localhost] 0/2 ready, 2 rolling, 0 failing" in lines
    assert "[localhost] 2/2 ready, 0 rolling, 0 failing" in lines
    assert [r["rollout"]["state"] for r in ok_result(job, "Deploy the integrations")["integrations"]] == [
        "complete",
        "complete",
    ]
