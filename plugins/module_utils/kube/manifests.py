"""The `manifests` operation: validate -> discover kinds -> read by owner -> plan -> dry-run -> apply -> wait.

Nothing is written before every definition parsed, every kind resolved and every changed object passed a
server-side dry run (the API server's schema validation, CRDs included).
"""

from __future__ import annotations

import time

from ansible_collections.octo.platform.plugins.module_utils.common.args import auth_params
from ansible_collections.octo.platform.plugins.module_utils.common.errors import OctoError, ValidationError
from ansible_collections.octo.platform.plugins.module_utils.kube import resources as res
from ansible_collections.octo.platform.plugins.module_utils.kube.client import ApiError, Kube
from ansible_collections.octo.platform.plugins.module_utils.kube.converge import create_namespace
from ansible_collections.octo.platform.plugins.module_utils.kube.discovery import Discovery
from ansible_collections.octo.platform.plugins.module_utils.render import cert_diagnosis as cd
from ansible_collections.octo.platform.plugins.module_utils.render import manifests as mf
from ansible_collections.octo.platform.plugins.module_utils.render.ownership import is_ours
from ansible_collections.octo.platform.plugins.module_utils.render.plan import Plan, object_key

try:
    import yaml

    YAML_ERROR = None
except ImportError as err:  # pragma: no cover - depends on the host
    YAML_ERROR = err


def converge(params: dict, check_mode: bool = False, diff: bool = False, kube: Kube | None = None) -> dict:
    mf.check_owner(params["owner"])
    objects = mf.parse_definitions(params.get("definitions") or [])
    mf.check_identity(objects)
    refs = mf.kind_refs(objects, params.get("prune_kinds") or [])
    kube = kube or Kube(auth_params(params))
    found = Discovery(kube)
    desired = mf.desired_objects(objects, params["owner"], params["namespace"], _scope(found))
    resources = {ref: _resource(found, ref) for ref in refs}
    waits = _wait_targets(params, desired, found)
    namespaces = mf.namespaces_of(desired, params["namespace"])
    owned = _owned(kube, resources.values(), namespaces, params["owner"])
    if params["state"] == "absent":
        the_plan = Plan(mf.deletions(owned))
    else:
        the_plan = mf.plan_manifests(desired, owned + _unowned(kube, found, desired, owned), params["prune"])
    missing = [] if params["state"] == "absent" else _missing_namespaces(kube, desired)
    _dry_run(kube, found, the_plan, set(missing))
    result = {"changed": the_plan.changed or bool(missing), "objects": mf.object_results(the_plan)}
    if missing:
        result["namespaces_created"] = missing
    warnings = [w for action in the_plan.actions for w in action.warnings]
    if warnings:
        result["warnings"] = warnings
    if diff:
        result["diff"] = _diff_report(the_plan)
    if check_mode:
        return result
    for namespace in missing:
        create_namespace(kube, namespace)
    _apply(kube, found, the_plan)
    if params["state"] == "present" and (waits or params["wait"]):
        try:
            _wait(kube, waits + (_rollouts(desired, found) if params["wait"] else []), params)
        except OctoError as err:
            err.details.update(changed=result["changed"], objects=result["objects"])
            raise
    return result


def _resource(found: Discovery, ref: mf.KindRef) -> res.Resource:
    resource = found.resource(ref.api_version, ref.kind)
    if resource is None:
        raise OctoError("apply", f"{ref.kind} ({ref.api_version})", "the server has no such kind")
    return resource


def _scope(found: Discovery):
    def namespaced(api_version: str, kind: str) -> bool | None:
        resource = found.resource(api_version, kind)
        return None if resource is None else resource.namespaced

    return namespaced


def _owned(kube: Kube, resources, namespaces: list[str], owner: str) -> list[dict]:
    """Objects of these kinds labelled with this owner and written by this collection, where the set lives."""
    selector = mf.selector(owner)
    found = []
    for resource in resources:
        for namespace in namespaces if resource.namespaced else [None]:
            found.extend(o for o in kube.list(resource, namespace, label_selector=selector) if is_ours(o))
    return found


def _unowned(kube: Kube, found: Discovery, desired: list[dict], owned: list[dict]) -> list[dict]:
    """Desired objects that exist without this owner's label (another owner's, or made by hand): read one by one."""
    have = {object_key(obj) for obj in owned}
    current = []
    for obj in desired:
        if object_key(obj) in have:
            continue
        resource = found.resource(obj["apiVersion"], obj["kind"])
        answer = kube.get(resource, obj["metadata"]["name"], obj["metadata"].get("namespace"))
        if answer is not None:
            current.append(answer)
    return current


def _missing_namespaces(kube: Kube, desired: list[dict]) -> list[str]:
    """Namespaces the namespaced objects live in that neither exist nor are among the definitions: created
    (without labels, as the other modules create them) before the first object, reported in the result."""
    defined = {obj["metadata"]["name"] for obj in desired if obj["kind"] == "Namespace"}
    used = sorted(
        {obj["metadata"]["namespace"] for obj in desired if obj["metadata"].get("namespace")} - defined
    )
    return [namespace for namespace in used if kube.get(res.NAMESPACE, namespace) is None]


def _dry_run(kube: Kube, found: Discovery, the_plan: Plan, missing: set) -> None:
    """Every create/update through the server's validation, writing nothing. Objects in a namespace not there
    yet are checked by the real apply (the server rejects them in a missing namespace)."""
    new_namespaces = missing | {
        a.name for a in the_plan.actions if a.kind == "Namespace" and a.op == "create"
    }
    for action in the_plan.actions:
        if action.op in ("create", "update") and action.namespace not in new_namespaces:
            try:
                kube.apply(found.resource(action.api_version, action.kind), action.desired, dry_run=True)
            except OctoError as err:
                raise OctoError("apply", action.ref, err.reason) from None


def _apply(kube: Kube, found: Discovery, the_plan: Plan) -> None:
    done = []
    for action in the_plan.actions:
        if action.op == "none":
            continue
        resource = found.resource(action.api_version, action.kind)
        try:
            if action.op == "delete":
                kube.delete(resource, action.name, action.namespace)
            else:
                kube.apply(resource, action.desired)
        except OctoError as err:
            verb = "delete" if action.op == "delete" else "apply"
            raise OctoError(verb, action.ref, err.reason, changed=bool(done), applied=done) from None
        done.append(action.ref)


# --- waiting ----------------------------------------------------------------------------------------------


def _wait_targets(params: dict, desired: list[dict], found: Discovery) -> list[tuple]:
    """(resource, namespace, name, condition, status) of each wait_for entry, checked before any write."""
    versions = {obj["kind"]: obj["apiVersion"] for obj in desired}
    targets = []
    for index, entry in enumerate(params.get("wait_for") or []):
        api_version = entry.get("api_version") or versions.get(entry["kind"])
        registered = res.BY_KIND.get(entry["kind"])
        api_version = api_version or (registered.api_version if registered else None)
        resource = found.resource(api_version, entry["kind"]) if api_version else None
        if resource is None:
            reason = f"kind {entry['kind']} is not in definitions nor known to the server: set api_version"
            raise ValidationError("manifests", f"wait_for[{index}]", reason)
        namespace = (entry.get("namespace") or params["namespace"]) if resource.namespaced else None
        targets.append((resource, namespace, entry["name"], entry["condition"], entry["status"]))
    return targets


def _rollouts(desired: list[dict], found: Discovery) -> list[tuple]:
    return [
        (
            found.resource(o["apiVersion"], o["kind"]),
            o["metadata"].get("namespace"),
            o["metadata"]["name"],
            None,
            None,
        )
        for o in desired
        if o["kind"] in mf.ROLLOUT_KINDS
    ]


def _wait(kube: Kube, targets: list[tuple], params: dict) -> None:
    """Poll every target until all are ready; fail at once on a failed Job, with a diagnosis on timeout."""
    deadline = time.monotonic() + params["wait_timeout"]
    pending = list(targets)
    while True:
        states = {target: _readiness(kube, target) for target in pending}
        for target, state in states.items():
            if state.failed:
                raise OctoError("wait for", _target_ref(target), state.message)
        pending = [target for target, state in states.items() if not state.done]
        if not pending:
            return
        if time.monotonic() >= deadline:
            raise _timed_out(kube, pending, states, params["wait_timeout"])
        time.sleep(max(0.0, min(params["wait_sleep"], deadline - time.monotonic())))


def _readiness(kube: Kube, target: tuple) -> mf.Readiness:
    resource, namespace, name, condition, status = target
    obj = kube.get(resource, name, namespace)
    return mf.rollout_readiness(obj) if condition is None else mf.condition_readiness(obj, condition, status)


def _timed_out(kube: Kube, pending: list[tuple], states: dict, timeout: int) -> OctoError:
    lines = [f"{_target_ref(t)}: {states[t].message}" for t in pending]
    for target in pending:
        if target[0].kind == "Certificate":
            lines.extend(cd.diagnose(_certificate_family(kube, target[1], target[2])))
    reason = f"not ready after {timeout}s: " + "; ".join(lines)
    pending_refs = [_target_ref(t) for t in pending]
    return OctoError("wait for", _target_ref(pending[0]), reason, pending=pending_refs, diagnosis=lines)


def _certificate_family(kube: Kube, namespace: str, name: str) -> dict:
    """The Certificate and the CertificateRequests, Orders and Challenges made for it (by owner references)."""
    family = {"Certificate": kube.get(cd.CERTIFICATE, name, namespace)}
    for kind in (cd.CERTIFICATE_REQUEST, cd.ORDER, cd.CHALLENGE):
        try:
            family[kind.kind] = kube.list(kind, namespace)
        except ApiError:
            family[kind.kind] = []
    return cd.related(family)


def _target_ref(target: tuple) -> str:
    resource, namespace, name = target[0], target[1], target[2]
    return f"{resource.kind} {namespace}/{name}" if namespace else f"{resource.kind} {name}"


def _diff_report(the_plan: Plan) -> list[dict]:
    if YAML_ERROR is not None:
        raise OctoError("import", "yaml", f"install the Python package 'PyYAML' ({YAML_ERROR})")
    return [
        {
            "before_header": action.ref,
            "after_header": action.ref,
            "before": _yaml(mf.masked(action.before)),
            "after": _yaml(mf.masked(action.after)),
        }
        for action in the_plan.actions
        if action.op != "none"
    ]


def _yaml(obj: dict | None) -> str:
    return yaml.safe_dump(obj, sort_keys=True, default_flow_style=False) if obj else ""
