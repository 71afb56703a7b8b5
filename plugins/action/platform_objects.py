"""Run platform_objects and mark a result holding the rendered Secrets no_log, so their values reach no output."""

from __future__ import annotations

from ansible.plugins.action import ActionBase


class ActionModule(ActionBase):
    _supports_check_mode = True
    _supports_async = False

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        result.update(self._execute_module(module_args=self._task.args, task_vars=task_vars))
        if "definitions" in result:
            result["_ansible_no_log"] = True
        return result
