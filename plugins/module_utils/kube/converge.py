"""Converge a set of rendered integrations in one process.

Phases, each on its own: preflight (secret keys, wildcard TLS Secret) -> read (one LIST per kind and
namespace) -> plan (pure, render.set_plan) -> apply (only what differs, bounded parallelism across
integrations) -> follow the rollouts together. Nothing is written before the plan of the whole set stands.
Every item keeps its own result whatever a later phase does: applied, unchanged, failed, or unknown when the
answer to a write was lost.
"""

from __future__ import annotations

from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor

from ansible_collections.octo.platform.plugins.module_utils.common.errors import (
    DependencyError,
    OctoError,
    ValidationError,
)
from ansible_collections.octo.platform.plugins.module_utils.kube import resources as res
from ansible_collections.octo.platform.plugins.module_utils.kube import revisions
from ansible_collections.octo.platform.plugins.module_utils.kube.apply import apply_action
from ansible_collections.octo.platform.plugins.module_utils.kube.client import ApiError, Kube
from ansible_collections.octo.platform.plugins.module_utils.kube.waiter import follow, label_selector
from ansible_collections.octo.platform.plugins.module_utils.render import names, rollout
from ansible_collections.octo.platform.plugins.module_utils.render import revisions as rev
from ansible_collections.octo.platform.plugins.module_utils.render.integration import (
    RenderedIntegration,
    render,
    slug_selector,
)
from ansible_collections.octo.platform.plugins.module_utils.render.plan import Plan
from ansible_collections.octo.platform.plugins.module_utils.render.set_plan import (
    Key,
    ObjectIndex,
    key_of,
    label_of,
    plan_set,
)

try:
    import yaml

    IMPORT_ERROR = None
except ImportError as err:
    IMPORT_ERROR = err

MANAGED_SELECTOR = label_selector({names.LABEL_MANAGED_BY: names.MANAGED_BY})


def converge_set(
    kube: Kube,
    items: list[RenderedIntegration],
    check_mode: bool = False,
    diff: bool = False,
    wait: bool = True,
    wait_timeout: float = 300,
    wait_sleep: float = 2,
    parallel: int = 4,
    policies: dict[Key, revisions.Policy] | None = None,
) -> list[dict]:
    """Per-integration results, in input order; each has ``failed`` and, when failed, ``msg``."""
    by_namespace: dict[str, list[RenderedIntegration]] = defaultdict(list)
    for item in items:
        by_namespace[item.request.namespace].append(item)
    warnings = preflight(kube, by_namespace, check_mode)
    actual = {namespace: read_namespace(kube, namespace, group) for namespace, group in by_namespace.items()}
    histories = revisions.histories_by_key(kube, by_namespace)
    plans = plan_set(items, actual)
    missing = {namespace for namespace in by_namespace if kube.get(res.NAMESPACE, namespace) is None}
    results = {key_of(item): report(item, plans[key_of(item)], warnings, missing, diff) for item in items}
    fresh = {key_of(i) for i in items if revisions.report(i, histories[key_of(i)], results[key_of(i)])}
    for key in fresh:
        results[key]["changed"] = True
    if check_mode:
        report_drift(items, histories, actual, results)
        return [results[key_of(item)] for item in items]
    for namespace in sorted(missing):
        create_namespace(kube, namespace)
    policies = policies or {}
    revisions.start_all(kube, items, fresh, histories, policies, results, parallel)
    apply_all(kube, items, plans, results, parallel)
    settle_rollouts(kube, items, plans, actual, results, wait, wait_timeout, wait_sleep)
    for item in items:
        revisions.finish(kube, key_of(item), histories, results[key_of(item)], wait)
    if wait:
        roll_back_failed(kube, items, histories, policies, results, (wait_timeout, wait_sleep, parallel))
    return [results[key_of(item)] for item in items]


# --- revisions: drift and atomic rollback ------------------------------------------------------------------


def report_drift(items: list[RenderedIntegration], histories: dict, actual: dict, results: dict) -> None:
    """Check mode: the fields of each item's objects that differ from what its last revision renders."""
    indexes = {namespace: ObjectIndex.of(objects) for namespace, objects in actual.items()}
    for item in items:
        index = indexes[item.request.namespace]
        results[key_of(item)]["drift"] = revisions.drift(item, histories[key_of(item)], render, index)


def roll_back_failed(
    kube: Kube, items, histories: dict, policies: dict, results: dict, waiting: tuple
) -> None:
    """Atomic items whose rollout failed go back to their last good revision (a new revision, waited for);
    each keeps its failure and reports the rollback's result."""
    back, failed_revisions = [], {}
    for item in items:
        key, result = key_of(item), results[key_of(item)]
        policy = policies.get(key, revisions.Policy())
        if not (policy.atomic and result["failed"] and result.get("rollout", {}).get("state") == "failed"):
            continue
        good = rev.last_good(histories[key], rev.content_hash(item))
        if good is None:
            result["msg"] += "; no earlier revision rolled out, nothing to roll back to"
            continue
        request = item.request
        back.append(render(rev.request_of(good, request.namespace, request.deployment_id, request.replicas)))
        failed_revisions[key] = (histories[key][-1], good)
    if not back:
        return
    timeout, sleep, parallel = waiting
    sources = {key: f"atomic rollback to revision {pair[1].number}" for key, pair in failed_revisions.items()}
    back_policies = {
        key: revisions.Policy(policies.get(key, revisions.Policy()).actor, source)
        for key, source in sources.items()
    }
    outcomes = converge_set(
        kube,
        back,
        wait=True,
        wait_timeout=timeout,
        wait_sleep=sleep,
        parallel=parallel,
        policies=back_policies,
    )
    for item, outcome in zip(back, outcomes):  # noqa: B905 - one outcome per item; Python 3.9
        key = key_of(item)
        failed_revision, good = failed_revisions[key]
        if not outcome["failed"]:
            revisions.set_result(kube, key[0], failed_revision, rev.ROLLED_BACK)
        state = "rolled back" if not outcome["failed"] else "rollback failed"
        results[key]["rollback"] = {
            "to_revision": good.number,
            "revision": outcome.get("revision"),
            "rollout": outcome.get("rollout"),
            "failed": outcome["failed"],
            **({"msg": outcome["msg"]} if outcome["failed"] else {}),
        }
        results[key]["msg"] += (
            f"; {state} to revision {good.number} (as revision {outcome['revision']['revision']})"
        )


# --- preflight and read ----------------------------------------------------------------------------------


def preflight(kube: Kube, by_namespace: dict, check_mode: bool) -> dict[Key, list[str]]:
    """Missing secret keys fail a real run (a warning in check mode); a missing wildcard Secret warns."""
    warnings: dict[Key, list[str]] = defaultdict(list)
    for namespace, group in by_namespace.items():
        missing = missing_secret_keys(kube, namespace, {k for item in group for k in item.secret_keys})
        for item in group:
            lacking = sorted(missing & set(item.secret_keys))
            if not lacking:
                continue
            reason = f"secret key(s) {', '.join(lacking)} not found in Secret {names.SECRETS_NAME} in namespace {namespace}"
            if not check_mode:
                raise ValidationError(f"integration {label_of(item)}", "env", reason, missing_keys=lacking)
            warnings[key_of(item)].append(f"{reason}; a real run fails unless an earlier task creates them")
        for secret_name in sorted({i.wildcard_tls_secret for i in group if i.wildcard_tls_secret}):
            if kube.get(res.SECRET, secret_name, namespace) is not None:
                continue
            for item in (i for i in group if i.wildcard_tls_secret == secret_name):
                warnings[key_of(item)].append(
                    f"wildcard TLS Secret {secret_name} not found in namespace {namespace}: "
                    "the Ingress serves the ingress controller's default certificate until it exists"
                )
    return warnings


def missing_secret_keys(kube: Kube, namespace: str, keys: set[str]) -> set[str]:
    """Keys the bindings name that octo-secrets lacks (its values are read in memory, never kept)."""
    if not keys:
        return set()
    secret = kube.get(res.SECRET, names.SECRETS_NAME, namespace)
    return set(keys) - set((secret or {}).get("data") or {})


def read_namespace(kube: Kube, namespace: str, group: list[RenderedIntegration]) -> list[dict]:
    """One LIST per managed kind: narrowed to the slug when the group has one, except Ingresses, which are
    always read whole so that a host served by another slug is seen."""
    slugs = {item.request.slug for item in group}
    narrow = label_selector(slug_selector(next(iter(slugs)))) if len(slugs) == 1 else MANAGED_SELECTOR
    found = []
    for kind in res.MANAGED:
        found.extend(
            kube.list(kind, namespace, label_selector=MANAGED_SELECTOR if kind == res.INGRESS else narrow)
        )
    return found


def create_namespace(kube: Kube, namespace: str) -> None:
    kube.apply(res.NAMESPACE, {**res.NAMESPACE.header, "metadata": {"name": namespace}})


# --- results ---------------------------------------------------------------------------------------------


def report(item: RenderedIntegration, the_plan: Plan, warnings: dict, missing: set, diff: bool) -> dict:
    request = item.request
    result = {
        "changed": the_plan.changed or request.namespace in missing,
        "failed": False,
        "outcome": "applied" if the_plan.changed else "unchanged",
        "namespace": request.namespace,
        "slug": request.slug,
        "deployment_id": request.deployment_id,
        "objects": object_report(the_plan),
        "internal_url": item.internal_url,
        "public_url": item.public_url,
        "exposed": item.public_url is not None,
    }
    if request.namespace in missing:
        result["namespace_created"] = True
    item_warnings = warnings.get(key_of(item), []) + [w for a in the_plan.actions for w in a.warnings]
    if item_warnings:
        result["warnings"] = item_warnings
    if diff:
        result["diff"] = diff_report(the_plan)
    return result


def object_report(the_plan: Plan) -> list[dict]:
    return [{"kind": a.kind, "name": a.name, "action": a.op} for a in the_plan.actions]


def _yaml(obj: dict) -> str:
    if IMPORT_ERROR is not None:
        raise DependencyError("yaml", "PyYAML", IMPORT_ERROR)
    return yaml.safe_dump(obj, sort_keys=True, default_flow_style=False) if obj else ""


def diff_report(the_plan: Plan) -> list[dict]:
    """Ansible diff entries, each side as YAML text (easier to read than JSON)."""
    return [
        {**entry, "before": _yaml(entry["before"]), "after": _yaml(entry["after"])}
        for entry in the_plan.diffs()
    ]


# --- apply -----------------------------------------------------------------------------------------------


def apply_plan(kube: Kube, the_plan: Plan, done: list[dict] | None = None, only=None) -> list[dict]:
    """Creates/updates in order, then deletes (``only`` those it accepts, appended to ``done``); a failure
    reports what was applied before it, and whether the server answered (``failed``) or the answer was lost
    (``unknown``)."""
    done = [] if done is None else done
    for action in the_plan.actions:
        if action.op == "none" or (only is not None and not only(action)):
            continue
        try:
            apply_action(kube, action)
        except OctoError as err:
            outcome = "failed" if isinstance(err, ApiError) else "unknown"
            raise OctoError(
                err.verb, err.what, err.reason, changed=bool(done), applied=done, outcome=outcome
            ) from err
        done.append({"kind": action.kind, "name": action.name, "action": action.op})
    return done


def _before_pods(action) -> bool:
    """What pods read or are reached through: written for every item before any Deployment starts pods."""
    return action.op != "delete" and action.kind != "Deployment"


def _after_pods(action) -> bool:
    return not _before_pods(action)


def apply_all(kube: Kube, items, plans: dict[Key, Plan], results: dict[Key, dict], parallel: int) -> None:
    """Two passes over the set: every item's ConfigMap, Services and Ingress, then its Deployment and deletes.
    The pods' controllers start only after the first pass, so their writes do not slow it, and pods never
    start before what they mount and are reached through exists."""

    def apply_one(item: RenderedIntegration, last: bool) -> None:
        result = results[key_of(item)]
        if result["failed"]:
            return
        try:
            only = _after_pods if last else _before_pods
            apply_plan(kube, plans[key_of(item)], result.setdefault("applied", []), only)
            if last:
                keep_shared_service(kube, item, plans[key_of(item)])
        except OctoError as err:
            applied = err.details.get("applied", [])
            outcome = err.details.get("outcome", "unknown")
            result.update(failed=True, msg=str(err), applied=applied, changed=bool(applied), outcome=outcome)

    changed = [item for item in items if plans[key_of(item)].changed]
    with ThreadPoolExecutor(max_workers=max(1, parallel)) as pool:
        list(pool.map(lambda item: apply_one(item, last=False), changed))
        list(pool.map(lambda item: apply_one(item, last=True), changed))


def keep_shared_service(kube: Kube, item: RenderedIntegration, the_plan: Plan) -> None:
    """The shared Service was planned unchanged, but a concurrent undeploy of the slug's last other deployment
    may have deleted it since it was read: re-check it after this deployment's writes and restore it."""
    name = names.integration_service_name(item.request.slug)
    held = [a for a in the_plan.actions if a.kind == "Service" and a.name == name and a.op == "none"]
    if held and kube.get(res.SERVICE, name, item.request.namespace) is None:
        apply_action(kube, held[0])


# --- rollouts --------------------------------------------------------------------------------------------


def settle_rollouts(kube, items, plans, actual, results, wait: bool, timeout: float, sleep: float) -> None:
    """Rollouts already complete per the listing are reported without a read; the others followed if ``wait``."""
    pending = []
    listed_deployments = {
        (namespace, (o["metadata"].get("labels") or {}).get(names.LABEL_DEPLOYMENT)): o
        for namespace, objects in actual.items()
        for o in reversed(objects)  # the first listed wins, as a scan would find it
        if o["kind"] == "Deployment"
    }
    for item in items:
        result = results[key_of(item)]
        if result["failed"]:
            continue
        listed = listed_deployments.get(key_of(item))
        touched = any(a.kind == "Deployment" and a.op != "none" for a in plans[key_of(item)].actions)
        settled = None if touched else rollout.evaluate(listed, [], [])
        if settled is not None and settled.state == "complete":
            result.update(rollout=settled.as_dict(), timeline=[], events=[])
        else:
            pending.append(key_of(item))
    if not pending or not wait:
        return
    try:
        finished = follow(kube, pending, timeout, sleep)
    except OctoError as err:
        for key in pending:
            results[key].update(
                failed=True,
                msg=f"Failed to follow the rollout of Deployment {_ref(key)}: {err.reason}",
                rollout={"state": "unknown", "message": err.reason},
            )
        return
    for key, (status, watch) in finished.items():
        record_rollout(results[key], key, status, watch)


def record_rollout(result: dict, key: Key, status: rollout.RolloutStatus, watch) -> None:
    result.update(rollout=status.as_dict(), timeline=watch.timeline, events=watch.events[-20:])
    if status.state == "failed":
        result.update(
            failed=True, msg=f"Failed to roll out Deployment {_ref(key)}: {status.reason}: {status.message}"
        )


def _ref(key: Key) -> str:
    return f"{key[0]}/{names.deployment_object_name(key[1])}"
