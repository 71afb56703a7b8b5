"""Controller side of octo.platform.integration: apply, then follow the rollout with live progress lines.

The revision the module recorded as pending gets its result here once the rollout settles. With atomic: true
the module waits itself (it rolls back on failure), so there are no live lines.

With a local connection (the usual way to run Kubernetes modules) the module applies with wait=false and this
plugin follows the rollout itself, in this process, with one API connection for the whole wait, printing
status lines and new events as they happen. With a remote connection the kubeconfig lives on the remote host:
the module then waits there (same follower, no live lines).
"""

from __future__ import annotations

import getpass
import os

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible.module_utils.parsing.convert_bool import boolean
from ansible.plugins.action import ActionBase
from ansible.utils.display import Display

from ansible_collections.octo.platform.plugins.module_utils.common.args import K8S_AUTH, auth_params
from ansible_collections.octo.platform.plugins.module_utils.common.errors import OctoError
from ansible_collections.octo.platform.plugins.module_utils.kube.client import Kube
from ansible_collections.octo.platform.plugins.module_utils.kube.converge import record_rollout
from ansible_collections.octo.platform.plugins.module_utils.kube.revisions import (
    awaits_result,
    settle_reported,
)
from ansible_collections.octo.platform.plugins.module_utils.kube.waiter import follow
from ansible_collections.octo.platform.plugins.plugin_utils.k8s_defaults import with_kubernetes_core_defaults

display = Display()
MODULE = "octo.platform.integration"


class ActionModule(ActionBase):
    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        args = with_kubernetes_core_defaults(self._task, self._templar)
        live = (
            boolean(args.get("wait", True))
            and args.get("state", "present") == "present"
            and not boolean(args.get("atomic", False))  # the module waits, to roll back on failure
            and not self._play_context.check_mode
            and self._connection.transport == "local"
        )
        args.setdefault("actor", getpass.getuser())  # the user running Ansible, recorded in revisions
        module_args = {**args, "wait": False} if live else args
        result.update(self._execute_module(MODULE, module_args=module_args, task_vars=task_vars))
        if not live or result.get("failed"):
            return result  # waited in the module, or failed
        if result.get("rollout", {}).get("state") == "complete":  # rolled out before this run
            return self._settle(result, args)
        return self._follow(result, args, task_vars)

    def _settle(self, result: dict, args: dict) -> dict:
        """The rollout was complete when the module read it: a revision still pending gets its result."""
        if not awaits_result(result):
            return result
        try:
            settle_reported(Kube(self._auth(args)), result)
        except OctoError as err:
            result.setdefault("warnings", []).append(f"revision result not recorded: {err}")
        return result

    def _follow(self, result: dict, args: dict, task_vars: dict) -> dict:
        host = task_vars.get("inventory_hostname", "")
        key = (result["namespace"], result["deployment_id"])
        try:
            kube = Kube(self._auth(args))
            [(status, watch)] = follow(
                kube,
                [key],
                float(args.get("wait_timeout", 300)),
                float(args.get("wait_sleep", 2)),
                on_line=lambda line: display.display(f"[{host}] {line}"),
            ).values()
            record_rollout(result, key, status, watch)
            settle_reported(kube, result)
        except OctoError as err:
            return {**result, "failed": True, "msg": str(err)}
        return result

    def _auth(self, args: dict) -> dict:
        """The module's auth options as the module would resolve them: task args (module_defaults included),
        then the K8S_AUTH_* variables of the task's environment and of this process."""
        environment = dict(os.environ)
        for entry in self._task.environment or []:
            environment.update({k: str(v) for k, v in (self._templar.template(entry) or {}).items()})
        given = {key: args[key] for key in K8S_AUTH if args.get(key) is not None}
        for key, spec in K8S_AUTH.items():
            names = spec.get("fallback", (None, []))[1]
            if key not in given and any(environment.get(name) for name in names):
                given[key] = next(environment[name] for name in names if environment.get(name))
        validated = ArgumentSpecValidator(
            {key: {k: v for k, v in spec.items() if k != "fallback"} for key, spec in K8S_AUTH.items()}
        ).validate(given)
        if validated.error_messages:
            raise OctoError("validate", "the Kubernetes auth options", "; ".join(validated.error_messages))
        return auth_params(validated.validated_parameters)
