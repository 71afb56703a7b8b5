"""The `integration_secret` operations: write-only keys of octo-secrets, its catalog, and rolling the users.

Each key is written with a merge patch that touches only that key and its catalog annotation, so writers of
different keys never lose each other's keys. Values are compared in memory and never returned. Which deployments
roll is derived from the catalog and the pod templates (see render.secrets.needs_roll), so a roll that a run
missed (interrupted, or ``roll: false``) is done by the next run.
"""

from __future__ import annotations

import getpass
import secrets as pysecrets
import socket
from datetime import datetime, timezone

from ansible_collections.octo.platform.plugins.module_utils.common.args import auth_params
from ansible_collections.octo.platform.plugins.module_utils.common.errors import ValidationError
from ansible_collections.octo.platform.plugins.module_utils.kube import resources as res
from ansible_collections.octo.platform.plugins.module_utils.kube.client import ApiError, Kube
from ansible_collections.octo.platform.plugins.module_utils.kube.converge import create_namespace
from ansible_collections.octo.platform.plugins.module_utils.kube.waiter import label_selector
from ansible_collections.octo.platform.plugins.module_utils.render import names, secrets

ROLL_MANAGER = "octo.platform-secrets"


def _now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")  # noqa: UP017 - datetime.UTC is 3.11+


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


def _planned_catalog(
    secret: dict | None, changes, now: str, actor: str, deployments: list
) -> dict[str, dict]:
    """The catalog once this run's writes are done: each written key gets a fresh write id and its readers."""
    catalog = secrets.read_catalog(secret)
    for change in changes:
        if change.op in ("create", "update"):
            readers = secrets.readers_of(deployments, change.key)
            catalog[change.key] = secrets.catalog_entry(
                catalog.get(change.key), now, actor, pysecrets.token_hex(8), readers
            )
        elif change.op == "delete":
            catalog.pop(change.key, None)
    return catalog


def _write(kube: Kube, namespace: str, secret: dict | None, changes, values, catalog) -> None:
    moving = [c for c in changes if c.op != "none"]
    if secret is None:
        data, annotations = {}, {}
        for change in moving:
            patch = secrets.key_patch(change, values[change.key], catalog[change.key])
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
        patch = secrets.key_patch(change, values.get(change.key), catalog.get(change.key))
        kube.merge_patch(res.SECRET, names.SECRETS_NAME, namespace, patch)


def converge(params: dict, check_mode: bool = False, diff: bool = False, kube: Kube | None = None) -> dict:
    values, remove = _validate(params)
    namespace = params["namespace"]
    kube = kube or Kube(auth_params(params))
    secret = kube.get(res.SECRET, names.SECRETS_NAME, namespace)
    changes = secrets.plan_keys((secret or {}).get("data") or {}, values, remove)
    deleted = [c.key for c in changes if c.op == "delete"]
    deployments = _managed_deployments(kube, namespace) if values or deleted else []
    still_bound = secrets.deployments_using(deployments, deleted)
    if still_bound and not params["force"]:
        raise ValidationError(
            "integration secret",
            "remove",
            f"key(s) {', '.join(deleted)} still bound by {', '.join(still_bound)} (undeploy them or set force)",
        )
    catalog = _planned_catalog(secret, changes, _now(), _actor(params), deployments)
    to_roll = [dep for dep in deployments if params["roll"] and secrets.needs_roll(dep, catalog, values)]
    rolled = sorted(dep["metadata"]["name"] for dep in to_roll)
    changed = any(c.op != "none" for c in changes) or bool(to_roll)
    result = {
        "changed": changed,
        "namespace": namespace,
        "key_actions": [{"key": c.key, "action": c.op} for c in changes],
        "rolled": rolled,
    }
    # An existing Secret means an existing namespace; a missing one is created, and the result says so.
    new_namespace = changed and secret is None and kube.get(res.NAMESPACE, namespace) is None
    if new_namespace:
        result["namespace_created"] = True
    if diff:
        result["diff"] = secrets.diff_text(changes, rolled) if changed else {}
    if check_mode or not changed:
        return result
    if new_namespace:
        create_namespace(kube, namespace)
    _write(kube, namespace, secret, changes, values, catalog)
    for dep in to_roll:
        patch = secrets.roll_patch(dep, catalog)
        kube.merge_patch(res.DEPLOYMENT, dep["metadata"]["name"], namespace, patch, manager=ROLL_MANAGER)
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
