"""Controller side of the Kubernetes modules: kubernetes.core's module defaults group applies to them too.

ansible-core applies a ``module_defaults`` group only to the modules its collection lists, so
``group/kubernetes.core.k8s`` never reaches this collection's modules on its own (``extend_group`` works the
other way round: it would add kubernetes.core's modules to ``group/octo.platform.k8s``). These action plugins
read that group's connection options and namespace and pass those the task does not set. Precedence: task
arguments, then this collection's module and group defaults (already merged by ansible-core), then
``group/kubernetes.core.k8s``.
"""

from __future__ import annotations

from ansible.plugins.action import ActionBase

from ansible_collections.octo.platform.plugins.module_utils.common.args import K8S_AUTH

KUBERNETES_CORE_GROUP = "group/kubernetes.core.k8s"
# Each shared option with all its names (aliases included), as kubernetes.core's modules accept them too.
SHARED = {
    **{option: (option, *spec.get("aliases", ())) for option, spec in K8S_AUTH.items()},
    "namespace": ("namespace",),
}


def with_kubernetes_core_defaults(task, templar) -> dict:
    """The task's arguments plus the group/kubernetes.core.k8s defaults of the options it leaves unset."""
    group = {}
    for defaults in task.module_defaults or []:
        group.update(defaults.get(KUBERNETES_CORE_GROUP) or {})
    args = dict(task.args)
    if not group:
        return args
    group = templar.template(group)
    for names in SHARED.values():
        if any(name in args for name in names):
            continue
        given = [name for name in names if name in group]
        if given:
            args[given[0]] = group[given[0]]
    return args


class KubernetesModuleAction(ActionBase):
    """Runs the module of the task with its arguments completed by with_kubernetes_core_defaults."""

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        args = with_kubernetes_core_defaults(self._task, self._templar)
        result.update(self._execute_module(self._task.resolved_action, module_args=args, task_vars=task_vars))
        return result
