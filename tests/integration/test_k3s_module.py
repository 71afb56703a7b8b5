"""The k3s module on booted systemd hosts over SSH (tests/hosts), against the stand-in k3s release.

One scenario, in order: install -> re-run unchanged -> config change restarts once -> re-run unchanged ->
upgrade -> downgrade refused -> uninstall -> wrong checksum installs nothing -> install again -> an agent on a
second host (its own network namespace) joins -> airgap install (sha256 checked, images placed) -> a server that
never becomes ready fails within its timeout with its journal, and converges once fixed. The hosts are read
independently over SSH. Needs root. Always the stand-in (the scenario needs versions and checksums it controls).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
from hosts.host import BootedHost, new_key
from hosts.release import ReleaseServer, build_release

ROOT = Path(__file__).resolve().parents[2]
V1, V2, BAD = "v1.30.4+k3s1", "v1.30.5+k3s1", "v1.30.6+k3s1"
SERVER_LINK, AGENT_LINK = "10.213.250.1", "10.213.250.2"


@pytest.fixture(scope="module")
def bed(tmp_path_factory):
    """Two booted hosts (server, agent) and the release server; the agent's netns is linked to the server's."""
    keys = new_key(tmp_path_factory.mktemp("keys"))
    release = tmp_path_factory.mktemp("release")
    with BootedHost("k3s-server", 1, keys) as server, BootedHost("k3s-agent", 2, keys) as agent:
        server.link_to(agent)
        build_release(release, [V1, V2, BAD], [server.ip, SERVER_LINK])
        (release / BAD / "sha256sum-amd64.txt").write_text(f"{'0' * 64}  k3s\n")  # a tampered checksum
        with ReleaseServer(release, server.host_ip) as releases:
            yield {"server": server, "agent": agent, "url": releases.url, "dir": release}


def k3s(host: BootedHost, args: dict, check_mode: bool = False, output: bool = False) -> tuple:
    """Runs the module on ``host`` over SSH (ad-hoc, one-line output); (failed, result[, whole output])."""
    inventory = (
        f"{host.name} ansible_host={host.ip} ansible_user=root ansible_python_interpreter=/usr/bin/python3 "
        f"ansible_ssh_private_key_file={host.key} "
        "ansible_ssh_common_args='-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null'\n"
    )
    inv = host.workdir / "inventory"
    inv.write_text(inventory)
    command = [
        str(Path(sys.executable).parent / "ansible"),
        host.name,
        "-i",
        str(inv),
        "-m",
        "octo.platform.k3s",
    ]
    command += ["-a", json.dumps(args)] + (["--check", "--diff"] if check_mode else [])
    env = {
        **os.environ,
        "ANSIBLE_CONFIG": str(ROOT / "ansible.cfg"),
        "NO_COLOR": "1",
        "ANSIBLE_PIPELINING": "1",
    }
    done = subprocess.run(
        command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False
    )
    header = re.search(rf"^{re.escape(host.name)} \| ([A-Z]+)!? => ", done.stdout, re.MULTILINE)
    assert header, done.stdout + done.stderr
    result, _ = json.JSONDecoder().raw_decode(done.stdout[header.end() :])
    failed = header.group(1) == "FAILED"
    return (failed, result, done.stdout + done.stderr) if output else (failed, result)


def server_args(version: str, url: str, **config) -> dict:
    return {"version": version, "release_url": url, "config": {"node-name": "k3s-server", **config}}


def main_pid(host: BootedHost, unit: str = "k3s") -> str:
    return host.ssh(f"systemctl show -p MainPID --value {unit}").stdout.strip()


def test_k3s_scenario(bed):
    server, url = bed["server"], bed["url"]
    # install
    failed, result = k3s(server, server_args(V1, url))
    assert not failed and result["changed"] and result["action"] == "install", result
    assert server.ssh("systemctl is-enabled k3s && systemctl is-active k3s").stdout.split() == [
        "enabled",
        "active",
    ]
    assert server.ssh("stat -c %a /etc/rancher/k3s/config.yaml").stdout.strip() == "600"
    assert server.ssh("stat -c %a /etc/rancher/k3s/k3s.yaml").stdout.strip() == "600"
    want = hashlib.sha256((bed["dir"] / V1 / "k3s").read_bytes()).hexdigest()
    assert server.ssh("sha256sum /usr/local/bin/k3s").stdout.split()[0] == want
    config = server.ssh("cat /etc/rancher/k3s/config.yaml").stdout
    assert "secrets-encryption: true" in config and 'write-kubeconfig-mode: "0600"' in config
    # second run
    pid = main_pid(server)
    failed, result = k3s(server, server_args(V1, url))
    assert not failed and not result["changed"] and not result["restarted"], result
    assert main_pid(server) == pid
    # check mode predicts a config change with a diff, and changes nothing
    failed, result = k3s(server, server_args(V1, url, disable=["traefik"]), check_mode=True)
    assert not failed and result["changed"] and result["changed_files"] == ["/etc/rancher/k3s/config.yaml"]
    assert "disable" not in server.ssh("cat /etc/rancher/k3s/config.yaml").stdout
    # config change restarts once, then nothing
    failed, result = k3s(server, server_args(V1, url, disable=["traefik"]))
    assert not failed and result["changed"] and result["restarted"], result
    restarted_pid = main_pid(server)
    assert restarted_pid != pid
    failed, result = k3s(server, server_args(V1, url, disable=["traefik"]))
    assert not failed and not result["changed"], result
    assert main_pid(server) == restarted_pid
    # upgrade, then a downgrade is refused
    failed, result = k3s(server, server_args(V2, url, disable=["traefik"]))
    assert not failed and result["action"] == "upgrade" and result["restarted"], result
    assert f"k3s version {V2}" in server.ssh("k3s --version").stdout
    failed, result = k3s(server, server_args(V1, url, disable=["traefik"]))
    assert failed and "is older than the installed" in result["msg"], result
    assert f"k3s version {V2}" in server.ssh("/usr/local/bin/k3s --version").stdout


def test_uninstall_wrong_checksum_and_reinstall(bed):
    server, url = bed["server"], bed["url"]
    k3s(server, server_args(V1, url, disable=["traefik"]) | {"allow_downgrade": True})
    failed, result = k3s(server, {"state": "absent"})
    assert not failed and result["changed"] and "/usr/local/bin/k3s" in result["removed"], result
    gone = "ls /usr/local/bin/k3s /etc/systemd/system/k3s.service; systemctl is-active k3s"
    assert server.ssh(gone, check=False).stdout.strip() in ("inactive", "unknown")
    assert server.ssh("ls /usr/local/bin").stdout.strip() == ""
    failed, result = k3s(server, {"state": "absent"})
    assert not failed and not result["changed"], result
    # a tampered checksum: fails, nothing installed, no leftovers
    failed, result = k3s(server, server_args(BAD, url))
    assert failed and result["msg"].startswith("Failed to verify the k3s binary: sha256 of k3s is"), result
    assert server.ssh("ls -A /usr/local/bin; ls /etc/systemd/system/k3s.service", check=False).stdout == ""
    # install again
    failed, result = k3s(server, server_args(V1, url))
    assert not failed and result["changed"] and result["action"] == "install", result
    assert server.ssh("systemctl is-active k3s").stdout.strip() == "active"


def test_agent_joins_server(bed):
    server, agent, url = bed["server"], bed["agent"], bed["url"]
    token = server.ssh("cat /var/lib/rancher/k3s/server/token").stdout.strip()
    args = {"role": "agent", "version": V1, "release_url": url, "server": f"https://{SERVER_LINK}:6443"}
    args |= {"token": token, "config": {"node-name": "k3s-agent"}}
    failed, result, output = k3s(agent, args, check_mode=True, output=True)
    assert not failed and result["changed"] and token not in output, output
    assert 'token: "********"' in output and f'server: "https://{SERVER_LINK}:6443"' in output, output
    failed, result = k3s(agent, args)
    assert not failed and result["changed"], result
    assert token not in json.dumps(result)
    assert agent.ssh("systemctl is-active k3s-agent").stdout.strip() == "active"
    nodes = server.ssh(NODES_SCRIPT).stdout.split()
    assert nodes == ["k3s-agent", "k3s-server"]


# Lists the node names through the API with the server's admin kubeconfig (read on the server, independently).
NODES_SCRIPT = """python3 - <<'EOF'
import json, re, ssl, time, urllib.request
text = open('/etc/rancher/k3s/k3s.yaml').read()
token = re.search(r'token: (\\S+)', text).group(1)
req = urllib.request.Request('https://127.0.0.1:6443/api/v1/nodes', headers={'Authorization': 'Bearer ' + token})
for _ in range(20):
    items = json.load(urllib.request.urlopen(req, context=ssl._create_unverified_context()))['items']
    if len(items) > 1:
        break
    time.sleep(1)
print(' '.join(sorted(i['metadata']['name'] for i in items)))
EOF"""


def test_agent_removal_and_a_server_that_cannot_start(bed):
    agent, url = bed["agent"], bed["url"]
    failed, result = k3s(agent, {"state": "absent", "role": "agent"})
    assert not failed and "/etc/systemd/system/k3s-agent.service" in result["removed"], result
    assert agent.ssh("ls /etc/systemd/system/k3s-agent.service", check=False).returncode != 0
    # port 6443 taken: k3s cannot start; the failure carries the unit's journal
    agent.ssh("systemd-run --unit=busy6443 python3 -m http.server 6443")
    failed, result = k3s(agent, server_args(V1, url))
    assert failed and result["msg"].startswith("Failed to start k3s: Job for k3s.service failed"), result
    assert "Address already in use" in result["journal"], result


def copy_to(host: BootedHost, source: Path, dest: str) -> None:
    scp = ["scp", *host.ssh_args(), str(source), f"root@{host.ip}:{dest}"]
    subprocess.run(scp, check=True, capture_output=True, timeout=60)


def test_airgap_install_checks_the_sha256_and_places_the_images(bed):
    spare = bed["agent"]  # the last test left a failed server and a busy port there
    spare.ssh("systemctl stop busy6443")
    assert not k3s(spare, {"state": "absent"})[0]
    binary = bed["dir"] / V1 / "k3s"
    copy_to(spare, binary, "/root/k3s")
    spare.ssh("tar -cf /root/k3s-airgap-images-amd64.tar -C /etc hostname")
    args = server_args(V1, "http://127.0.0.1:9", **{"node-name": "k3s-agent"})  # nothing to download from
    args |= {"airgap_binary": "/root/k3s", "airgap_images": "/root/k3s-airgap-images-amd64.tar"}
    failed, result = k3s(spare, args | {"airgap_sha256": "0" * 64})
    assert failed and result["msg"].startswith("Failed to verify the k3s binary: sha256 of /root/k3s is"), (
        result
    )
    assert spare.ssh("ls -A /usr/local/bin /var/lib/rancher/k3s/agent/images", check=False).stdout == (
        "/usr/local/bin:\n"
    )
    digest = hashlib.sha256(binary.read_bytes()).hexdigest()
    failed, result = k3s(spare, args | {"airgap_sha256": digest})
    assert not failed and result["action"] == "install", result
    assert spare.ssh("sha256sum /usr/local/bin/k3s").stdout.split()[0] == digest
    placed = "sha256sum /root/k3s-airgap-images-amd64.tar /var/lib/rancher/k3s/agent/images/*.tar"
    sums = spare.ssh(placed).stdout.split()
    assert sums[0] == sums[2] and sums[3].endswith("/k3s-airgap-images-amd64.tar"), sums
    assert spare.ssh("systemctl is-active k3s").stdout.strip() == "active"


def test_readiness_timeout_reports_the_journal_then_a_fixed_run_converges(bed):
    spare = bed["agent"]
    args = server_args(V1, bed["url"], **{"node-name": "k3s-agent"}) | {"wait_timeout": 5}
    started = time.monotonic()
    failed, result = k3s(spare, args | {"environment": {"STANDIN_NEVER_READY": "1"}})
    elapsed = time.monotonic() - started
    assert failed and result["msg"].startswith(
        "Failed to wait for k3s server k3s-agent: not ready after 5s"
    ), result
    assert "the last lines of its journal:" in result["msg"], result
    assert "[-]etcd failed: stand-in told never to become ready" in result["msg"], result
    assert elapsed < 60, elapsed  # bounded: the 5 s wait plus one SSH round trip
    failed, result = k3s(spare, args)
    assert not failed and result["changed"] and result["restarted"], result
    assert result["changed_files"] == ["/etc/systemd/system/k3s.service.env"], result
    failed, result = k3s(spare, args)
    assert not failed and not result["changed"], result
