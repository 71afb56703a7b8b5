"""Aggregate callback for tests: append every task result (as displayed, so no_log-censored) to a JSON-lines file.

Enabled by tests/support/playbook.py through ANSIBLE_CALLBACKS_ENABLED=task_results; the file is
$OCTO_TASK_RESULTS_FILE.
"""

from __future__ import annotations

import json
import os

from ansible.plugins.callback import CallbackBase

DOCUMENTATION = r"""
name: task_results
type: aggregate
short_description: Write task results to a JSON-lines file (tests only)
description: Appends one JSON object per task result to the file named by E(OCTO_TASK_RESULTS_FILE).
"""


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "task_results"
    CALLBACK_NEEDS_ENABLED = True

    def _write(self, result, status: str) -> None:
        path = os.environ.get("OCTO_TASK_RESULTS_FILE")
        if not path:
            return
        entry = {
            "task": result.task_name or result._task.get_name(),
            "action": result._task.action,
            "host": result._host.get_name(),
            "status": status,
            "result": json.loads(json.dumps(result._result, default=str)),
        }
        with open(path, "a", encoding="utf-8") as handle:
            handle.write(json.dumps(entry) + "\n")

    def v2_runner_on_ok(self, result):
        self._write(result, "changed" if result._result.get("changed") else "ok")

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._write(result, "ignored" if ignore_errors else "failed")

    def v2_runner_on_skipped(self, result):
        self._write(result, "skipped")

    def v2_runner_on_unreachable(self, result):
        self._write(result, "unreachable")
