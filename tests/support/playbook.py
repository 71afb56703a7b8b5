"""Run a list of tasks through a real ``ansible-playbook`` against localhost and collect the results.

    run = run_tasks([{"name": "ping", "ansible.builtin.ping": {}}], check=True, diff=True, verbosity=3)
    assert run.rc == 0 and run.task("ping")["status"] == "ok"

Uses the repository ansible.cfg (so ``octo.platform.*`` resolves from the working tree), a localhost inventory
with the interpreter running the tests, and the task_results callback to record every task result as displayed
(no_log results are censored there as on screen). ``output`` is stdout + stderr for grepping.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]
CALLBACKS = Path(__file__).resolve().parent / "callback_plugins"
VENV_BIN = Path(sys.executable).parent  # the ansible of the Python running the tests


@dataclass
class PlaybookRun:
    rc: int
    stdout: str
    stderr: str
    results: list[dict] = field(default_factory=list)
    playbook: str = ""

    @property
    def output(self) -> str:
        return self.stdout + self.stderr

    def task(self, name: str, host: str = "localhost") -> dict:
        """The (last) result entry {task, action, host, status, result} of the task called name."""
        found = [r for r in self.results if r["task"] == name and r["host"] == host]
        if not found:
            raise KeyError(f"no result for task {name!r}; tasks run: {[r['task'] for r in self.results]}")
        return found[-1]

    def statuses(self) -> list[str]:
        return [r["status"] for r in self.results]


def ansible_bin(name: str) -> str:
    local = VENV_BIN / name
    return str(local) if local.exists() else name


def run_tasks(
    tasks: list[dict],
    *,
    check: bool = False,
    diff: bool = False,
    verbosity: int = 0,
    env: dict | None = None,
    extra_vars: dict | None = None,
    gather_facts: bool = False,
    roles_path: str | None = None,
    timeout: float = 600,
) -> PlaybookRun:
    """Run tasks as one play on localhost; never raises on a failed play (look at rc and results)."""
    play = {"name": "octo test play", "hosts": "localhost", "gather_facts": gather_facts, "tasks": tasks}
    with tempfile.TemporaryDirectory(prefix="octo-playbook-") as workdir:
        work = Path(workdir)
        (work / "playbook.yml").write_text(yaml.safe_dump([play], sort_keys=False))
        (work / "inventory.yml").write_text(
            yaml.safe_dump(
                {
                    "all": {
                        "hosts": {
                            "localhost": {
                                "ansible_connection": "local",
                                "ansible_python_interpreter": sys.executable,
                            }
                        }
                    }
                }
            )
        )
        (work / "extra_vars.json").write_text(json.dumps(extra_vars or {}))
        results_file = work / "results.jsonl"
        command = [
            ansible_bin("ansible-playbook"),
            "-i",
            str(work / "inventory.yml"),
            "-e",
            f"@{work / 'extra_vars.json'}",
            str(work / "playbook.yml"),
        ]
        command += ["--check"] if check else []
        command += ["--diff"] if diff else []
        command += [f"-{'v' * verbosity}"] if verbosity else []
        proc_env = {
            **os.environ,
            "ANSIBLE_CONFIG": str(REPO_ROOT / "ansible.cfg"),
            "ANSIBLE_CALLBACK_PLUGINS": str(CALLBACKS),
            "ANSIBLE_CALLBACKS_ENABLED": "task_results",
            "ANSIBLE_NOCOLOR": "1",
            "ANSIBLE_FORCE_COLOR": "0",
            "ANSIBLE_LOCAL_TEMP": str(work / "tmp"),
            "ANSIBLE_HOME": str(work / "home"),
            "OCTO_TASK_RESULTS_FILE": str(results_file),
            **({"ANSIBLE_ROLES_PATH": roles_path} if roles_path else {}),
            **(env or {}),
        }
        proc = subprocess.run(
            command, cwd=REPO_ROOT, env=proc_env, capture_output=True, text=True, timeout=timeout, check=False
        )
        lines = results_file.read_text().splitlines() if results_file.exists() else []
        return PlaybookRun(
            rc=proc.returncode,
            stdout=proc.stdout,
            stderr=proc.stderr,
            results=[json.loads(line) for line in lines],
            playbook=(work / "playbook.yml").read_text(),
        )
