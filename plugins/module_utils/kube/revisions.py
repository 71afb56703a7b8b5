"""Revision history in the cluster: one ConfigMap per revision (see render.revisions), read with one LIST
per namespace, written only when what runs changes.

No lock is ever taken: a revision is created ``pending`` just before its objects are written and gets its
result when a run that waits sees the rollout settle. A run that does not wait (``wait: false``) never writes
a result, so its re-runs write nothing; a run killed in between leaves a ``pending`` revision that blocks
nothing: the next run with the same content that waits settles it; a run with other content marks it
``interrupted`` and records its own.
"""

from __future__ import annotations

import dataclasses
import getpass
import time
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from ansible_collections.octo.platform.plugins.module_utils.common.errors import OctoError
from ansible_collections.octo.platform.plugins.module_utils.kube import resources as res
from ansible_collections.octo.platform.plugins.module_utils.kube.client import ApiError, Kube
from ansible_collections.octo.platform.plugins.module_utils.render import revisions as rev
from ansible_collections.octo.platform.plugins.module_utils.render.integration import RenderedIntegration
from ansible_collections.octo.platform.plugins.module_utils.render.plan import plan
from ansible_collections.octo.platform.plugins.module_utils.render.set_plan import Key, ObjectIndex, key_of

CREATE_ATTEMPTS = 3  # a concurrent run may take the next number first
INVALID = 422  # how the API server refuses a JSON patch whose test fails


@dataclass(frozen=True)
class Policy:
    """How one item's revision is recorded."""

    actor: str = ""
    source: str = "apply"
    history_limit: int = rev.DEFAULT_HISTORY_LIMIT
    atomic: bool = False


def default_actor() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no passwd entry (some containers)
        return "unknown"


def read_histories(kube: Kube, namespace: str, deployment_ids: set[str]) -> dict[str, list[rev.Revision]]:
    """One LIST: the revisions of the one deployment, or of every deployment of the namespace."""
    only = next(iter(deployment_ids)) if len(deployment_ids) == 1 else None
    selector = rev.history_selector(only)
    return rev.histories(kube.list(res.CONFIG_MAP, namespace, label_selector=selector))


def history_of(kube: Kube, namespace: str, deployment_id: str) -> list[rev.Revision]:
    return read_histories(kube, namespace, {deployment_id}).get(deployment_id, [])


def report(item: RenderedIntegration, history: list[rev.Revision], result: dict) -> bool:
    """Put the revision this run applies (recorded or predicted) in ``result``; True when it is new."""
    content = rev.content_hash(item)
    if not rev.needs_revision(history, content):
        result["revision"] = history[-1].summary()
        return False
    number = history[-1].number + 1 if history else 1
    result["revision"] = {"revision": number, "hash": content, "result": rev.PENDING, "new": True}
    return True


def drift(item: RenderedIntegration, history: list[rev.Revision], render, index: ObjectIndex) -> list[dict]:
    """Objects whose live fields differ from what the last revision renders (with this run's replicas)."""
    if not history:
        return []
    request = item.request
    last = render(rev.request_of(history[-1], request.namespace, request.deployment_id, request.replicas))
    live = [
        index.objects[position]
        for o in last.objects
        for position in index.by_name.get((o["kind"], o["metadata"]["name"]), [])
    ]
    found = []
    for action in plan(last.objects, live, delete_unwanted=False).actions:
        if action.op == "create":
            found.append({"kind": action.kind, "name": action.name, "fields": ["(deleted)"]})
        elif action.op == "update":
            fields = rev.changed_fields(action.before, action.after)
            found.append({"kind": action.kind, "name": action.name, "fields": fields or ["(metadata)"]})
    return found


def start(kube: Kube, item: RenderedIntegration, history: list[rev.Revision], policy: Policy) -> rev.Revision:
    """Record a pending revision of ``item``; earlier pending ones become interrupted; the oldest beyond the
    limit are deleted."""
    request = item.request
    for stale in (r for r in history if r.result == rev.PENDING):
        set_result(kube, request.namespace, stale, rev.INTERRUPTED)
    number = history[-1].number + 1 if history else 1
    for attempt in range(CREATE_ATTEMPTS):
        revision = _new_revision(item, number + attempt, policy)
        try:
            kube.create(res.CONFIG_MAP, rev.config_map(revision, request.namespace, request.slug))
            break
        except ApiError as err:  # AlreadyExists: a concurrent run took the number
            if err.cause != "AlreadyExists" or attempt == CREATE_ATTEMPTS - 1:
                raise
    for old in rev.pruned([*history, revision], policy.history_limit):
        kube.delete(res.CONFIG_MAP, old.name, request.namespace)
    return revision


def _new_revision(item: RenderedIntegration, number: int, policy: Policy) -> rev.Revision:
    request = item.request
    return rev.Revision(
        deployment_id=request.deployment_id,
        number=number,
        time=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        actor=policy.actor or default_actor(),
        content_hash=rev.content_hash(item),
        result=rev.PENDING,
        source=policy.source,
        replicas=request.replicas,
        inputs=rev.inputs_of(request),
        definition=request.definition,
        image=request.image,
    )


def set_result(kube: Kube, namespace: str, revision: rev.Revision, result: str) -> None:
    kube.merge_patch(res.CONFIG_MAP, revision.name, namespace, rev.result_patch(result))


def start_all(
    kube: Kube, items, fresh: set[Key], histories: dict, policies: dict, results: dict, parallel: int
):
    """Record the pending revision of every item in ``fresh`` (bounded parallelism)."""

    def one(item: RenderedIntegration) -> None:
        key = key_of(item)
        revision = start(kube, item, histories.get(key, []), policies.get(key, Policy()))
        histories[key] = [*histories.get(key, []), revision]
        results[key]["revision"] = revision.summary()

    with ThreadPoolExecutor(max_workers=max(1, parallel)) as pool:
        list(pool.map(one, [item for item in items if key_of(item) in fresh]))


def finish(kube: Kube, key: Key, histories: dict, result: dict, waited: bool) -> None:
    """Set the result of the item's newest revision from its rollout, when it was pending and this run waited
    (a run that does not wait writes no result: its re-runs stay free of writes)."""
    history = histories.get(key) or []
    outcome = outcome_of(result)
    if not waited or not history or history[-1].result != rev.PENDING or outcome is None:
        return
    try:
        set_result(kube, key[0], history[-1], outcome)
    except OctoError as err:  # the next run settles it; the item's own result stands
        result.setdefault("warnings", []).append(f"revision {history[-1].number} stays pending: {err}")
        return
    histories[key] = [*history[:-1], _with_result(history[-1], outcome)]
    result["revision"] = histories[key][-1].summary()


def outcome_of(result: dict) -> str | None:
    """A revision's result from its item's result; None while unknown (not settled, or the server was lost)."""
    state = (result.get("rollout") or {}).get("state")
    if state == "failed" or (result.get("failed") and result.get("outcome") == "failed" and state is None):
        return rev.FAILED
    return rev.ROLLED_OUT if state == "complete" and not result.get("failed") else None


def awaits_result(result: dict) -> bool:
    """The module reported a pending revision whose rollout outcome is now known."""
    reported = result.get("revision") or {}
    return (
        reported.get("result") == rev.PENDING and "config_map" in reported and outcome_of(result) is not None
    )


def settle_reported(kube: Kube, result: dict) -> None:
    """After the controller followed a rollout: the result of the pending revision the module reported."""
    if not awaits_result(result):
        return
    reported, outcome = result["revision"], outcome_of(result)
    name, namespace = reported["config_map"], result["namespace"]
    try:
        kube.json_patch(res.CONFIG_MAP, name, namespace, rev.settle_patch(rev.PENDING, outcome))
    except ApiError as err:
        if err.status != INVALID:
            raise
        stored = kube.get(res.CONFIG_MAP, name, namespace)  # a later run settled it meanwhile
        reported["result"] = ((stored or {}).get("data") or {}).get("result")
        return
    reported["result"] = outcome


def settle_all_reported(kube: Kube, results: list[dict], parallel: int) -> None:
    """settle_reported for each result (bounded parallelism); a failure is that item's warning."""

    def one(result: dict) -> None:
        try:
            settle_reported(kube, result)
        except OctoError as err:
            result.setdefault("warnings", []).append(f"revision result not recorded: {err}")

    with ThreadPoolExecutor(max_workers=max(1, parallel)) as pool:
        list(pool.map(one, results))


def _with_result(revision: rev.Revision, result: str) -> rev.Revision:
    return dataclasses.replace(revision, result=result)


def histories_by_key(kube: Kube, by_namespace: dict) -> dict[Key, list[rev.Revision]]:
    """Every item's history, with one LIST per namespace."""
    found: dict[Key, list[rev.Revision]] = defaultdict(list)
    for namespace, group in by_namespace.items():
        listed = read_histories(kube, namespace, {item.request.deployment_id for item in group})
        for item in group:
            found[key_of(item)] = listed.get(item.request.deployment_id, [])
    return found
