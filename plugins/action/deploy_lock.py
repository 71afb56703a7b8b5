"""Controller side of octo.platform.deploy_lock: the bounded wait for a busy lock, a line per attempt.

Each attempt is one run of the module (any connection); while another holder's Lease is live, this plugin
prints who holds it and for how long, sleeps wait_sleep and tries again until wait_timeout.
"""

from __future__ import annotations

import time

from ansible.module_utils.parsing.convert_bool import boolean
from ansible.plugins.action import ActionBase
from ansible.utils.display import Display

from ansible_collections.octo.platform.plugins.plugin_utils.k8s_defaults import with_kubernetes_core_defaults

display = Display()


class ActionModule(ActionBase):
    """Runs octo.platform.deploy_lock until it holds the lock, the wait times out, or the module fails."""

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        args = with_kubernetes_core_defaults(self._task, self._templar)
        waiting = (
            boolean(args.get("wait", True))
            and args.get("state", "present") == "present"
            and not self._play_context.check_mode
        )
        timeout = float(args.get("wait_timeout", 900))
        pause = max(float(args.get("wait_sleep", 5)), 0.5)
        host = (task_vars or {}).get("inventory_hostname", "")
        started = time.monotonic()
        while True:
            answer = self._execute_module(self._task.resolved_action, module_args=args, task_vars=task_vars)
            elapsed = time.monotonic() - started
            if answer.get("failed") or answer.get("acquired", True) or not waiting:
                break
            if elapsed + pause > timeout:
                answer = _timed_out(answer, elapsed, timeout)
                break
            display.display(
                f"[{host}] deploy lock of namespace {answer['namespace']} is held by {answer['holder']};"
                f" waiting ({elapsed:.0f}s of {timeout:.0f}s)"
            )
            time.sleep(pause)
        if "acquired" in answer:
            answer["waited"] = round(elapsed, 1)
        result.update(answer)
        return result


def _timed_out(answer: dict, elapsed: float, timeout: float) -> dict:
    return {
        **answer,
        "failed": True,
        "changed": False,
        "msg": f"Failed to take the deploy lock of namespace {answer['namespace']}: held by {answer['holder']};"
        f" waited {elapsed:.0f}s (wait_timeout {timeout:.0f}s)",
    }
