"""The k3s role on a booted systemd host over SSH: preflight refusal, install, idempotent re-run, kubeconfig fetch."""

from __future__ import annotations

import base64
import json
import os
import re
import secrets
import ssl
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest
from hosts.host import BootedHost, new_key
from hosts.release import release

from ansible_collections.octo.platform.plugins.module_utils.gcp.platform_credentials import CONTEXT
from ansible_collections.octo.platform.plugins.module_utils.state import envelope

ROOT = Path(__file__).resolve().parents[2]
VERSION = "v1.30.4+k3s1"
SERVER_LINK = "10.213.250.1"


@pytest.fixture(scope="module")
def bed(tmp_path_factory):
    """A server host and an agent host (linked netns), the release, and the platform state's key (OCTO_STATE_KEY)."""
    keys = new_key(tmp_path_factory.mktemp("keys"))
    release_dir = tmp_path_factory.mktemp("release")
    work = tmp_path_factory.mktemp("play")
    state_key = base64.b64encode(secrets.token_bytes(32)).decode()
    with BootedHost("k3s-role", 3, keys) as host, BootedHost("k3s-role-agent", 5, keys) as agent:
        host.link_to(agent)
        with release(release_dir, [VERSION], [host.ip], host.host_ip) as (url, versions):
            yield {
                "host": host,
                "agent": agent,
                "url": url,
                "version": versions[0],
                "work": work,
                "key": state_key,
            }


def playbook(bed: dict, host: BootedHost, verbose: bool = False, **extra) -> subprocess.CompletedProcess:
    work = bed["work"]
    (work / "inventory").write_text(
        f"{host.name} ansible_host={host.ip} ansible_user=root ansible_python_interpreter=/usr/bin/python3 "
        f"ansible_ssh_private_key_file={host.key} "
        "ansible_ssh_common_args='-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null'\n"
    )
    role_vars = {
        "k3s_version": bed["version"],
        "k3s_release_url": bed["url"],
        "k3s_config": {"node-name": host.name},
    }
    role_vars |= {"k3s_kubeconfig_dest": str(work / "kubeconfig.yaml"), **extra}
    play = [
        {"hosts": "all", "gather_facts": False, "roles": [{"role": "octo.platform.k3s", "vars": role_vars}]}
    ]
    (work / "site.yml").write_text(json.dumps(play))
    command = [str(Path(sys.executable).parent / "ansible-playbook"), "-i", str(work / "inventory")]
    return subprocess.run(
        [*command, str(work / "site.yml"), *(["-vvv"] if verbose else [])],
        cwd=ROOT,
        env={
            **os.environ,
            "ANSIBLE_CONFIG": str(ROOT / "ansible.cfg"),
            "NO_COLOR": "1",
            "ANSIBLE_PIPELINING": "1",
            "OCTO_STATE_KEY": bed["key"],
        },
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def stored_token(bed: dict) -> str:
    data = (bed["work"] / ".state" / "platform-credentials.json.enc").read_bytes()
    state = envelope.decrypt(envelope.parse_key(bed["key"]), data, CONTEXT, "state")
    return state["credentials"]["k3s_token"]


def recap(run: subprocess.CompletedProcess) -> dict:
    match = re.search(r"ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)", run.stdout)
    assert match, run.stdout + run.stderr
    return dict(zip(("ok", "changed", "unreachable", "failed"), map(int, match.groups()), strict=True))


def test_role_refuses_a_busy_port_then_installs_idempotently(bed):
    host, work = bed["host"], bed["work"]
    host.ssh("systemd-run --unit=busy80 python3 -m http.server 80")
    host.ssh("for i in $(seq 50); do ss -Htln | grep -q ':80 ' && break; sleep 0.1; done")
    run = playbook(bed, host)
    assert recap(run)["failed"] == 1, run.stdout
    assert "Failed to check the k3s host: ports 80 are in use by another program" in run.stdout
    assert (
        host.ssh("ls /usr/local/bin /etc/systemd/system/k3s.service", check=False).stdout.strip()
        == "/usr/local/bin:"
    )
    host.ssh("systemctl stop busy80")

    first = playbook(bed, host)
    assert recap(first)["failed"] == 0 and recap(first)["changed"] >= 2, first.stdout
    second = playbook(bed, host)
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


def test_server_and_agent_share_the_token_of_the_platform_state_never_logged(bed):
    host, agent = bed["host"], bed["agent"]
    state_file = bed["work"] / ".state" / "platform-credentials.json.enc"
    token, before = stored_token(bed), state_file.read_bytes()
    assert f"token: {json.dumps(token)}" in host.ssh("cat /etc/rancher/k3s/config.yaml").stdout.splitlines()
    assert host.ssh("cat /var/lib/rancher/k3s/server/token").stdout.strip() == token
    again = playbook(bed, host, verbose=True)
    assert recap(again)["changed"] == 0 and token not in again.stdout + again.stderr
    joined = playbook(
        bed, agent, verbose=True, k3s_role="agent", k3s_server_url=f"https://{SERVER_LINK}:6443"
    )
    assert recap(joined)["failed"] == 0 and recap(joined)["changed"] >= 1, joined.stdout[-3000:]
    assert token not in joined.stdout + joined.stderr
    assert agent.ssh("systemctl is-active k3s-agent").stdout.strip() == "active"
    wait = "for i in $(seq 50); do grep -q k3s-role-agent {0} && break; sleep 0.2; done; cat {0}"
    assert "k3s-role-agent" in host.ssh(wait.format("/var/lib/rancher/k3s/server/standin-nodes.json")).stdout
    assert state_file.read_bytes() == before  # generated once: neither run wrote the state again
