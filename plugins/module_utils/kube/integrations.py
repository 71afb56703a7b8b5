"""The `integrations` operation: validate and render every item, then converge them as one set."""

from __future__ import annotations

from ansible_collections.octo.platform.plugins.module_utils.common.args import auth_params
from ansible_collections.octo.platform.plugins.module_utils.common.errors import ItemFailed, OctoError
from ansible_collections.octo.platform.plugins.module_utils.common.integration_args import SHARED
from ansible_collections.octo.platform.plugins.module_utils.kube.client import Kube
from ansible_collections.octo.platform.plugins.module_utils.kube.converge import converge_set
from ansible_collections.octo.platform.plugins.module_utils.kube.integration import resolve


def render_all(params: dict, kube: Kube | None = None, policies: dict | None = None) -> list:
    """Every item rendered, or the first bad one named by position, slug and id; nothing is written yet.
    ``policies`` (when given) gets each item's revision policy; ``kube`` reads the revisions that
    rollback_to and promote_from name."""
    rendered = []
    for index, item in enumerate(params["integrations"]):
        merged = {**{key: params[key] for key in SHARED}, **{k: v for k, v in item.items() if v is not None}}
        where = f"integrations[{index}] ({item.get('slug')}/{item.get('deployment_id')})"
        try:
            one, policy = resolve(kube, merged)
        except OctoError as err:
            raise OctoError(err.verb, where, err.reason, **err.details) from err
        rendered.append(one)
        if policies is not None:
            policies[(one.request.namespace, one.request.deployment_id)] = policy
    return rendered


def converge(params: dict, check_mode: bool = False, diff: bool = False, kube: Kube | None = None) -> dict:
    kube = kube or Kube(auth_params(params))
    policies: dict = {}
    items = render_all(params, kube, policies)
    results = converge_set(
        kube,
        items,
        check_mode=check_mode,
        diff=diff,
        wait=params["wait"],
        wait_timeout=params["wait_timeout"],
        wait_sleep=params["wait_sleep"],
        parallel=params["parallel"],
        policies=policies,
    )
    failed = [r for r in results if r["failed"]]
    result = {
        "changed": any(r["changed"] for r in results),
        "integrations": results,
        "summary": {
            "total": len(results),
            "changed": sum(r["changed"] for r in results),
            "failed": len(failed),
        },
        "api_requests": dict(kube.requests),
    }
    warnings = [f"{r['slug']}/{r['deployment_id']}: {w}" for r in results for w in r.pop("warnings", [])]
    if warnings:
        result["warnings"] = warnings
    if diff:
        result["diff"] = [entry for r in results for entry in r.pop("diff", [])]
    if failed:
        reasons = "; ".join(f"{r['slug']}/{r['deployment_id']}: {r['msg']}" for r in failed)
        raise ItemFailed(
            f"Failed to converge {len(failed)} of {len(results)} integrations: {reasons}", **result
        )
    return result
