"""The k3s role on a booted systemd host over SSH: preflight refusal, install, idempotent re-run, kubeconfig fetch."""

from __future__ import annotations

import base64
import json
import os
import re
import ssl
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest
from hosts.host import BootedHost, new_key
from hosts.release import ReleaseServer, build_release

ROOT = Path(__file__).resolve().parents[2]
VERSION = "v1.30.4+k3s1"


@pytest.fixture(scope="module")
def bed(tmp_path_factory):
    keys = new_key(tmp_path_factory.mktemp("keys"))
    release = tmp_path_factory.mktemp("release")
    work = tmp_path_factory.mktemp("play")
    with BootedHost("k3s-role", 3, keys) as host:
        build_release(release, [VERSION], [host.ip])
        with ReleaseServer(release, host.host_ip) as releases:
            yield host, releases.url, work


def playbook(host: BootedHost, url: str, work: Path) -> subprocess.CompletedProcess:
    (work / "inventory").write_text(
        f"{host.name} ansible_host={host.ip} ansible_user=root ansible_python_interpreter=/usr/bin/python3 "
        f"ansible_ssh_private_key_file={host.key} "
        "ansible_ssh_common_args='-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null'\n"
    )
    role_vars = {"k3s_version": VERSION, "k3s_release_url": url, "k3s_config": {"node-name": "k3s-role"}}
    role_vars["k3s_kubeconfig_dest"] = str(work / "kubeconfig.yaml")
    play = [
        {"hosts": "all", "gather_facts": False, "roles": [{"role": "octo.platform.k3s", "vars": role_vars}]}
    ]
    (work / "site.yml").write_text(json.dumps(play))
    return subprocess.run(
        [
            str(Path(sys.executable).parent / "ansible-playbook"),
            "-i",
            str(work / "inventory"),
            str(work / "site.yml"),
        ],
        cwd=ROOT,
        env={
            **os.environ,
            "ANSIBLE_CONFIG": str(ROOT / "ansible.cfg"),
            "NO_COLOR": "1",
            "ANSIBLE_PIPELINING": "1",
        },
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def recap(run: subprocess.CompletedProcess) -> dict:
    match = re.search(r"ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)", run.stdout)
    assert match, run.stdout + run.stderr
    return dict(zip(("ok", "changed", "unreachable", "failed"), map(int, match.groups()), strict=True))


def test_role_refuses_a_busy_port_then_installs_idempotently(bed):
    host, url, work = bed
    host.ssh("systemd-run --unit=busy80 python3 -m http.server 80")
    host.ssh("for i in $(seq 50); do ss -Htln | grep -q ':80 ' && break; sleep 0.1; done")
    run = playbook(host, url, work)
    assert recap(run)["failed"] == 1, run.stdout
    assert "Failed to check the k3s host: ports 80 are in use by another program" in run.stdout
    assert (
        host.ssh("ls /usr/local/bin /etc/systemd/system/k3s.service", check=False).stdout.strip()
        == "/usr/local/bin:"
    )
    host.ssh("systemctl stop busy80")

    first = playbook(host, url, work)
    assert recap(first)["failed"] == 0 and recap(first)["changed"] >= 2, first.stdout
    second = playbook(host, url, work)
    assert recap(second) | {"ok": 0} == {"ok": 0, "changed": 0, "unreachable": 0, "failed": 0}, second.stdout

    kubeconfig = work / "kubeconfig.yaml"
    assert kubeconfig.stat().st_mode & 0o777 == 0o600
    text = kubeconfig.read_text()
    assert re.search(r"^\s*server: (\S+)$", text, re.MULTILINE).group(1) == f"https://{host.ip}:6443"
    # the fetched kubeconfig works from the controller: CA, token and the rewritten address
    ca = base64.b64decode(re.search(r"certificate-authority-data: (\S+)", text).group(1)).decode()
    token = re.search(r"token: (\S+)", text).group(1)
    request = urllib.request.Request(
        f"https://{host.ip}:6443/readyz", headers={"Authorization": f"Bearer {token}"}
    )
    with urllib.request.urlopen(
        request, timeout=10, context=ssl.create_default_context(cadata=ca)
    ) as response:
        assert response.read() == b"ok"
