"""The set engine as users meet it: namespaces, siblings of one slug, live following, lost servers, undeploy
ownership and races between deploy and undeploy of one slug."""

from __future__ import annotations

import secrets

import pytest
from k8s_support import TEST_IMAGE, integration_params, module_params, sample
from support.playbook import run_tasks

from ansible_collections.octo.platform.plugins.module_utils.common.errors import OctoError
from ansible_collections.octo.platform.plugins.module_utils.kube import resources as res
from ansible_collections.octo.platform.plugins.module_utils.kube.client import Kube
from ansible_collections.octo.platform.plugins.module_utils.kube.integration import converge as integration
from ansible_collections.octo.platform.plugins.module_utils.kube.integrations import converge as integrations
from ansible_collections.octo.platform.plugins.modules.integrations import ARGUMENT_SPEC

ORDERS = {"slug": "http-orders", "definition": sample("http-orders"), "env": {"API_KEY": "k"}}


@pytest.fixture
def kube(kubeconfig):
    return Kube({"kubeconfig": kubeconfig})


@pytest.fixture
def second_namespace(kube):
    name = f"t-{secrets.token_hex(4)}-b"
    yield name
    kube.delete(res.NAMESPACE, name)


def task(title: str, module: str, **args) -> dict:
    return {"name": title, f"octo.platform.{module}": {"image": TEST_IMAGE, "wait_sleep": 1, **args}}


def orders_task(title: str, namespace: str, deployment_id: str, **args) -> dict:
    return task(title, "integration", namespace=namespace, deployment_id=deployment_id, **{**ORDERS, **args})


def test_one_bulk_call_converges_the_same_id_in_two_namespaces(kubeconfig, namespace, second_namespace, kube):
    items = [{**ORDERS, "deployment_id": "prod", "namespace": ns} for ns in (namespace, second_namespace)]
    deploy = task("deploy", "integrations", integrations=items)
    run = run_tasks([deploy, {**deploy, "name": "again"}], env={"K8S_AUTH_KUBECONFIG": kubeconfig})
    assert run.rc == 0, run.output
    first, again = run.task("deploy")["result"], run.task("again")["result"]
    assert [(r["namespace"], r["changed"]) for r in first["integrations"]] == [
        (namespace, True),
        (second_namespace, True),
    ]
    assert first["summary"] == {"total": 2, "changed": 2, "failed": 0}
    assert again["changed"] is False and again["summary"]["changed"] == 0
    for ns in (namespace, second_namespace):
        assert kube.get(res.DEPLOYMENT, "octo-dep-prod", ns) is not None
        assert kube.get(res.SERVICE, "octo-int-http-orders", ns) is not None


def test_two_deployments_of_a_slug_with_different_names_do_not_make_each_other_change(kubeconfig, namespace):
    env = {"K8S_AUTH_KUBECONFIG": kubeconfig}
    tasks = [
        orders_task("a", namespace, "orders-a", name="Orders A"),
        orders_task("b", namespace, "orders-b", name="Orders B"),
        orders_task("a again", namespace, "orders-a", name="Orders A"),
        orders_task("b again", namespace, "orders-b", name="Orders B"),
    ]
    run = run_tasks(tasks, env=env)
    assert run.rc == 0, run.output
    assert [run.task(t["name"])["result"]["changed"] for t in tasks] == [True, True, False, False]
    assert {run.task(t["name"])["result"]["internal_url"] for t in tasks} == {
        f"http://octo-int-http-orders.{namespace}:8080"
    }


def test_a_sibling_with_another_port_or_the_same_host_is_refused_before_any_write(
    kubeconfig, namespace, kube
):
    other_port = sample("http-orders").replace('default: "8080"', 'default: "9090"')
    exposed = {"expose": True, "base_domain": "octo.example.com"}
    tasks = [
        orders_task("first", namespace, "orders-a", **exposed),
        {**orders_task("port", namespace, "orders-b", definition=other_port), "ignore_errors": True},
        {**orders_task("host", namespace, "orders-c", **exposed), "ignore_errors": True},
        orders_task("own subdomain", namespace, "orders-d", subdomain="orders-d", **exposed),
    ]
    run = run_tasks(tasks, env={"K8S_AUTH_KUBECONFIG": kubeconfig})
    assert run.task("first")["status"] == "changed" and run.task("own subdomain")["status"] == "changed", (
        run.output
    )
    port = run.task("port")["result"]["msg"]
    assert "HTTP_PORT: 9090 differs from 8080 of deployment orders-a" in port
    host = run.task("host")["result"]["msg"]
    assert (
        f"host http-orders.octo.example.com is already served by deployment orders-a in namespace {namespace}"
        in host
    )
    for refused in ("orders-b", "orders-c"):
        assert kube.get(res.CONFIG_MAP, f"octo-dep-{refused}", namespace) is None


def test_live_progress_without_a_module_process_per_poll(kubeconfig, namespace):
    run = run_tasks(
        [orders_task("deploy", namespace, "orders-1", replicas=2)],
        env={"K8S_AUTH_KUBECONFIG": kubeconfig},
        verbosity=3,
    )
    assert run.rc == 0, run.output
    assert "octo-dep-orders-1: 2/2 pods ready" in run.output
    assert run.task("deploy")["result"]["rollout"]["state"] == "complete"
    assert "integration_info" not in run.output  # the follower runs in the controller, no module per poll
    assert run.output.count("AnsiballZ_integration.py") >= 1


class LosesServerWhileFollowing(Kube):
    """The real client; the API server becomes unreachable once the rollouts are being followed."""

    def list(self, resource, *args, **kwargs):
        if resource == res.REPLICA_SET:
            self.host = "https://127.0.0.1:9"  # discard port: nothing listens
        return super().list(resource, *args, **kwargs)


def test_losing_the_server_while_following_keeps_each_items_result(kubeconfig, namespace, kube):
    items = [{**ORDERS, "deployment_id": f"orders-{i}"} for i in range(3)]
    params = module_params(
        ARGUMENT_SPEC,
        kubeconfig=kubeconfig,
        namespace=namespace,
        image=TEST_IMAGE,
        wait_sleep=1,
        integrations=items,
    )
    with pytest.raises(OctoError) as failed:
        integrations(params, kube=LosesServerWhileFollowing({"kubeconfig": kubeconfig}))
    results = failed.value.details["integrations"]
    assert [r["deployment_id"] for r in results] == ["orders-0", "orders-1", "orders-2"]
    for result in results:
        assert result["outcome"] == "applied" and result["changed"] is True
        kinds = [a["kind"] for a in result["applied"]]  # what pods need first, then the Deployment
        assert kinds[0] == "ConfigMap" and kinds[-1] == "Deployment" and set(kinds[1:-1]) == {"Service"}, (
            kinds
        )
        assert result["rollout"]["state"] == "unknown"
        assert "Failed to follow the rollout of Deployment" in result["msg"]
    assert all(kube.get(res.DEPLOYMENT, f"octo-dep-orders-{i}", namespace) for i in range(3))


def test_undeploy_deletes_only_what_it_created_and_waits_only_for_its_pods(kubeconfig, namespace, kube):
    run = run_tasks([orders_task("deploy", namespace, "orders-1")], env={"K8S_AUTH_KUBECONFIG": kubeconfig})
    assert run.rc == 0, run.output
    labels = {
        "app.kubernetes.io/managed-by": "octo.platform",
        "octo.dev/deployment": "orders-1",
        "octo.dev/slug": "http-orders",
    }
    notes = {
        **res.CONFIG_MAP.header,
        "metadata": {"name": "users-notes", "namespace": namespace, "labels": labels},
    }
    pod = {
        **res.POD.header,
        "metadata": {"name": "users-debug-pod", "namespace": namespace, "labels": labels},
        "spec": {"containers": [{"name": "debug", "image": TEST_IMAGE}]},
    }
    for kind, body in ((res.CONFIG_MAP, notes), (res.POD, pod)):  # as kubectl create would
        kube.request("POST", kind.path(namespace), query={"fieldManager": "kubectl-create"}, body=body)
    undeploy = task(
        "undeploy",
        "integration",
        namespace=namespace,
        deployment_id="orders-1",
        state="absent",
        wait_timeout=30,
    )
    run = run_tasks([undeploy], env={"K8S_AUTH_KUBECONFIG": kubeconfig})
    assert run.rc == 0, run.output
    deleted = {(o["kind"], o["name"]) for o in run.task("undeploy")["result"]["objects"]}
    assert ("ConfigMap", "octo-dep-orders-1") in deleted and ("ConfigMap", "users-notes") not in deleted
    assert kube.get(res.CONFIG_MAP, "users-notes", namespace) is not None
    assert kube.get(res.POD, "users-debug-pod", namespace) is not None
    assert kube.get(res.DEPLOYMENT, "octo-dep-orders-1", namespace) is None


class Interleaved(Kube):
    """The real client; runs ``hook`` (another tool's whole operation) just before its first call of ``verb``."""

    def __init__(self, auth: dict, verb: str, hook):
        super().__init__(auth)
        self._verb, self._hook = verb, hook

    def _maybe_hook(self, verb: str) -> None:
        if verb == self._verb and self._hook is not None:
            hook, self._hook = self._hook, None
            hook()

    def apply(self, *args, **kwargs):
        self._maybe_hook("apply")
        return super().apply(*args, **kwargs)

    def delete(self, *args, **kwargs):
        self._maybe_hook("delete")
        return super().delete(*args, **kwargs)


def orders_params(kubeconfig, namespace, deployment_id, **overrides):
    return integration_params(kubeconfig, namespace, deployment_id=deployment_id, **{**ORDERS, **overrides})


def test_undeploy_racing_a_deploy_of_a_sibling_leaves_the_shared_service(kubeconfig, namespace, kube):
    integration(orders_params(kubeconfig, namespace, "orders-1"), kube=kube)

    def undeploy_orders_1():
        integration(
            orders_params(kubeconfig, namespace, "orders-1", state="absent", wait=False),
            kube=Kube({"kubeconfig": kubeconfig}),
        )

    racing = Interleaved({"kubeconfig": kubeconfig}, "apply", undeploy_orders_1)
    integration(orders_params(kubeconfig, namespace, "orders-2"), kube=racing)
    assert kube.get(res.DEPLOYMENT, "octo-dep-orders-1", namespace) is None
    assert kube.get(res.SERVICE, "octo-int-http-orders", namespace) is not None


def test_two_racing_undeploys_of_the_last_two_deployments_remove_the_shared_service(
    kubeconfig, namespace, kube
):
    for dep in ("orders-1", "orders-2"):
        integration(orders_params(kubeconfig, namespace, dep), kube=kube)

    def undeploy_orders_2():
        integration(
            orders_params(kubeconfig, namespace, "orders-2", state="absent", wait=False),
            kube=Kube({"kubeconfig": kubeconfig}),
        )

    racing = Interleaved({"kubeconfig": kubeconfig}, "delete", undeploy_orders_2)
    integration(orders_params(kubeconfig, namespace, "orders-1", state="absent", wait=False), kube=racing)
    assert kube.get(res.DEPLOYMENT, "octo-dep-orders-2", namespace) is None
    assert kube.get(res.SERVICE, "octo-int-http-orders", namespace) is None


def test_a_later_run_restores_a_shared_service_deleted_behind_its_back(kubeconfig, namespace, kube):
    for dep in ("orders-1", "orders-2"):
        integration(orders_params(kubeconfig, namespace, dep), kube=kube)
    kube.delete(res.SERVICE, "octo-int-http-orders", namespace)
    again = integration(orders_params(kubeconfig, namespace, "orders-2"), kube=kube)
    assert kube.get(res.SERVICE, "octo-int-http-orders", namespace) is not None
    assert again["changed"] is True
