"""The `integration_secret` operations: write-only keys of octo-secrets, its catalog, and rolling the users.

Each key is written with a merge patch that touches only that key and its catalog annotation, so writers of
different keys never lose each other's keys. Values are compared in memory and never returned.
"""

from __future__ import annotations

import getpass
import socket
from datetime import UTC, datetime

from ansible_collections.octo.platform.plugins.module_utils.common.args import auth_params
from ansible_collections.octo.platform.plugins.module_utils.common.errors import ValidationError
from ansible_collections.octo.platform.plugins.module_utils.kube import resources as res
from ansible_collections.octo.platform.plugins.module_utils.kube.client import ApiError, Kube
from ansible_collections.octo.platform.plugins.module_utils.kube.converge import ensure_namespace
from ansible_collections.octo.platform.plugins.module_utils.kube.waiter import label_selector
from ansible_collections.octo.platform.plugins.module_utils.render import names, secrets

ROLL_MANAGER = "octo.platform-secrets"


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _actor(params: dict) -> str:
    return params.get("actor") or f"{getpass.getuser()}@{socket.gethostname()}"


def _managed_deployments(kube: Kube, namespace: str) -> list[dict]:
    selector = label_selector({names.LABEL_MANAGED_BY: names.MANAGED_BY})
    return kube.list(res.DEPLOYMENT, namespace, label_selector=selector)


def _validate(params: dict) -> tuple[dict, list]:
    values = {key: str(value) for key, value in (params.get("values") or {}).items()}
    remove = list(params.get("remove") or [])
    secrets.validate_keys(values, "values")
    secrets.validate_keys(remove, "remove")
    both = sorted(set(values) & set(remove))
    if both:
        raise ValidationError("integration secret", "remove", f"key(s) {', '.join(both)} are also in values")
    return values, remove


def _write(kube: Kube, namespace: str, secret: dict | None, changes, values, catalog, now, actor) -> None:
    moving = [c for c in changes if c.op != "none"]
    if secret is None:
        data, annotations = {}, {}
        for change in moving:
            patch = secrets.key_patch(change, values[change.key], secrets.catalog_entry(None, now, actor))
            data.update(patch["data"])
            annotations.update(patch["metadata"]["annotations"])
        body = {
            "apiVersion": "v1",
            "kind": "Secret",
            "type": "Opaque",
            "metadata": {"name": names.SECRETS_NAME, "namespace": namespace, "annotations": annotations},
            "data": data,
        }
        try:
            kube.create(res.SECRET, body)
            return
        except ApiError as err:
            if err.status != 409:  # created meanwhile by another writer: patch our keys into it
                raise
    for change in moving:
        entry = secrets.catalog_entry(catalog.get(change.key), now, actor)
        patch = secrets.key_patch(change, values.get(change.key), entry)
        kube.merge_patch(res.SECRET, names.SECRETS_NAME, namespace, patch)


def _roll(kube: Kube, namespace: str, deployment_names: list[str], now: str) -> None:
    patch = {"spec": {"template": {"metadata": {"annotations": {secrets.ROTATED_AT: now}}}}}
    for name in deployment_names:
        kube.merge_patch(res.DEPLOYMENT, name, namespace, patch, manager=ROLL_MANAGER)


def converge(params: dict, check_mode: bool = False, diff: bool = False, kube: Kube | None = None) -> dict:
    values, remove = _validate(params)
    namespace = params["namespace"]
    kube = kube or Kube(auth_params(params))
    secret = kube.get(res.SECRET, names.SECRETS_NAME, namespace)
    changes = secrets.plan_keys((secret or {}).get("data") or {}, values, remove)
    deleted = [c.key for c in changes if c.op == "delete"]
    rotated = [c.key for c in changes if c.op == "update"]
    deployments = _managed_deployments(kube, namespace) if deleted or rotated else []
    still_bound = secrets.deployments_using(deployments, deleted)
    if still_bound and not params["force"]:
        raise ValidationError(
            "integration secret",
            "remove",
            f"key(s) {', '.join(deleted)} still bound by {', '.join(still_bound)} (undeploy them or set force)",
        )
    to_roll = secrets.deployments_using(deployments, rotated) if params["roll"] else []
    changed = any(c.op != "none" for c in changes)
    result = {
        "changed": changed,
        "namespace": namespace,
        "keys": [{"key": c.key, "action": c.op} for c in changes],
        "rolled": to_roll,
    }
    if diff:
        result["diff"] = secrets.diff_text(changes) if changed else {}
    if check_mode or not changed:
        return result
    now, actor = _now(), _actor(params)
    ensure_namespace(kube, namespace, check_mode=False)
    _write(kube, namespace, secret, changes, values, secrets.read_catalog(secret), now, actor)
    _roll(kube, namespace, to_roll, now)
    return result


def info(params: dict, check_mode: bool = False, diff: bool = False, kube: Kube | None = None) -> dict:
    kube = kube or Kube(auth_params(params))
    secret = kube.get(res.SECRET, names.SECRETS_NAME, params["namespace"])
    catalog = secrets.read_catalog(secret)
    entries = [
        {"name": key, **{k: meta.get(k) for k in ("created", "updated", "by")}}
        for key, meta in catalog.items()
    ]
    return {"changed": False, "namespace": params["namespace"], "secrets": entries}
