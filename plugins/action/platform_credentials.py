"""Run platform_credentials and mark every result holding credentials no_log, so the returned secrets never reach any output."""

from __future__ import annotations

from ansible.plugins.action import ActionBase


class ActionModule(ActionBase):
    _supports_check_mode = True
    _supports_async = False

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        result.update(self._execute_module(module_args=self._task.args, task_vars=task_vars))
        if "credentials" in result:
            result["_ansible_no_log"] = True
        return result
