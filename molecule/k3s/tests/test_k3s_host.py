"""Reads the converged host over SSH (pytest-testinfra), independently of the k3s module and role."""

from __future__ import annotations

import json
import os
import urllib.request
from pathlib import Path

from ansible_collections.octo.platform.plugins.module_utils.gcp.platform_credentials import CONTEXT
from ansible_collections.octo.platform.plugins.module_utils.state import envelope

STATE = Path(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"]) / "host"


def released_sha256(host_info: dict) -> str:
    url = f"{host_info['url'].rstrip('/')}/{host_info['version'].replace('+', '%2B')}/sha256sum-amd64.txt"
    with urllib.request.urlopen(url, timeout=30) as response:
        sums = response.read().decode()
    return next(line.split()[0] for line in sums.splitlines() if line.split()[1:] == ["k3s"])


def test_unit_enabled_and_active(host):
    k3s = host.service("k3s")
    assert k3s.is_enabled and k3s.is_running
    assert host.socket("tcp://0.0.0.0:6443").is_listening


def test_files_and_modes(host):
    for path, mode in (("/etc/rancher/k3s/config.yaml", 0o600), ("/etc/rancher/k3s/k3s.yaml", 0o600),
                       ("/etc/systemd/system/k3s.service.env", 0o600),
                       ("/etc/systemd/system/k3s.service", 0o644), ("/usr/local/bin/k3s", 0o755)):  # fmt: skip
        found = host.file(path)
        assert found.is_file and found.user == "root" and found.mode == mode, path
    assert host.file("/usr/local/bin/kubectl").linked_to == "/usr/local/bin/k3s"


def test_config_contents_and_the_token_from_the_platform_state(host):
    config = host.file("/etc/rancher/k3s/config.yaml").content_string
    assert 'node-name: "k3s-molecule"' in config
    assert "secrets-encryption: true" in config and 'write-kubeconfig-mode: "0600"' in config
    key = envelope.parse_key((STATE / "state.key").read_text())
    state = envelope.decrypt(key, (STATE / "platform-credentials.json.enc").read_bytes(), CONTEXT, "state")
    token = state["credentials"]["k3s_token"]
    assert f"token: {json.dumps(token)}" in config.splitlines()


def test_binary_checksum(host):
    host_info = json.loads((STATE / "host.json").read_text())
    digest = host.check_output("sha256sum /usr/local/bin/k3s").split()[0]
    assert digest == released_sha256(host_info)
    assert host_info["version"] in host.check_output("/usr/local/bin/k3s --version")


def test_kubeconfig_on_the_controller_points_at_the_node():
    host_info = json.loads((STATE / "host.json").read_text())
    kubeconfig = STATE / "kubeconfig.yaml"
    assert kubeconfig.stat().st_mode & 0o777 == 0o600
    assert f"server: https://{host_info['ip']}:6443" in kubeconfig.read_text()
