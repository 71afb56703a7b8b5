"""Controller side of octo.platform.integration: apply, then follow the rollout with live progress lines.

The module applies with wait=false; this plugin then polls octo.platform.integration_info (which evaluates
the same pure rollout predicates) and prints status lines and new events as they happen.
"""

from __future__ import annotations

import time

from ansible.module_utils.parsing.convert_bool import boolean
from ansible.plugins.action import ActionBase
from ansible.utils.display import Display

from ansible_collections.octo.platform.plugins.module_utils.common.args import K8S_AUTH_KEYS
from ansible_collections.octo.platform.plugins.module_utils.kube.waiter import Watch
from ansible_collections.octo.platform.plugins.module_utils.render import names, rollout

display = Display()
MODULE = "octo.platform.integration"
INFO_MODULE = "octo.platform.integration_info"
GONE = {"rollout": {"state": "failed", "message": "the Deployment is gone", "reason": "NotFound"}}


class ActionModule(ActionBase):
    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        args = dict(self._task.args)
        live = boolean(args.get("wait", True)) and args.get("state", "present") == "present"
        if not live or self._play_context.check_mode:
            result.update(self._execute_module(MODULE, module_args=args, task_vars=task_vars))
            return result
        result.update(self._execute_module(MODULE, module_args={**args, "wait": False}, task_vars=task_vars))
        if result.get("failed") or result.get("rollout", {}).get("state") == "complete":
            return result  # nothing to follow: failed, or already rolled out before this run
        return self._follow(result, args, task_vars)

    def _follow(self, result, args, task_vars):
        host = task_vars.get("inventory_hostname", "")
        timeout = int(args.get("wait_timeout", 300))
        sleep = float(args.get("wait_sleep", 2))
        info_args = {key: args[key] for key in K8S_AUTH_KEYS if args.get(key) is not None}
        info_args.update(namespace=result["namespace"], deployment_id=result["deployment_id"], events=True)
        name = names.deployment_object_name(result["deployment_id"])
        watch = Watch(name, on_line=lambda line: display.display(f"[{host}] {line}"))
        while True:
            answer = self._execute_module(INFO_MODULE, module_args=info_args, task_vars=task_vars)
            if answer.get("failed"):
                return {**result, "failed": True, "msg": answer.get("msg")}
            entry = (answer.get("deployments") or [GONE])[0]
            status = rollout.RolloutStatus(
                **{"desired": 0, "updated": 0, "ready": 0, "available": 0, **entry["rollout"]}
            )
            if not status.done and watch.elapsed >= timeout:
                status = rollout.timed_out(status, timeout)
            watch.record({"status": status, "events": entry.get("events", [])})
            if status.done:
                break
            time.sleep(sleep)
        result.update(rollout=status.as_dict(), timeline=watch.timeline, events=entry.get("events", []))
        if status.state == "failed":
            result["failed"] = True
            result["msg"] = (
                f"Failed to roll out Deployment {result['namespace']}/{name}: {status.reason}: {status.message}"
            )
        return result
