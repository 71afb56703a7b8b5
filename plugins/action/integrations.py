"""Controller side of octo.platform.integrations: converge, then follow every rollout with live aggregate lines.

group/kubernetes.core.k8s module defaults apply (plugin_utils.k8s_defaults). With a local connection the module
converges with wait=false and this plugin follows the rollouts it left pending, in this process, over one API
connection (one LIST per kind and namespace per poll, whatever N is), printing an aggregate line when it
changes (``120/200 ready, 3 rolling, 1 failing: orders/prod ImagePullBackOff``) and the new Warning events of
failing items. With a remote connection the module waits on that host (same follower, no live lines).
"""

from __future__ import annotations

from ansible.module_utils.parsing.convert_bool import boolean
from ansible.utils.display import Display

from ansible_collections.octo.platform.plugins.action.integration import ActionModule as SingleAction
from ansible_collections.octo.platform.plugins.module_utils.common.errors import OctoError
from ansible_collections.octo.platform.plugins.module_utils.kube.client import Kube
from ansible_collections.octo.platform.plugins.module_utils.kube.converge import record_rollout
from ansible_collections.octo.platform.plugins.module_utils.kube.revisions import (
    awaits_result,
    settle_all_reported,
)
from ansible_collections.octo.platform.plugins.module_utils.kube.waiter import follow
from ansible_collections.octo.platform.plugins.module_utils.render import names
from ansible_collections.octo.platform.plugins.plugin_utils.k8s_defaults import with_kubernetes_core_defaults

display = Display()
FAILING_NAMED = 3  # failing items named in the aggregate line; the rest are counted


class Progress:
    """The aggregate state of a bulk rollout; prints a line when it changes, and failing items' new warnings."""

    def __init__(self, results: list[dict], emit):
        self._emit = emit
        self._last = None
        self._label = {
            (r["namespace"], r["deployment_id"]): f"{r['slug']}/{r['deployment_id']}" for r in results
        }
        self._state = {key: "rolling" for key in self._label}
        self._reason: dict = {}
        for r in results:
            key = (r["namespace"], r["deployment_id"])
            if r["failed"]:
                self._state[key], self._reason[key] = "failing", r.get("outcome", "failed")
            elif r.get("rollout", {}).get("state") == "complete":
                self._state[key] = "ready"

    def line(self) -> str:
        counts = {
            state: sum(s == state for s in self._state.values()) for state in ("ready", "rolling", "failing")
        }
        line = f"{counts['ready']}/{len(self._state)} ready, {counts['rolling']} rolling, {counts['failing']} failing"
        failing = sorted(key for key, state in self._state.items() if state == "failing")
        if not failing:
            return line
        named = ", ".join(f"{self._label[k]} {self._reason[k]}" for k in failing[:FAILING_NAMED])
        more = len(failing) - FAILING_NAMED
        return f"{line}: {named}" + (f" and {more} more" if more > 0 else "")

    def show(self) -> None:
        line = self.line()
        if line != self._last:
            self._last = line
            self._emit(line)

    def on_poll(self, observed: dict) -> None:
        for key, (status, _watch) in observed.items():
            if status.state == "complete":
                self._state[key] = "ready"
            elif status.state == "failed":
                self._state[key], self._reason[key] = "failing", status.reason or "failed"
        self.show()
        for key, (status, new_events) in sorted(observed.items()):
            if status.state != "failed":
                continue
            for event in (e for e in new_events if e["type"] == "Warning"):
                self._emit(
                    f"{self._label[key]}: Warning {event['reason']} {event['object']}: {event['message']}"
                )


class ActionModule(SingleAction):
    """Runs octo.platform.integrations; follows its rollouts on the controller with a local connection."""

    def run(self, tmp=None, task_vars=None):
        result = super(SingleAction, self).run(tmp, task_vars)
        args = with_kubernetes_core_defaults(self._task, self._templar)
        live = (
            boolean(args.get("wait", True))
            and not any(
                boolean(i.get("atomic", False)) for i in args.get("integrations") or [] if isinstance(i, dict)
            )
            and not self._play_context.check_mode
            and self._connection.transport == "local"
        )
        module_args = {**args, "wait": False} if live else args
        result.update(
            self._execute_module(self._task.resolved_action, module_args=module_args, task_vars=task_vars)
        )
        items = result.get("integrations") or []
        pending = [
            (r["namespace"], r["deployment_id"]) for r in items if not r["failed"] and "rollout" not in r
        ]
        if not live:
            return result
        if pending:
            self._follow_all(result, pending, args, task_vars)
        self._settle_all(result, items, args)
        return summarize(result) if pending else result

    def _settle_all(self, result: dict, items: list, args: dict) -> None:
        """Revisions still pending whose rollout this run saw (followed, or complete before it) get their result."""
        settled = [r for r in items if awaits_result(r)]
        if not settled:
            return
        try:
            kube = Kube(self._auth(args))
        except OctoError as err:
            result.setdefault("warnings", []).append(f"revision results not recorded: {err}")
            return
        settle_all_reported(kube, settled, int(args.get("parallel", 4)))

    def _follow_all(self, result: dict, pending: list, args: dict, task_vars: dict) -> None:
        host = task_vars.get("inventory_hostname", "")
        items = result["integrations"]
        progress = Progress(items, lambda line: display.display(f"[{host}] {line}"))
        progress.show()
        try:
            kube = Kube(self._auth(args))
            finished = follow(
                kube,
                pending,
                float(args.get("wait_timeout", 300)),
                float(args.get("wait_sleep", 2)),
                on_poll=progress.on_poll,
            )
        except OctoError as err:
            for r in (r for r in items if (r["namespace"], r["deployment_id"]) in pending):
                ref = f"{r['namespace']}/{names.deployment_object_name(r['deployment_id'])}"
                r.update(
                    failed=True,
                    msg=f"Failed to follow the rollout of Deployment {ref}: {err.reason}",
                    rollout={"state": "unknown", "message": err.reason},
                )
            return
        by_key = {(r["namespace"], r["deployment_id"]): r for r in items}
        for key, (status, watch) in finished.items():
            record_rollout(by_key[key], key, status, watch)


def summarize(result: dict) -> dict:
    """The call's summary and failure as the module reports them when it waits itself."""
    items = result["integrations"]
    failed = [r for r in items if r["failed"]]
    result["summary"] = {**result.get("summary", {}), "failed": len(failed)}
    if failed:
        reasons = "; ".join(f"{r['slug']}/{r['deployment_id']}: {r['msg']}" for r in failed)
        result.update(
            failed=True, msg=f"Failed to converge {len(failed)} of {len(items)} integrations: {reasons}"
        )
    return result
