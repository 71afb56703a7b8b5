"""The deploy gate's records in the cluster: a ConfigMap per token jti (replay), one per action (last result).

A jti record is created with a plain create: AlreadyExists means the jti was seen before, by any action.
"""

from __future__ import annotations

import json
import time

from ansible_collections.octo.platform.plugins.module_utils.auth.pins import require_action
from ansible_collections.octo.platform.plugins.module_utils.common.args import auth_params
from ansible_collections.octo.platform.plugins.module_utils.common.errors import ValidationError
from ansible_collections.octo.platform.plugins.module_utils.kube.client import ApiError, Kube
from ansible_collections.octo.platform.plugins.module_utils.kube.resources import CONFIG_MAP

MANAGED_BY = {"app.kubernetes.io/managed-by": "octo.platform"}
RECORD_LABEL = "octo.dev/record"
ACTION_LABEL = "octo.dev/action"
JTI_PREFIX = "octo-jti-"
RESULT_PREFIX = "octo-deploy-result-"
SUMMARY_FIELDS = ("slug", "deployment_id", "namespace", "changed", "failed", "msg")
# What a deploy result records (the deploy_result module's options).
RESULT_FIELDS = (
    "action",
    "actor",
    "repository",
    "sha",
    "run_id",
    "started",
    "finished",
    "outcome",
    "integrations",
)


class ClusterReplay:
    """Replay records as ConfigMaps of one namespace (see auth.replay for the protocol)."""

    def __init__(self, kube, namespace: str):
        self.kube = kube
        self.namespace = namespace

    def _name(self, key: str) -> str:
        return JTI_PREFIX + key[:48]

    def seen(self, key: str) -> dict | None:
        found = self.kube.get(CONFIG_MAP, self._name(key), self.namespace)
        return dict(found.get("data") or {}) if found else None

    def record(self, key: str, entry: dict) -> dict | None:
        obj = {
            **CONFIG_MAP.header,
            "metadata": {
                "name": self._name(key),
                "namespace": self.namespace,
                "labels": {**MANAGED_BY, RECORD_LABEL: "jti"},
            },
            "data": {k: str(v) for k, v in entry.items()},
        }
        try:
            self.kube.create(CONFIG_MAP, obj)
        except ApiError as err:
            if err.status != 409:
                raise
            return self.seen(key) or {}
        return None

    def prune(self, now: float, limit: int) -> int:
        pruned = 0
        for item in self.kube.list(CONFIG_MAP, self.namespace, label_selector=f"{RECORD_LABEL}=jti"):
            if pruned >= limit:
                break
            expires = (item.get("data") or {}).get("expires", "0")
            if expires.isdigit() and int(expires) < now:
                self.kube.delete(CONFIG_MAP, item["metadata"]["name"], self.namespace)
                pruned += 1
        return pruned


def write_result(kube, namespace: str, action: str, record: dict, check_mode: bool) -> bool:
    """Store an action's last result (server-side apply); True when it differs from the stored one."""
    name = RESULT_PREFIX + action
    text = json.dumps(record, sort_keys=True)
    current = kube.get(CONFIG_MAP, name, namespace)
    if current and (current.get("data") or {}).get("result.json") == text:
        return False
    if not check_mode:
        obj = {
            **CONFIG_MAP.header,
            "metadata": {
                "name": name,
                "namespace": namespace,
                "labels": {**MANAGED_BY, RECORD_LABEL: "deploy-result", ACTION_LABEL: action},
            },
            "data": {"result.json": text},
        }
        kube.apply(CONFIG_MAP, obj)
    return True


def read_results(kube, namespace: str) -> dict:
    """The last result of each action recorded in the namespace, by action name."""
    results = {}
    for item in kube.list(CONFIG_MAP, namespace, label_selector=f"{RECORD_LABEL}=deploy-result"):
        action = item["metadata"].get("labels", {}).get(ACTION_LABEL)
        try:
            results[action] = json.loads((item.get("data") or {}).get("result.json", ""))
        except ValueError:
            continue
    return results


OUTCOMES = ("succeeded", "failed")


def record(params: dict, check_mode: bool, diff: bool) -> dict:
    """deploy_result: store the action's result (what the caller passes, plus the action name)."""
    action = require_action(params["action"], "the deploy result")
    if params["outcome"] not in OUTCOMES:
        raise ValidationError("the deploy result", "outcome", f"must be one of {', '.join(OUTCOMES)}")
    entry = {key: params[key] for key in RESULT_FIELDS if key != "integrations"}
    entry["finished"] = entry["finished"] or time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    entry["integrations"] = [_summary(item) for item in params["integrations"]]
    kube = Kube(auth_params(params))
    changed = write_result(kube, params["namespace"], action, entry, check_mode)
    return {"changed": changed, "namespace": params["namespace"], "result": entry}


def _summary(item: dict) -> dict:
    """One integration's line of a deploy result."""
    summary = {key: item[key] for key in SUMMARY_FIELDS if key in item}
    rollout = item.get("rollout")
    if isinstance(rollout, dict) and rollout.get("state"):
        summary["rollout"] = rollout["state"]
    return summary


def status(params: dict, check_mode: bool, diff: bool) -> dict:
    """deploy_status_info: the last result per action (one action when ``action`` is given).

    Returned as ``actions``: ansible-core treats a ``results`` key as a loop's results.
    """
    results = read_results(Kube(auth_params(params)), params["namespace"])
    if params.get("action"):
        results = {k: v for k, v in results.items() if k == params["action"]}
    return {"changed": False, "namespace": params["namespace"], "actions": results}
