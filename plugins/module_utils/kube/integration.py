"""The `integration` operation: render -> read actual by label -> plan -> apply -> wait; or undeploy."""

from __future__ import annotations

import time
from dataclasses import replace

from ansible_collections.octo.platform.plugins.module_utils.common.args import auth_params
from ansible_collections.octo.platform.plugins.module_utils.common.errors import (
    ItemFailed,
    OctoError,
    ValidationError,
)
from ansible_collections.octo.platform.plugins.module_utils.kube import resources as res
from ansible_collections.octo.platform.plugins.module_utils.kube import revisions
from ansible_collections.octo.platform.plugins.module_utils.kube.apply import apply_action
from ansible_collections.octo.platform.plugins.module_utils.kube.client import Kube
from ansible_collections.octo.platform.plugins.module_utils.kube.converge import (
    apply_plan,
    converge_set,
    diff_report,
    object_report,
)
from ansible_collections.octo.platform.plugins.module_utils.kube.waiter import label_selector
from ansible_collections.octo.platform.plugins.module_utils.render import names
from ansible_collections.octo.platform.plugins.module_utils.render import revisions as rev
from ansible_collections.octo.platform.plugins.module_utils.render.integration import (
    IntegrationRequest,
    RenderedIntegration,
    TlsSettings,
    deployment_selector,
    render,
    shared_service,
    slug_selector,
)
from ansible_collections.octo.platform.plugins.module_utils.render.ownership import (
    deployment_id_of,
    is_ours,
    is_shared_service,
    labels_of,
    live_siblings,
    served_port,
)
from ansible_collections.octo.platform.plugins.module_utils.render.plan import Plan, plan
from ansible_collections.octo.platform.plugins.module_utils.render.undeploy import plan_undeploy


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
    if not params.get("slug"):
        raise ValidationError(
            "integration", "slug", "is required to deploy (unless rollback_to or promote_from)"
        )
    return IntegrationRequest(
        name=params.get("name") or params["slug"],
        slug=params["slug"],
        deployment_id=params["deployment_id"],
        definition=definition,
        image=params["image"],
        namespace=params["namespace"],
        bindings=params.get("env") or {},  # literals of any scalar type and mappings: render checks them
        replicas=1 if params.get("replicas") is None else params["replicas"],
        expose=params["expose"],
        subdomain=params.get("subdomain"),
        base_domain=params.get("base_domain"),
        tls=TlsSettings(
            mode=params["tls_mode"],
            cluster_issuer=params["cluster_issuer"],
            wildcard_secret=params["wildcard_secret"],
        ),
        ingress_class=params["ingress_class"],
        resources=params.get("resources"),
        node_selector=params.get("node_selector"),
        tolerations=params.get("tolerations"),
        probes=params.get("probes"),
    )


def resolve(kube: Kube, params: dict) -> tuple[RenderedIntegration, revisions.Policy]:
    """The rendered deployment and how its revision is recorded: the task's inputs, a recorded revision of
    the same deployment (rollback_to), or another deployment's revision with the target's own options
    (promote_from)."""
    policy = revisions.Policy(
        actor=params.get("actor") or "",
        history_limit=params["history_limit"],
        atomic=params["atomic"],
    )
    namespace, deployment_id = params["namespace"], params["deployment_id"]
    if params.get("history_limit") < 1:
        raise ValidationError(f"deployment {deployment_id}", "history_limit", "must be at least 1")
    if params.get("rollback_to"):
        history = revisions.history_of(kube, namespace, deployment_id)
        target = rev.pick(history, params["rollback_to"], deployment_id, "rollback_to")
        request = rev.request_of(target, namespace, deployment_id, _replicas(kube, params))
        return render(request), replace(policy, source=f"rollback to revision {target.number}")
    if params.get("promote_from"):
        return _promote(kube, params, policy)
    return render(build_request(params)), policy


def _promote(kube: Kube, params: dict, policy: revisions.Policy) -> tuple:
    source = params["promote_from"]
    source_namespace = source.get("namespace") or params["namespace"]
    history = revisions.history_of(kube, source_namespace, source["deployment_id"])
    picked = rev.pick(history, source.get("revision"), source["deployment_id"], "promote_from.revision")
    origin = f"{source['deployment_id']} revision {picked.number}"
    what = f"{origin} to {params['deployment_id']}"
    merged = {
        **params,
        "definition": picked.definition,
        "definition_file": None,
        "image": picked.inputs.get("image"),
        "slug": params.get("slug") or picked.inputs.get("slug"),
        "name": params.get("name") or picked.inputs.get("name"),
        "env": picked.inputs.get("env") if source.get("env") else params.get("env"),
        "replicas": _replicas(kube, params),
    }
    try:
        rendered = render(build_request(merged))
    except ValidationError as err:
        reason = err.reason
        if err.field == "env":
            reason = f"the target's env bindings do not satisfy the promoted definition: {reason}"
        raise OctoError("promote", what, reason, **err.details) from err
    return rendered, replace(policy, source=f"promote of {origin} from namespace {source_namespace}")


def _replicas(kube: Kube, params: dict) -> int:
    """The task's replicas; else the live Deployment's (a rollback or promote keeps the target's scale)."""
    if params.get("replicas") is not None:
        return params["replicas"]
    live = kube.get(
        res.DEPLOYMENT, names.deployment_object_name(params["deployment_id"]), params["namespace"]
    )
    return ((live or {}).get("spec") or {}).get("replicas", 1) if live else 1


def present(kube: Kube, params: dict, check_mode: bool, diff: bool) -> dict:
    rendered, policy = resolve(kube, params)
    [result] = converge_set(
        kube,
        [rendered],
        check_mode=check_mode,
        diff=diff,
        wait=params["wait"],
        wait_timeout=params["wait_timeout"],
        wait_sleep=params["wait_sleep"],
        policies={(rendered.request.namespace, rendered.request.deployment_id): policy},
    )
    if result.pop("failed"):
        raise ItemFailed(result.pop("msg"), **result)
    return result


def _read(kube: Kube, namespace: str, selector: dict, kinds=res.MANAGED) -> list[dict]:
    return [
        obj for kind in kinds for obj in kube.list(kind, namespace, label_selector=label_selector(selector))
    ]


def absent(kube: Kube, params: dict, check_mode: bool, diff: bool) -> dict:
    """Delete this deployment's objects; the slug's shared Service only when no other deployment of the slug is
    left, decided again after the deletes (a concurrent deploy or undeploy of a sibling may have raced us)."""
    namespace, deployment_id = params["namespace"], params["deployment_id"]
    if not names.is_dns_label(deployment_id):
        raise ValidationError("integration", "deployment_id", "must be a lowercase RFC 1123 label")
    slug = params.get("slug")
    if not slug:
        mine = [o for o in _read(kube, namespace, deployment_selector(deployment_id)) if is_ours(o)]
        slug = next((labels_of(o).get(names.LABEL_SLUG) for o in mine), None)
    actual = _read(kube, namespace, slug_selector(slug) if slug else deployment_selector(deployment_id))
    others = live_siblings(actual, slug, {deployment_id}) if slug else set()
    the_plan = plan_undeploy(actual, deployment_id, slug, len(others))
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
    if check_mode or not the_plan.changed:
        return result
    replica_sets = _replica_set_uids(kube, namespace, deployment_id, actual)
    own = Plan([a for a in the_plan.actions if not is_shared_service(a.actual, slug or "")])
    apply_plan(kube, own)
    if slug:  # decided again: the siblings seen before may have been undeployed meanwhile
        result["objects"] = object_report(own) + _retire_shared_service(kube, namespace, slug, deployment_id)
    if params["wait"]:
        wait_pods_gone(
            kube, namespace, deployment_id, replica_sets, params["wait_timeout"], params["wait_sleep"]
        )
    return result


def _retire_shared_service(kube: Kube, namespace: str, slug: str, deployment_id: str) -> list[dict]:
    """Delete octo-int-<slug> if still no sibling exists; restore it if a sibling appeared meanwhile."""
    name = names.integration_service_name(slug)
    deployments = _read(kube, namespace, slug_selector(slug), kinds=(res.DEPLOYMENT,))
    if live_siblings(deployments, slug, {deployment_id}):
        return []
    shared = kube.get(res.SERVICE, name, namespace)
    if shared is None or not is_ours(shared):
        return []
    kube.delete(res.SERVICE, name, namespace)
    deployments = _read(kube, namespace, slug_selector(slug), kinds=(res.DEPLOYMENT,))
    siblings = live_siblings(deployments, slug, {deployment_id})
    ports = [p for d in deployments if deployment_id_of(d) in siblings and (p := served_port(d)) is not None]
    if ports:
        [restore] = plan([shared_service(namespace, slug, ports[0])], []).actions
        apply_action(kube, restore)
        return []
    return [{"kind": "Service", "name": name, "action": "delete"}]


def _replica_set_uids(kube: Kube, namespace: str, deployment_id: str, actual: list[dict]) -> set[str]:
    """UIDs of the ReplicaSets owned by this deployment's Deployment (read before it is deleted)."""
    deployment = next(
        (
            o
            for o in actual
            if o["kind"] == "Deployment"
            and o["metadata"]["name"] == names.deployment_object_name(deployment_id)
        ),
        None,
    )
    if deployment is None:
        return set()
    uid = deployment["metadata"]["uid"]
    selector = f"{names.LABEL_DEPLOYMENT}={deployment_id}"
    return {
        rs["metadata"]["uid"]
        for rs in kube.list(res.REPLICA_SET, namespace, label_selector=selector)
        if any(ref.get("uid") == uid for ref in rs["metadata"].get("ownerReferences") or [])
    }


def wait_pods_gone(
    kube: Kube, namespace: str, deployment_id: str, replica_sets: set[str], timeout: float, sleep: float
) -> None:
    """After an undeploy, wait (bounded) until the pods of the deployment's ReplicaSets are gone; pods of others
    that merely carry the same label are not waited for."""
    selector = f"{names.LABEL_DEPLOYMENT}={deployment_id}"
    deadline = time.monotonic() + timeout
    while pods := [
        p for p in kube.list(res.POD, namespace, label_selector=selector) if _owned_by_any(p, replica_sets)
    ]:
        if time.monotonic() >= deadline:
            left = ", ".join(sorted(p["metadata"]["name"] for p in pods))
            raise OctoError(
                "undeploy",
                f"deployment {deployment_id}",
                f"pods still present after {timeout}s: {left}",
                changed=True,
            )
        time.sleep(sleep)


def _owned_by_any(pod: dict, uids: set[str]) -> bool:
    return any(ref.get("uid") in uids for ref in pod["metadata"].get("ownerReferences") or [])


def converge(params: dict, check_mode: bool = False, diff: bool = False, kube: Kube | None = None) -> dict:
    kube = kube or Kube(auth_params(params))
    if params["state"] == "absent":
        return absent(kube, params, check_mode, diff)
    return present(kube, params, check_mode, diff)
