"""Molecule scenarios of the roles (converge, idempotence, verify), with the servers they need."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from support.fake_cloud_dns import FakeCloudDns

ROOT = Path(__file__).resolve().parents[2]


def molecule(scenario: str, env: dict) -> subprocess.CompletedProcess:
    bin_dir = str(Path(sys.executable).parent)
    return subprocess.run(
        [os.path.join(bin_dir, "molecule"), "test", "-s", scenario],
        cwd=ROOT,
        env={**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}", "NO_COLOR": "1", **env},
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def test_dns_role():
    with FakeCloudDns() as server:
        server.create_zone("test-project", "octo-zone", "example.test.")
        run = molecule(
            "dns",
            {"GCP_PROJECT": "test-project", "GCP_AUTH_KIND": "anonymous", "OCTO_DNS_ENDPOINT": server.url},
        )
        output = run.stdout + run.stderr
        assert run.returncode == 0, output[-4000:]
        for stage in ("syntax", "converge", "idempotence", "verify"):
            assert f"{stage}: Executed: Successful" in output, output[-4000:]
        apex = server.get("test-project", "octo-zone", "example.test.", "A")
        wildcard = server.get("test-project", "octo-zone", "*.example.test.", "A")
        changes = server.change_posts()
    assert apex["rrdatas"] == wildcard["rrdatas"] == ["203.0.113.10"]
    assert len(changes) == 1, "the idempotence run or the verify step wrote again"
