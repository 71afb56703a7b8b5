"""The `integration` operation: render -> read actual by label -> plan -> apply -> wait."""

from __future__ import annotations

import yaml

from ansible_collections.octo.platform.plugins.module_utils.common.args import auth_params
from ansible_collections.octo.platform.plugins.module_utils.common.errors import OctoError, ValidationError
from ansible_collections.octo.platform.plugins.module_utils.kube import resources as res
from ansible_collections.octo.platform.plugins.module_utils.kube.client import Kube
from ansible_collections.octo.platform.plugins.module_utils.kube.waiter import (
    label_selector,
    wait_for_rollout,
)
from ansible_collections.octo.platform.plugins.module_utils.render import names, rollout
from ansible_collections.octo.platform.plugins.module_utils.render.integration import (
    IntegrationRequest,
    TlsSettings,
    render,
)
from ansible_collections.octo.platform.plugins.module_utils.render.plan import plan
from ansible_collections.octo.platform.plugins.module_utils.render.undeploy import (
    other_deployment_ids,
    plan_undeploy,
)

MANAGED_KINDS = (res.CONFIG_MAP, res.DEPLOYMENT, res.SERVICE, res.INGRESS)


def build_request(params: dict) -> IntegrationRequest:
    """Module params -> IntegrationRequest (reads definition_file when given)."""
    definition = params.get("definition")
    if params.get("definition_file"):
        try:
            with open(params["definition_file"], encoding="utf-8") as handle:
                definition = handle.read()
        except OSError as err:
            raise ValidationError(
                "integration", "definition_file", f"cannot read it ({err.strerror})"
            ) from err
    if definition is None:
        raise ValidationError("integration", "definition", "one of definition or definition_file is required")
    bindings = {}
    for var, binding in (params.get("env") or {}).items():
        bindings[var] = {"value": binding} if isinstance(binding, str) else dict(binding or {})
    return IntegrationRequest(
        name=params.get("name") or params["slug"],
        slug=params["slug"],
        deployment_id=params["deployment_id"],
        definition=definition,
        image=params["image"],
        namespace=params["namespace"],
        bindings=bindings,
        replicas=params["replicas"],
        expose=params["expose"],
        subdomain=params.get("subdomain"),
        base_domain=params.get("base_domain"),
        tls=TlsSettings(
            mode=params["tls_mode"],
            cluster_issuer=params["cluster_issuer"],
            wildcard_secret=params["wildcard_secret"],
        ),
        ingress_class=params["ingress_class"],
    )


def read_slug_objects(kube: Kube, namespace: str, slug: str) -> list[dict]:
    """Every object this collection manages for a slug: one LIST per kind."""
    selector = label_selector({names.LABEL_MANAGED_BY: names.MANAGED_BY, names.LABEL_SLUG: slug})
    found = []
    for resource in MANAGED_KINDS:
        found.extend(kube.list(resource, namespace, label_selector=selector))
    return found


def _deployment_of(obj: dict) -> str | None:
    return obj["metadata"].get("labels", {}).get(names.LABEL_DEPLOYMENT)


def missing_secret_keys(kube: Kube, namespace: str, keys: list[str]) -> list[str]:
    """Keys the bindings name that octo-secrets lacks (its values are read in memory, never kept)."""
    if not keys:
        return []
    secret = kube.get(res.SECRET, names.SECRETS_NAME, namespace)
    return sorted(set(keys) - set((secret or {}).get("data") or {}))


def check_secret_keys(kube: Kube, namespace: str, keys: list[str], check_mode: bool) -> list[str]:
    """Fail before any write when a binding names a missing key; in check mode a warning, since an earlier
    task of the same run may create the key."""
    missing = missing_secret_keys(kube, namespace, keys)
    if not missing:
        return []
    reason = f"secret key(s) {', '.join(missing)} not found in Secret {names.SECRETS_NAME} in namespace {namespace}"
    if check_mode:
        return [f"{reason}; a real run fails unless an earlier task creates them"]
    raise ValidationError("integration", "env", reason, missing_keys=missing)


def ensure_namespace(kube: Kube, namespace: str, check_mode: bool) -> bool:
    if kube.get(res.NAMESPACE, namespace) is not None:
        return False
    if not check_mode:
        kube.apply(res.NAMESPACE, {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}})
    return True


def apply_plan(kube: Kube, the_plan) -> list[dict]:
    """Apply creates/updates in order, then deletes; a failure reports what was applied before it."""
    done = []
    for action in the_plan.actions:
        if action.op == "none":
            continue
        try:
            if action.op == "delete":
                kube.delete(res.resource_for(action.actual), action.name, action.namespace)
            else:
                kube.apply(res.resource_for(action.desired), action.desired)
        except OctoError as err:
            raise OctoError(err.verb, err.what, err.reason, changed=bool(done), applied=done) from err
        done.append({"kind": action.kind, "name": action.name, "action": action.op})
    return done


def object_report(the_plan) -> list[dict]:
    return [{"kind": a.kind, "name": a.name, "action": a.op} for a in the_plan.actions]


def diff_report(the_plan) -> list[dict]:
    """Ansible diff entries, each side as YAML text (easier to read than JSON)."""
    return [
        {**entry, "before": _yaml(entry["before"]), "after": _yaml(entry["after"])}
        for entry in the_plan.diffs()
    ]


def _yaml(obj: dict) -> str:
    return yaml.safe_dump(obj, sort_keys=True, default_flow_style=False) if obj else ""


def _status_from_listing(deployment: dict | None):
    """A finished rollout can be told from the listed Deployment alone (no extra reads)."""
    status = rollout.evaluate(deployment, [], [])
    return status if status.state == "complete" else None


def present(kube: Kube, params: dict, check_mode: bool, diff: bool) -> dict:
    rendered = render(build_request(params))
    request = rendered.request
    warnings = check_secret_keys(kube, request.namespace, rendered.secret_keys, check_mode)
    namespace_created = ensure_namespace(kube, request.namespace, check_mode)
    actual_all = read_slug_objects(kube, request.namespace, request.slug)
    shared_name = names.integration_service_name(request.slug)
    desired_names = {(o["kind"], o["metadata"]["name"]) for o in rendered.objects}
    others = other_deployment_ids(actual_all, request.deployment_id, request.slug)
    actual = [
        o
        for o in actual_all
        if _deployment_of(o) == request.deployment_id
        or (
            o["metadata"]["name"] == shared_name and (("Service", shared_name) in desired_names or not others)
        )
    ]
    the_plan = plan(rendered.objects, actual)
    result = {
        "changed": the_plan.changed or namespace_created,
        "namespace": request.namespace,
        "slug": request.slug,
        "deployment_id": request.deployment_id,
        "objects": object_report(the_plan),
        "internal_url": rendered.internal_url,
        "public_url": rendered.public_url,
        "exposed": rendered.public_url is not None,
    }
    if warnings:
        result["warnings"] = warnings
    if diff:
        result["diff"] = diff_report(the_plan)
    if check_mode:
        return result
    apply_plan(kube, the_plan)
    name = names.deployment_object_name(request.deployment_id)
    if not params["wait"]:
        return result
    listed = next((o for o in actual if o["kind"] == "Deployment"), None)
    deployment_changed = any(a.kind == "Deployment" and a.op != "none" for a in the_plan.actions)
    quick = None if deployment_changed else _status_from_listing(listed)
    if quick is not None:
        result.update(rollout=quick.as_dict(), timeline=[], events=[])
        return result
    status, timeline, events = wait_for_rollout(
        kube,
        request.namespace,
        name,
        {names.LABEL_DEPLOYMENT: request.deployment_id},
        params["wait_timeout"],
        params["wait_sleep"],
    )
    result.update(
        rollout=status.as_dict(),
        timeline=timeline,
        events=events[-20:],
    )
    if status.state == "failed":
        raise OctoError(
            "roll out",
            f"Deployment {request.namespace}/{name}",
            f"{status.reason}: {status.message}",
            **result,
        )
    return result


def absent(kube: Kube, params: dict, check_mode: bool, diff: bool) -> dict:
    namespace, deployment_id = params["namespace"], params["deployment_id"]
    slug = params.get("slug")
    if not slug:
        mine = []
        selector = label_selector(
            {names.LABEL_MANAGED_BY: names.MANAGED_BY, names.LABEL_DEPLOYMENT: deployment_id}
        )
        for resource in MANAGED_KINDS:
            mine.extend(kube.list(resource, namespace, label_selector=selector))
        slug = next((o["metadata"]["labels"].get(names.LABEL_SLUG) for o in mine), None)
    actual_all = read_slug_objects(kube, namespace, slug) if slug else []
    others = other_deployment_ids(actual_all, deployment_id, slug) if slug else set()
    the_plan = plan_undeploy(actual_all, deployment_id, slug, len(others))
    result = {
        "changed": the_plan.changed,
        "namespace": namespace,
        "slug": slug,
        "deployment_id": deployment_id,
        "objects": object_report(the_plan),
        "remaining_deployments": sorted(others),
    }
    if diff:
        result["diff"] = diff_report(the_plan)
    if not check_mode:
        apply_plan(kube, the_plan)
    return result


def converge(params: dict, check_mode: bool = False, diff: bool = False, kube: Kube | None = None) -> dict:
    kube = kube or Kube(auth_params(params))
    if params["state"] == "absent":
        return absent(kube, params, check_mode, diff)
    return present(kube, params, check_mode, diff)
