"""The deploy lock: one coordination.k8s.io Lease per namespace, written with resourceVersion preconditions.

One attempt per call: take a free lock, renew ours, take over one whose holder stopped renewing past its
TTL, or report the holder. A 409 (another run wrote first) means busy. The wait loop lives in the action
plugin, which prints a line per attempt naming the holder.
"""

from __future__ import annotations

import time

from ansible_collections.octo.platform.plugins.module_utils.common.args import auth_params
from ansible_collections.octo.platform.plugins.module_utils.common.errors import OctoError, ValidationError
from ansible_collections.octo.platform.plugins.module_utils.kube.client import ApiError, Kube
from ansible_collections.octo.platform.plugins.module_utils.kube.converge import create_namespace
from ansible_collections.octo.platform.plugins.module_utils.render import lease as plan
from ansible_collections.octo.platform.plugins.module_utils.render.lease import LEASE, LOCK_NAME

MIN_TTL = 10
MAX_TTL = 86400
MAX_HOLDER = 128


def attempt(kube, namespace: str, holder: str, ttl: int, now: float, check_mode: bool, retry=True) -> dict:
    """{acquired, outcome (take/renew/takeover/busy), holder, previous_holder, expires_in}; one retry on 409."""
    lease = kube.get(LEASE, LOCK_NAME, namespace)
    current = plan.holding(lease)
    outcome = plan.decide(current, holder, now)
    result = {
        "acquired": outcome != "busy",
        "outcome": outcome,
        "previous_holder": current and current.holder,
    }
    if outcome == "busy":
        return {**result, "holder": plan.describe(current, now), "holder_identity": current.holder}
    if not check_mode:
        obj = plan.lease_object(namespace, holder, ttl, now, current, lease)
        try:
            if lease is None:
                _create(kube, obj, namespace)
            else:
                kube.request("PUT", LEASE.path(namespace, LOCK_NAME), body=obj, what=f"Lease {LOCK_NAME}")
        except ApiError as err:
            if err.status != 409 or not retry:
                raise
            return attempt(
                kube, namespace, holder, ttl, now, check_mode, retry=False
            )  # the other writer now holds it
    return {**result, "holder": holder, "holder_identity": holder, "expires_in": ttl}


def release(kube, namespace: str, holder: str, check_mode: bool, retry=True) -> dict:
    """Delete the Lease if ``holder`` holds it (conditional on its resourceVersion); else leave it."""
    lease = kube.get(LEASE, LOCK_NAME, namespace)
    current = plan.holding(lease)
    if current is None or current.holder != holder:
        return {"released": False, "holder_identity": current and current.holder}
    if not check_mode:
        try:
            kube.request(
                "DELETE",
                LEASE.path(namespace, LOCK_NAME),
                body={"preconditions": {"resourceVersion": lease["metadata"]["resourceVersion"]}},
                what=f"Lease {LOCK_NAME}",
            )
        except ApiError as err:
            if err.status != 409 or not retry:
                raise
            return release(kube, namespace, holder, check_mode, retry=False)
    return {"released": True, "holder_identity": None}


def _create(kube, obj: dict, namespace: str) -> None:
    """Create the Lease, and its namespace first when a first deploy targets a new one (404)."""
    try:
        kube.create(LEASE, obj)
    except ApiError as err:
        if err.status != 404:
            raise
        create_namespace(kube, namespace)
        kube.create(LEASE, obj)


def _validated(params: dict) -> tuple[str, str, int]:
    what = f"the deploy lock of namespace {params['namespace']}"
    holder = params["holder"]
    if not holder or len(holder) > MAX_HOLDER:
        raise ValidationError(what, "holder", f"must be 1 to {MAX_HOLDER} characters")
    if not MIN_TTL <= params["ttl"] <= MAX_TTL:
        raise ValidationError(what, "ttl", f"must be between {MIN_TTL} and {MAX_TTL} seconds")
    return what, holder, params["ttl"]


def lock(params: dict, check_mode: bool, diff: bool) -> dict:
    """state=present: one attempt to take or renew; busy fails fast unless wait (the action plugin retries)."""
    what, holder, ttl = _validated(params)
    kube = Kube(auth_params(params))
    namespace = params["namespace"]
    if params["state"] == "absent":
        released = release(kube, namespace, holder, check_mode)
        return {"changed": released["released"], "namespace": namespace, **released}
    result = attempt(kube, namespace, holder, ttl, time.time(), check_mode)
    if not result["acquired"] and not params["wait"]:
        raise OctoError(
            "take", what, f"held by {result['holder']}", holder_identity=result["holder_identity"]
        )
    return {"changed": result["acquired"], "namespace": namespace, **result}
