"""Hand edits and other field managers against the real API server, through a real ansible-playbook.

Edits are made as kubectl makes them: ``kubectl edit`` (a JSON patch or a PUT, manager kubectl-edit),
``kubectl set env`` (a strategic-merge patch, manager kubectl-set), a scale by another manager.
"""

from __future__ import annotations

import pytest
from k8s_support import SAMPLES, TEST_IMAGE, integration_params, orders_args, sample
from support.playbook import run_tasks

from ansible_collections.octo.platform.plugins.module_utils.kube import resources as res
from ansible_collections.octo.platform.plugins.module_utils.kube.apply import apply_action
from ansible_collections.octo.platform.plugins.module_utils.kube.client import ApiError, Kube
from ansible_collections.octo.platform.plugins.module_utils.kube.integration import converge
from ansible_collections.octo.platform.plugins.module_utils.render.plan import plan

NAME = "octo-dep-orders-1"
TASK = "deploy orders"
JSON_PATCH = "application/json-patch+json"
STRATEGIC = "application/strategic-merge-patch+json"


@pytest.fixture
def kube(kubeconfig):
    return Kube({"kubeconfig": kubeconfig})


def deploy(namespace, check=False, **overrides) -> dict:
    """One playbook run of the integration module; returns the task's entry (status, result)."""
    args = orders_args(namespace, **overrides)
    run = run_tasks([{"name": TASK, "octo.platform.integration": args}], check=check)
    assert run.rc == 0, run.output
    return run.task(TASK)


def warnings_of(entry: dict) -> list[str]:
    return entry["result"].get("warnings", [])


def patch(kube: Kube, resource, namespace: str, body, content_type: str, manager: str) -> None:
    kube.request(
        "PATCH",
        resource.path(namespace, NAME),
        query={"fieldManager": manager},
        body=body,
        content_type=content_type,
    )


def container(kube: Kube, namespace: str) -> dict:
    """The rendered container (a strategic-merge patch may put added ones first)."""
    pod_spec = kube.get(res.DEPLOYMENT, NAME, namespace)["spec"]["template"]["spec"]
    return next(c for c in pod_spec["containers"] if c["name"] == "octo")


def managers(obj: dict) -> set[str]:
    return {entry["manager"] for entry in obj["metadata"]["managedFields"]}


def test_hand_edited_ports_are_repaired_once(kubeconfig, namespace, kube, tmp_path):
    assert deploy(namespace)["status"] == "changed"
    # kubectl edit of the Service port (a JSON patch) and of the containerPort (a PUT)
    edit = [{"op": "replace", "path": "/spec/ports/0/port", "value": 9090}]
    patch(kube, res.SERVICE, namespace, edit, JSON_PATCH, "kubectl-edit")
    deployment = kube.get(res.DEPLOYMENT, NAME, namespace)
    deployment["spec"]["template"]["spec"]["containers"][0]["ports"][0]["containerPort"] = 9090
    kube.request(
        "PUT", res.DEPLOYMENT.path(namespace, NAME), query={"fieldManager": "kubectl-edit"}, body=deployment
    )

    predicted = deploy(namespace, check=True)
    repaired = deploy(namespace)
    assert predicted["status"] == repaired["status"] == "changed"
    assert (
        warnings_of(predicted)
        == warnings_of(repaired)
        == [
            f"Deployment {NAME}: port 9090/TCP of container octo set by 'kubectl-edit' replaces the rendered "
            "port 8080/TCP of container octo: restoring it",
            f"Service {NAME}: port 9090/TCP set by 'kubectl-edit' replaces the rendered port 8080/TCP: restoring it",
        ]
    )
    service = kube.get(res.SERVICE, NAME, namespace)
    assert [(p["name"], p["port"]) for p in service["spec"]["ports"]] == [("http", 8080)]
    assert [(p["name"], p["containerPort"]) for p in container(kube, namespace)["ports"]] == [("http", 8080)]
    assert "kubectl-edit" not in managers(service)

    again = deploy(namespace)
    assert again["status"] == "ok"
    assert warnings_of(again) == []

    # a later port change by the definition is an ordinary update, despite the repair's ownership record
    definition = tmp_path / "http-orders.yaml"
    definition.write_text(
        (SAMPLES / "http-orders.yaml").read_text().replace('default: "8080"', 'default: "8081"')
    )
    moved = deploy(namespace, definition_file=str(definition))
    assert moved["status"] == "changed" and warnings_of(moved) == []
    service = kube.get(res.SERVICE, NAME, namespace)
    assert [(p["name"], p["port"]) for p in service["spec"]["ports"]] == [("http", 8081)]
    assert [p["containerPort"] for p in container(kube, namespace)["ports"]] == [8081]
    assert deploy(namespace, definition_file=str(definition))["status"] == "ok"


def test_foreign_additions_stay_and_the_run_is_unchanged(kubeconfig, namespace, kube, tmp_path):
    deploy(namespace)
    set_env = {
        "spec": {
            "template": {"spec": {"containers": [{"name": "octo", "env": [{"name": "EXTRA", "value": "1"}]}]}}
        }
    }
    patch(kube, res.DEPLOYMENT, namespace, set_env, STRATEGIC, "kubectl-set")
    sidecar = {
        "spec": {"template": {"spec": {"containers": [{"name": "sidecar", "image": f"{TEST_IMAGE}-proxy"}]}}}
    }
    patch(kube, res.DEPLOYMENT, namespace, sidecar, STRATEGIC, "mesh-injector")

    runs = [deploy(namespace, check=True), deploy(namespace), deploy(namespace)]
    assert [run["status"] for run in runs] == ["ok", "ok", "ok"]
    for run in runs:
        assert warnings_of(run) == [
            f"Deployment {NAME}: env EXTRA of container octo is managed by 'kubectl-set', not octo.platform: "
            "left in place",
            f"Deployment {NAME}: container sidecar is managed by 'mesh-injector', not octo.platform: left in place",
        ]
    pod_spec = kube.get(res.DEPLOYMENT, NAME, namespace)["spec"]["template"]["spec"]
    containers = {c["name"]: c for c in pod_spec["containers"]}
    assert set(containers) == {"octo", "sidecar"}
    assert {"name": "EXTRA", "value": "1"} in containers["octo"]["env"]

    # what this collection rendered and renders no more still goes; the foreign entries stay
    definition = tmp_path / "http-orders.yaml"
    definition.write_text(
        (SAMPLES / "http-orders.yaml").read_text().replace("  - {name: LOG_LEVEL, default: info}\n", "")
    )
    assert "LOG_LEVEL" not in definition.read_text()
    dropped = deploy(namespace, definition_file=str(definition))
    assert dropped["status"] == "changed"
    env = {e["name"] for e in container(kube, namespace)["env"]}
    assert "LOG_LEVEL" not in env and "EXTRA" in env
    assert deploy(namespace, definition_file=str(definition))["status"] == "ok"


def test_foreign_entries_cost_no_write(kubeconfig, namespace, kube):
    params = integration_params(
        kubeconfig,
        namespace,
        slug="http-orders",
        deployment_id="orders-1",
        definition=sample("http-orders"),
        env={"API_KEY": "literal-api-key"},
    )
    converge(params)
    set_env = {
        "spec": {
            "template": {"spec": {"containers": [{"name": "octo", "env": [{"name": "EXTRA", "value": "1"}]}]}}
        }
    }
    patch(kube, res.DEPLOYMENT, namespace, set_env, STRATEGIC, "kubectl-set")
    writes = kube.writes
    for _ in range(2):
        result = converge(params, kube=kube)
        assert result["changed"] is False
        assert {o["action"] for o in result["objects"]} == {"none"}
        assert any("env EXTRA of container octo is managed by 'kubectl-set'" in w for w in result["warnings"])
    assert kube.writes == writes


def test_taking_fields_back_names_the_manager(kubeconfig, namespace, kube):
    deploy(namespace)
    patch(
        kube,
        res.DEPLOYMENT,
        namespace,
        {"spec": {"replicas": 3}},
        "application/merge-patch+json",
        "kubectl-scale",
    )
    image = [
        {"op": "replace", "path": "/spec/template/spec/containers/0/image", "value": f"{TEST_IMAGE}-hotfix"}
    ]
    patch(kube, res.DEPLOYMENT, namespace, image, JSON_PATCH, "kubectl-edit")
    set_env = {
        "spec": {
            "template": {
                "spec": {"containers": [{"name": "octo", "env": [{"name": "LOG_LEVEL", "value": "debug"}]}]}
            }
        }
    }
    patch(kube, res.DEPLOYMENT, namespace, set_env, STRATEGIC, "kubectl-set")
    # another applier co-owns an env entry with the very same value: not a conflict
    url = next(e for e in container(kube, namespace)["env"] if e["name"] == "FULFILMENT_URL")
    co_owned = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": NAME},
        "spec": {"template": {"spec": {"containers": [{"name": "octo", "env": [url]}]}}},
    }
    kube.request(
        "PATCH",
        res.DEPLOYMENT.path(namespace, NAME),
        query={"fieldManager": "other-applier"},
        body=co_owned,
        content_type="application/apply-patch+yaml",
    )

    taken = deploy(namespace)
    assert taken["status"] == "changed"
    assert warnings_of(taken) == [
        f"Deployment {NAME}: took back spec.replicas from 'kubectl-scale'",
        f"Deployment {NAME}: took back spec.template.spec.containers[octo].image from 'kubectl-edit'",
        f"Deployment {NAME}: took back spec.template.spec.containers[octo].env[LOG_LEVEL].value from 'kubectl-set'",
    ]
    assert "other-applier" in managers(kube.get(res.DEPLOYMENT, NAME, namespace))  # still co-owns, silently
    deployment = kube.get(res.DEPLOYMENT, NAME, namespace)
    assert deployment["spec"]["replicas"] == 1
    assert container(kube, namespace)["image"] == TEST_IMAGE
    assert {"name": "LOG_LEVEL", "value": "info"} in container(kube, namespace)["env"]

    again = deploy(namespace)
    assert again["status"] == "ok"
    assert warnings_of(again) == []

    # kubectl scale goes through the scale subresource, whose writer a 1.20 server does not record
    scale = {"spec": {"replicas": 2}}
    kube.request(
        "PATCH",
        res.DEPLOYMENT.path(namespace, NAME) + "/scale",
        query={"fieldManager": "kubectl-scale"},
        body=scale,
        content_type="application/merge-patch+json",
    )
    rescaled = deploy(namespace)
    assert rescaled["status"] == "changed"
    [warning] = warnings_of(rescaled)
    assert warning.startswith(f"Deployment {NAME}: took back spec.replicas from ")
    assert kube.get(res.DEPLOYMENT, NAME, namespace)["spec"]["replicas"] == 1


def test_a_rejection_without_a_hand_edit_is_reported_as_is(kubeconfig, namespace, kube):
    deploy(namespace)
    served = kube.get(res.SERVICE, NAME, namespace)
    port = served["spec"]["ports"][0]
    desired = {  # a second port named http: invalid, and nothing was edited by hand
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": NAME, "namespace": namespace},
        "spec": {"ports": [port, {**port, "port": 8081}]},
    }
    (action,) = plan([desired], [served]).actions
    assert action.op == "update" and action.warnings == ()
    patches = kube.requests["PATCH"]
    with pytest.raises(ApiError, match=r'422 .*Duplicate value: "http"') as raised:
        apply_action(kube, action)
    assert raised.value.status == 422
    assert kube.requests["PATCH"] == patches + 1  # no repair patch, no second apply
    assert [p["port"] for p in kube.get(res.SERVICE, NAME, namespace)["spec"]["ports"]] == [8080]
