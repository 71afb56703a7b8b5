"""Planning a set of integrations: keyed by namespace and id, independent of item order, shared-object rules."""

from __future__ import annotations

import copy

import pytest

from ansible_collections.octo.platform.plugins.module_utils.common.errors import ValidationError
from ansible_collections.octo.platform.plugins.module_utils.render import kinds, urls
from ansible_collections.octo.platform.plugins.module_utils.render.integration import render
from ansible_collections.octo.platform.plugins.module_utils.render.plan import stamp
from ansible_collections.octo.platform.plugins.module_utils.render.set_plan import plan_set


def ops(plans) -> dict:
    return {key: [(a.op, a.kind, a.name) for a in p.actions] for key, p in plans.items()}


def served(items, server_copy) -> dict[str, list[dict]]:
    actual: dict[str, list[dict]] = {}
    for item in items:
        for obj in item.objects:
            actual.setdefault(item.request.namespace, []).append(server_copy(stamp(obj)))
    return actual


def test_same_slug_and_id_in_two_namespaces_are_two_items(network_request):
    items = [render(network_request(namespace=ns)) for ns in ("prod", "staging")]
    plans = plan_set(items, {})
    assert set(plans) == {("prod", "d41"), ("staging", "d41")}
    for (namespace, _), the_plan in plans.items():
        assert [a.op for a in the_plan.actions] == ["create"] * 4
        assert {a.namespace for a in the_plan.actions} == {namespace}


def test_same_id_twice_in_one_namespace_is_an_error(network_request):
    items = [render(network_request()), render(network_request(slug="billing"))]
    with pytest.raises(ValidationError, match="d41 appears twice in namespace octo-dev"):
        plan_set(items, {})


def test_planning_does_not_depend_on_item_order(network_request, worker_request, server_copy):
    items = [
        render(network_request(deployment_id="d43")),
        render(network_request(deployment_id="d41")),
        render(network_request(deployment_id="d42", name="Orders, the other one")),
        render(worker_request()),
    ]
    existing = served([items[2]], server_copy)
    forward, backward = plan_set(items, existing), plan_set(list(reversed(items)), existing)
    assert ops(forward) == ops(backward)
    holders = [key for key, p in forward.items() if any(a.name == "octo-int-orders" for a in p.actions)]
    assert holders == [("octo-dev", "d41")]  # the smallest id of the slug's network services


def test_shared_service_is_the_same_whoever_renders_it(network_request):
    first = render(network_request(name="Orders API"))
    second = render(network_request(deployment_id="d42", name="Orders API v2"))
    shared = [
        next(o for o in item.objects if o["metadata"]["name"] == "octo-int-orders")
        for item in (first, second)
    ]
    assert stamp(shared[0]) == stamp(shared[1])


def test_a_sibling_with_another_port_is_an_error_in_the_set(network_request):
    other_port = network_request().definition.replace("9090", "9191")
    items = [render(network_request()), render(network_request(deployment_id="d42", definition=other_port))]
    with pytest.raises(ValidationError, match=r"HTTP_PORT: 9191 differs from 9090 of deployment d41"):
        plan_set(items, {})


def test_a_sibling_with_another_port_is_an_error_against_the_server(network_request, server_copy):
    other_port = network_request().definition.replace("9090", "9191")
    existing = served([render(network_request(deployment_id="d40"))], server_copy)
    with pytest.raises(ValidationError, match=r"9191 differs from 9090 of deployment d40"):
        plan_set([render(network_request(definition=other_port))], existing)


def test_redeploying_the_same_deployment_with_a_new_port_is_no_sibling_conflict(network_request, server_copy):
    existing = served([render(network_request())], server_copy)
    other_port = network_request().definition.replace("9090", "9191")
    plans = plan_set([render(network_request(definition=other_port))], existing)
    assert {a.op for a in plans[("octo-dev", "d41")].actions} == {"update"}


def test_a_host_is_served_by_one_deployment(exposed_request, server_copy):
    with pytest.raises(
        ValidationError, match=r"subdomain: host orders.apps.example.com is already served by deployment d41"
    ):
        plan_set([render(exposed_request()), render(exposed_request(deployment_id="d42"))], {})
    existing = served(
        [render(exposed_request(slug="billing", deployment_id="b1", subdomain="orders"))], server_copy
    )
    with pytest.raises(
        ValidationError, match=r"already served by deployment b1 in namespace octo-dev \(on the server\)"
    ):
        plan_set([render(exposed_request())], existing)
    assert plan_set(
        [render(exposed_request(deployment_id="d42", subdomain="orders-v2")), render(exposed_request())], {}
    )


def test_objects_we_did_not_create_are_not_deleted(network_request, server_copy):
    item = render(network_request())
    existing = served([item], server_copy)
    users = copy.deepcopy(existing["octo-dev"][0])
    users["metadata"].update(
        name="users-notes", managedFields=[{"manager": "kubectl-create", "operation": "Update"}]
    )
    existing["octo-dev"].append(users)
    plans = plan_set([item], existing)
    assert [a.op for a in plans[("octo-dev", "d41")].actions] == ["none"] * 4


def test_worker_of_a_slug_with_no_sibling_takes_the_stale_shared_service(
    network_request, worker_request, server_copy
):
    old = served([render(network_request(slug="nightly-sync", deployment_id="w7"))], server_copy)
    worker = render(worker_request())
    assert ("delete", "Service", "octo-int-nightly-sync") in ops(plan_set([worker], old))[("octo-dev", "w7")]
    sibling = served([render(network_request(slug="nightly-sync", deployment_id="w8"))], server_copy)
    old["octo-dev"] += sibling["octo-dev"]
    assert ("delete", "Service", "octo-int-nightly-sync") not in ops(plan_set([worker], old))[
        ("octo-dev", "w7")
    ]


def test_urls_come_from_the_objects(exposed_request):
    item = render(exposed_request())
    by_name = {(o["kind"], o["metadata"]["name"]): o for o in item.objects}
    assert (
        urls.internal_url(by_name[("Service", "octo-int-orders")]) == "http://octo-int-orders.octo-dev:9090"
    )
    assert urls.public_url(by_name[("Ingress", "octo-dep-d41")]) == "https://orders.apps.example.com"
    assert item.internal_url == "http://octo-int-orders.octo-dev:9090"
    assert urls.internal_url(None) is None and urls.public_url({"spec": {"rules": []}}) is None


def test_every_rendered_kind_is_registered(exposed_request, worker_request):
    for item in (render(exposed_request()), render(worker_request())):
        for obj in item.objects:
            assert kinds.kind_of(obj) in kinds.MANAGED
