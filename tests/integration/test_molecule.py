"""Molecule scenarios of the roles (converge, idempotence, verify), with the servers they need."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from support.fake_cloud_dns import FakeCloudDns

ROOT = Path(__file__).resolve().parents[2]


def molecule(scenario: str, env: dict, command: str = "test") -> subprocess.CompletedProcess:
    bin_dir = str(Path(sys.executable).parent)
    return subprocess.run(
        [os.path.join(bin_dir, "molecule"), command, "-s", scenario],
        cwd=ROOT,
        env={**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}", "NO_COLOR": "1", **env},
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def dns_env(server: FakeCloudDns) -> dict:
    return {"GCP_PROJECT": "test-project", "GCP_AUTH_KIND": "anonymous", "OCTO_DNS_ENDPOINT": server.url}


def test_dns_role():
    with FakeCloudDns() as server:
        server.create_zone("test-project", "octo-zone", "example.test.")
        run = molecule("dns", dns_env(server))
        output = run.stdout + run.stderr
        assert run.returncode == 0, output[-4000:]
        for stage in ("syntax", "converge", "idempotence", "verify"):
            assert f"{stage}: Executed: Successful" in output, output[-4000:]
        apex = server.get("test-project", "octo-zone", "example.test.", "A")
        wildcard = server.get("test-project", "octo-zone", "*.example.test.", "A")
        changes = server.change_posts()
    assert apex["rrdatas"] == wildcard["rrdatas"] == ["203.0.113.10"]
    assert len(changes) == 1, "the idempotence run or the verify step wrote again"


def test_dns_verify_reads_the_api_and_fails_on_wrong_records():
    with FakeCloudDns() as server:
        server.create_zone("test-project", "octo-zone", "example.test.")
        server.put("test-project", "octo-zone", "example.test.", "A", 60, ["203.0.113.10"])  # wrong TTL
        server.put("test-project", "octo-zone", "*.example.test.", "A", 300, ["198.51.100.1"])  # wrong IP
        run = molecule("dns", dns_env(server), command="verify")
        requests = list(server.requests)
    output = run.stdout + run.stderr
    assert run.returncode != 0, output[-4000:]
    assert "Executed: Failed" in output, output[-4000:]
    assert "example.test. A is" in output and "'ttl': 60" in output, output[-4000:]
    assert "*.example.test. A is" in output and "198.51.100.1" in output, output[-4000:]
    rrsets = "/dns/v1/projects/test-project/managedZones/octo-zone/rrsets"
    assert requests == [("GET", rrsets), ("GET", rrsets)]  # read through the REST API, nothing written
