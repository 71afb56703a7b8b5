"""Plan a set of rendered integrations against what the server has, independent of the items' order.

Rules for what deployments share:
- ``octo-int-<slug>`` carries only slug-level fields, so every deployment of the slug renders the same object.
  Within a set it is written by one item, the network service of the slug with the smallest deployment id.
  A deployment whose HTTP_PORT differs from a sibling's (in the set or on the server) is an error naming the
  sibling: the shared Service has one port.
- A public host is served by one deployment: a host another deployment's Ingress already serves (in the set
  or on the server, in the namespaces read) is an error naming it.
- Only objects this collection created (see ownership) are ever deleted; objects it did not create are updated
  only when they carry the name of a desired object.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass

from ansible_collections.octo.platform.plugins.module_utils.common.errors import ValidationError
from ansible_collections.octo.platform.plugins.module_utils.render import names
from ansible_collections.octo.platform.plugins.module_utils.render.integration import RenderedIntegration
from ansible_collections.octo.platform.plugins.module_utils.render.ownership import (
    deployment_id_of,
    is_ours,
    is_terminating,
    labels_of,
    live_siblings,
    served_port,
)
from ansible_collections.octo.platform.plugins.module_utils.render.plan import Plan, plan

Key = tuple[str, str]  # (namespace, deployment_id)


def key_of(item: RenderedIntegration) -> Key:
    return item.request.namespace, item.request.deployment_id


def label_of(item: RenderedIntegration) -> str:
    return f"{item.request.namespace}/{item.request.slug}/{item.request.deployment_id}"


def plan_set(items: list[RenderedIntegration], actual: Mapping[str, list[dict]]) -> dict[Key, Plan]:
    """One Plan per item, by (namespace, deployment_id). ``actual``: the objects read, per namespace."""
    check_unique(items)
    check_siblings(items, actual)
    holders = shared_service_holders(items, actual)
    indexes = {namespace: ObjectIndex.of(objects) for namespace, objects in actual.items()}
    empty = ObjectIndex.of([])
    return {
        key_of(item): _plan_item(item, indexes.get(item.request.namespace, empty), holders) for item in items
    }


@dataclass(frozen=True)
class ObjectIndex:
    """A namespace's objects, indexed once so that planning an item costs O(its objects), not O(all objects)."""

    objects: list[dict]
    by_name: dict[tuple[str, str], list[int]]  # (kind, name) -> positions
    ours_by_deployment: dict[
        str, list[int]
    ]  # deployment id -> positions of the objects this collection created

    @classmethod
    def of(cls, objects: list[dict]) -> ObjectIndex:
        by_name: dict[tuple[str, str], list[int]] = defaultdict(list)
        ours: dict[str, list[int]] = defaultdict(list)
        for position, obj in enumerate(objects):
            by_name[(obj["kind"], obj["metadata"]["name"])].append(position)
            if deployment_id_of(obj) is not None and is_ours(obj):
                ours[deployment_id_of(obj)].append(position)
        return cls(objects, dict(by_name), dict(ours))


def check_unique(items: list[RenderedIntegration]) -> None:
    seen: dict[Key, RenderedIntegration] = {}
    for item in items:
        if key_of(item) in seen:
            raise ValidationError(
                f"integration {label_of(item)}",
                "deployment_id",
                f"{item.request.deployment_id} appears twice in namespace {item.request.namespace}",
            )
        seen[key_of(item)] = item


def check_siblings(items: list[RenderedIntegration], actual: Mapping[str, list[dict]]) -> None:
    """Ports agree per slug, and every public host has one deployment (set and server alike)."""
    in_set = {key_of(item) for item in items}
    ports: dict[tuple[str, str], dict[str, int]] = defaultdict(dict)
    hosts: dict[str, dict[Key, str]] = defaultdict(dict)
    for namespace, objects in sorted(actual.items()):
        for obj in objects:
            dep_id = deployment_id_of(obj)
            if (namespace, dep_id) in in_set or dep_id is None or is_terminating(obj):
                continue
            port = served_port(obj)
            if port is not None:
                ports[(namespace, labels_of(obj).get(names.LABEL_SLUG))][dep_id] = port
            for host in _ingress_hosts(obj):
                hosts[host][(namespace, dep_id)] = "on the server"
    for item in sorted(items, key=key_of):
        request = item.request
        if item.http_port is not None:
            _check_port(item, ports[(request.namespace, request.slug)])
            ports[(request.namespace, request.slug)][request.deployment_id] = item.http_port
        host = request.host if request.expose else None
        if host is not None:
            _check_host(item, host, hosts[host])
            hosts[host][key_of(item)] = "in this run"


def _check_port(item: RenderedIntegration, sibling_ports: dict[str, int]) -> None:
    for sibling, port in sorted(sibling_ports.items()):
        if port != item.http_port:
            raise ValidationError(
                f"integration {label_of(item)}",
                "HTTP_PORT",
                f"{item.http_port} differs from {port} of deployment {sibling} of the same slug; "
                f"{names.integration_service_name(item.request.slug)} serves one port for all of them",
            )


def _check_host(item: RenderedIntegration, host: str, served_by: dict[Key, str]) -> None:
    for (namespace, dep_id), where in sorted(served_by.items()):
        raise ValidationError(
            f"integration {label_of(item)}",
            "subdomain",
            f"host {host} is already served by deployment {dep_id} in namespace {namespace} ({where})",
        )


def shared_service_holders(items: list[RenderedIntegration], actual: Mapping[str, list[dict]]) -> set[Key]:
    """The items that plan ``octo-int-<slug>``: per namespace and slug, the network service with the smallest
    id writes it; with no network service in the set and no sibling on the server, the smallest id deletes it."""
    by_slug: dict[tuple[str, str], list[RenderedIntegration]] = defaultdict(list)
    for item in items:
        by_slug[(item.request.namespace, item.request.slug)].append(item)
    deployments: dict[tuple[str, str], list[dict]] = defaultdict(list)  # read once, not once per slug
    for namespace, objects in actual.items():
        for obj in (o for o in objects if o.get("kind") == "Deployment"):
            deployments[(namespace, labels_of(obj).get(names.LABEL_SLUG))].append(obj)
    holders = set()
    for (namespace, slug), group in by_slug.items():
        serving = sorted((i for i in group if i.http_port is not None), key=key_of)
        if serving:
            holders.add(key_of(serving[0]))
        elif not live_siblings(
            deployments[(namespace, slug)], slug, {i.request.deployment_id for i in group}
        ):
            holders.add(key_of(min(group, key=key_of)))
    return holders


def _plan_item(item: RenderedIntegration, index: ObjectIndex, holders: set[Key]) -> Plan:
    """The item's desired objects against the server's objects of the same name, the objects this collection
    created for its deployment and, when it holds the slug's shared Service, that Service (in listed order)."""
    request = item.request
    shared = names.integration_service_name(request.slug)
    holds_shared = key_of(item) in holders
    desired = [o for o in item.objects if holds_shared or o["metadata"]["name"] != shared]
    positions = {p for o in desired for p in index.by_name.get((o["kind"], o["metadata"]["name"]), [])}
    positions.update(index.ours_by_deployment.get(request.deployment_id, []))
    if holds_shared:
        positions.update(p for p in index.by_name.get(("Service", shared), []) if is_ours(index.objects[p]))
    return plan(desired, [index.objects[p] for p in sorted(positions)])


def _ingress_hosts(obj: dict) -> list[str]:
    if obj.get("kind") != "Ingress":
        return []
    return [rule["host"] for rule in (obj.get("spec") or {}).get("rules") or [] if rule.get("host")]
