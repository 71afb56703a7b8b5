"""Converge a set of rendered integrations in one process.

One client, no discovery, one LIST per kind and namespace for the whole set, writes only for objects that
differ (with bounded parallelism across integrations), and one collective rollout wait whose reads per poll
do not grow with the number of integrations.
"""

from __future__ import annotations

import time
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor

import yaml

from ansible_collections.octo.platform.plugins.module_utils.common.errors import OctoError, ValidationError
from ansible_collections.octo.platform.plugins.module_utils.kube import resources as res
from ansible_collections.octo.platform.plugins.module_utils.kube.apply import apply_action
from ansible_collections.octo.platform.plugins.module_utils.kube.client import Kube
from ansible_collections.octo.platform.plugins.module_utils.kube.waiter import (
    Watch,
    events_of,
    label_selector,
)
from ansible_collections.octo.platform.plugins.module_utils.render import names, rollout
from ansible_collections.octo.platform.plugins.module_utils.render.integration import (
    RenderedIntegration,
    deployment_selector,
    slug_selector,
)
from ansible_collections.octo.platform.plugins.module_utils.render.plan import Plan, plan
from ansible_collections.octo.platform.plugins.module_utils.render.undeploy import other_deployment_ids

MANAGED_KINDS = (res.CONFIG_MAP, res.DEPLOYMENT, res.SERVICE, res.INGRESS)


def _labels(obj: dict) -> dict:
    return obj["metadata"].get("labels") or {}


def owned_selector(slugs: set[str]) -> str:
    """Narrowest label selector that still finds every object of the given slugs' deployments."""
    if len(slugs) == 1:
        return label_selector(slug_selector(next(iter(slugs))))
    return label_selector({names.LABEL_MANAGED_BY: names.MANAGED_BY})


def read_owned(kube: Kube, namespace: str, selector: str) -> list[dict]:
    found = []
    for resource in MANAGED_KINDS:
        found.extend(kube.list(resource, namespace, label_selector=selector))
    return found


def missing_secret_keys(kube: Kube, namespace: str, keys: set[str]) -> set[str]:
    """Keys the bindings name that octo-secrets lacks (its values are read in memory, never kept)."""
    if not keys:
        return set()
    secret = kube.get(res.SECRET, names.SECRETS_NAME, namespace)
    return set(keys) - set((secret or {}).get("data") or {})


def ensure_namespace(kube: Kube, namespace: str, check_mode: bool) -> bool:
    if kube.get(res.NAMESPACE, namespace) is not None:
        return False
    if not check_mode:
        kube.apply(res.NAMESPACE, {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}})
    return True


def label_of(rendered: RenderedIntegration) -> str:
    return f"{rendered.request.slug}/{rendered.request.deployment_id}"


def _check_unique(items: list[RenderedIntegration]) -> None:
    seen = set()
    for item in items:
        key = (item.request.namespace, item.request.deployment_id)
        if key in seen:
            raise ValidationError(
                "integrations", "deployment_id", f"{item.request.deployment_id} appears twice in {key[0]}"
            )
        seen.add(key)


def _plan_item(
    item: RenderedIntegration, owned: list[dict], set_ids: set[str], shared_taken: set[str]
) -> Plan:
    """Desired vs the objects of this deployment, plus the slug's shared Service when this item manages it.

    ``shared_taken`` (one per namespace) names the shared Services an earlier item of the set manages already.
    """
    request = item.request
    shared = names.integration_service_name(request.slug)
    desired = [o for o in item.objects if o["metadata"]["name"] != shared or shared not in shared_taken]
    wants_shared = any(o["metadata"]["name"] == shared for o in desired)
    slug_objects = [o for o in owned if _labels(o).get(names.LABEL_SLUG) == request.slug]
    others = other_deployment_ids(slug_objects, request.deployment_id, request.slug) | (
        set_ids - {request.deployment_id}
    )
    keep_shared = wants_shared or (not others and shared not in shared_taken)
    if wants_shared:
        shared_taken.add(shared)
    actual = [
        o
        for o in slug_objects
        if _labels(o).get(names.LABEL_DEPLOYMENT) == request.deployment_id
        or (o["metadata"]["name"] == shared and keep_shared)
    ]
    return plan(desired, actual)


def object_report(the_plan: Plan) -> list[dict]:
    return [{"kind": a.kind, "name": a.name, "action": a.op} for a in the_plan.actions]


def _yaml(obj: dict) -> str:
    return yaml.safe_dump(obj, sort_keys=True, default_flow_style=False) if obj else ""


def diff_report(the_plan: Plan) -> list[dict]:
    """Ansible diff entries, each side as YAML text (easier to read than JSON)."""
    return [
        {**entry, "before": _yaml(entry["before"]), "after": _yaml(entry["after"])}
        for entry in the_plan.diffs()
    ]


def apply_plan(kube: Kube, the_plan: Plan) -> list[dict]:
    """Creates/updates in order, then deletes; a failure reports what was applied before it."""
    done = []
    for action in the_plan.actions:
        if action.op == "none":
            continue
        try:
            apply_action(kube, action)
        except OctoError as err:
            raise OctoError(err.verb, err.what, err.reason, changed=bool(done), applied=done) from err
        done.append({"kind": action.kind, "name": action.name, "action": action.op})
    return done


def _deployment_touched(the_plan: Plan) -> bool:
    return any(a.kind == "Deployment" and a.op != "none" for a in the_plan.actions)


def _listed_deployment(owned: list[dict], deployment_id: str) -> dict | None:
    return next(
        (
            o
            for o in owned
            if o["kind"] == "Deployment" and _labels(o).get(names.LABEL_DEPLOYMENT) == deployment_id
        ),
        None,
    )


def wait_all(kube: Kube, pending: dict[str, list[str]], timeout: float, sleep: float) -> dict:
    """Poll every pending deployment together: per namespace and round, one LIST each of Deployments,
    ReplicaSets, pods and events. Returns {(namespace, deployment_id): (status, watch)}."""
    watches = {
        (ns, dep_id): Watch(names.deployment_object_name(dep_id))
        for ns, ids in pending.items()
        for dep_id in ids
    }
    done: dict = {}
    deadline = time.monotonic() + timeout
    while True:
        for namespace in {ns for ns, _ in watches.keys() - done.keys()}:
            waiting = [dep_id for ns, dep_id in watches.keys() - done.keys() if ns == namespace]
            one = len(waiting) == 1
            base = {names.LABEL_MANAGED_BY: names.MANAGED_BY}
            selector = label_selector(deployment_selector(waiting[0]) if one else base)
            pod_selector = f"{names.LABEL_DEPLOYMENT}={waiting[0]}" if one else names.LABEL_DEPLOYMENT
            deployments = {
                _labels(d).get(names.LABEL_DEPLOYMENT): d
                for d in kube.list(res.DEPLOYMENT, namespace, label_selector=selector)
            }
            replica_sets = kube.list(res.REPLICA_SET, namespace, label_selector=pod_selector)
            pods = kube.list(res.POD, namespace, label_selector=pod_selector)
            events = kube.list(res.EVENT, namespace)
            for dep_id in waiting:
                deployment = deployments.get(dep_id)
                status = rollout.evaluate(deployment, replica_sets, pods)
                if not status.done and time.monotonic() >= deadline:
                    status = rollout.timed_out(status, timeout)
                related = (
                    events_of(kube, namespace, status, deployment, replica_sets, pods, events)
                    if deployment
                    else []
                )
                watch = watches[(namespace, dep_id)]
                watch.record({"status": status, "events": [rollout.summarize_event(e) for e in related]})
                if status.done:
                    done[(namespace, dep_id)] = (status, watch)
        if len(done) == len(watches):
            return done
        time.sleep(max(0.0, min(sleep, deadline - time.monotonic())))


def converge_set(
    kube: Kube,
    items: list[RenderedIntegration],
    check_mode: bool = False,
    diff: bool = False,
    wait: bool = True,
    wait_timeout: float = 300,
    wait_sleep: float = 2,
    parallel: int = 4,
) -> list[dict]:
    """Per-integration results, in input order; each has ``failed`` and, when failed, ``msg``."""
    _check_unique(items)
    by_namespace: dict[str, list[RenderedIntegration]] = defaultdict(list)
    for item in items:
        by_namespace[item.request.namespace].append(item)

    warnings: dict[str, list[str]] = defaultdict(list)
    for namespace, group in by_namespace.items():
        missing = missing_secret_keys(kube, namespace, {k for item in group for k in item.secret_keys})
        for item in group:
            lacking = sorted(missing & set(item.secret_keys))
            if not lacking:
                continue
            reason = f"secret key(s) {', '.join(lacking)} not found in Secret {names.SECRETS_NAME} in namespace {namespace}"
            if not check_mode:
                raise ValidationError(f"integration {label_of(item)}", "env", reason, missing_keys=lacking)
            warnings[label_of(item)].append(f"{reason}; a real run fails unless an earlier task creates them")
        for secret_name in sorted({i.wildcard_tls_secret for i in group if i.wildcard_tls_secret}):
            if kube.get(res.SECRET, secret_name, namespace) is not None:
                continue
            for item in (i for i in group if i.wildcard_tls_secret == secret_name):
                warnings[label_of(item)].append(
                    f"wildcard TLS Secret {secret_name} not found in namespace {namespace}: "
                    "the Ingress serves the ingress controller's default certificate until it exists"
                )

    plans, owned_by_namespace, created_namespaces = {}, {}, set()
    for namespace, group in by_namespace.items():
        if ensure_namespace(kube, namespace, check_mode):
            created_namespaces.add(namespace)
        selector = owned_selector({i.request.slug for i in group})
        owned = owned_by_namespace[namespace] = read_owned(kube, namespace, selector)
        shared_taken: set = set()
        for item in group:
            set_ids = {i.request.deployment_id for i in group if i.request.slug == item.request.slug}
            plans[label_of(item)] = _plan_item(item, owned, set_ids, shared_taken)

    results = {}
    for item in items:
        the_plan = plans[label_of(item)]
        request = item.request
        result = {
            "changed": the_plan.changed or request.namespace in created_namespaces,
            "failed": False,
            "namespace": request.namespace,
            "slug": request.slug,
            "deployment_id": request.deployment_id,
            "objects": object_report(the_plan),
            "internal_url": item.internal_url,
            "public_url": item.public_url,
            "exposed": item.public_url is not None,
        }
        if warnings.get(label_of(item)):
            result["warnings"] = warnings[label_of(item)]
        if diff:
            result["diff"] = diff_report(the_plan)
        results[label_of(item)] = result
    if check_mode:
        return list(results.values())

    def apply_one(item):
        try:
            apply_plan(kube, plans[label_of(item)])
        except OctoError as err:
            applied = err.details.get("applied", [])
            results[label_of(item)].update(failed=True, msg=str(err), applied=applied, changed=bool(applied))

    with ThreadPoolExecutor(max_workers=max(1, parallel)) as pool:
        list(pool.map(apply_one, [i for i in items if plans[label_of(i)].changed]))

    _finish_rollouts(kube, items, plans, owned_by_namespace, results, wait, wait_timeout, wait_sleep)
    return list(results.values())


def _finish_rollouts(kube, items, plans, owned_by_namespace, results, wait, timeout, sleep) -> None:
    """Rollouts already complete per the listing are reported without a read; the others awaited if ``wait``."""
    pending: dict[str, list[str]] = defaultdict(list)
    for item in items:
        result = results[label_of(item)]
        if result["failed"]:
            continue
        request = item.request
        listed = _listed_deployment(owned_by_namespace[request.namespace], request.deployment_id)
        settled = None if _deployment_touched(plans[label_of(item)]) else rollout.evaluate(listed, [], [])
        if settled is not None and settled.state == "complete":
            result.update(rollout=settled.as_dict(), timeline=[], events=[])
        else:
            pending[request.namespace].append(request.deployment_id)
    if not pending or not wait:
        return
    finished = wait_all(kube, pending, timeout, sleep)
    for item in items:
        key = (item.request.namespace, item.request.deployment_id)
        if key not in finished:
            continue
        status, watch = finished[key]
        result = results[label_of(item)]
        events = [entry["event"] for entry in watch.timeline if "event" in entry]
        result.update(rollout=status.as_dict(), timeline=watch.timeline, events=events[-20:])
        if status.state == "failed":
            name = names.deployment_object_name(item.request.deployment_id)
            result.update(
                failed=True,
                msg=f"Failed to roll out Deployment {item.request.namespace}/{name}: {status.reason}: {status.message}",
            )
