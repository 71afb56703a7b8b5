"""molecule/k3s: create (boot the host), converge, three idempotence runs, verify (testinfra over SSH), destroy."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_k3s_role_scenario():
    bin_dir = str(Path(sys.executable).parent)
    started = time.monotonic()
    run = subprocess.run(
        [os.path.join(bin_dir, "molecule"), "test", "-s", "k3s"],
        cwd=ROOT,
        env={**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}", "NO_COLOR": "1"},
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    output = run.stdout + run.stderr
    print(f"molecule test -s k3s: {time.monotonic() - started:.1f}s")
    assert run.returncode == 0, output[-6000:]
    for stage in ("syntax", "create", "converge", "verify", "destroy"):
        assert f"k3s > {stage}: Executed: Successful" in output, output[-6000:]
    assert output.count("k3s > idempotence: Executed: Successful") == 3, output[-6000:]
    recaps = re.findall(r"k3s-molecule\s+: ok=\d+\s+changed=(\d+)", output)
    assert len(recaps) == 4 and int(recaps[0]) > 0 and recaps[1:] == ["0", "0", "0"], recaps
    assert re.search(r"\b5 passed\b", output), output[-6000:]  # the testinfra checks
    netns = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True, check=True).stdout
    assert "octo-k3s-molecule" not in netns  # destroy stopped the host and removed its network
