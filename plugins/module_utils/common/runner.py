"""Run a module's operation and turn its outcome into exit_json/fail_json keyword arguments."""

from __future__ import annotations

from dataclasses import dataclass, field

from ansible_collections.octo.platform.plugins.module_utils.common.errors import OctoError


@dataclass
class Outcome:
    failed: bool
    result: dict = field(default_factory=dict)


def run(operation, module) -> Outcome:
    """Call ``operation(params, check_mode=..., diff=...)``; an OctoError becomes a failed Outcome.

    The operation returns the result dict (with ``changed``). Only the module's main() reports it.
    """
    try:
        result = operation(module.params, check_mode=module.check_mode, diff=module._diff)
    except OctoError as err:
        return Outcome(True, {"msg": str(err), "changed": False, **err.details})
    return Outcome(False, result)
