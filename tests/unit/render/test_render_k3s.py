"""The k3s planner: config.yaml, unit and env file text, warnings and the version decision."""

from __future__ import annotations

import json

import pytest

from ansible_collections.octo.platform.plugins.module_utils.common.errors import ValidationError
from ansible_collections.octo.platform.plugins.module_utils.render import k3s


def parse(text: str) -> dict:
    """Reads the rendered config back (JSON scalars, one list item a line) without the renderer's code."""
    values, key = {}, None
    for line in text.splitlines()[1:]:
        if line.startswith("  - "):
            values[key].append(json.loads(line[4:]))
        else:
            key, _, rest = line.partition(": ")
            key = key.rstrip(":")
            values[key] = json.loads(rest) if rest else []
    return values


def test_server_defaults_under_user_keys():
    node = k3s.node_config("server", {"tls-san": ["203.0.113.10"], "node-name": "vm1"}, None, None)
    assert node.values == {
        "write-kubeconfig-mode": "0600",
        "secrets-encryption": True,
        "tls-san": ["203.0.113.10"],
        "node-name": "vm1",
    }
    assert node.warnings == ()


def test_unknown_keys_pass_through_and_user_wins_over_defaults():
    node = k3s.node_config("server", {"secrets-encryption": False, "flannel-backend": "none"}, None, None)
    assert node.values["flannel-backend"] == "none"
    assert node.values["secrets-encryption"] is False
    assert any("secrets-encryption is off" in w for w in node.warnings)


def test_world_readable_kubeconfig_warns():
    node = k3s.node_config("server", {"write-kubeconfig-mode": "0644"}, None, None)
    assert node.warnings == ("write-kubeconfig-mode 0644 makes the admin kubeconfig world-readable",)


def test_anonymous_auth_warns():
    node = k3s.node_config("server", {"kube-apiserver-arg": ["anonymous-auth=true"]}, None, None)
    assert any("anonymous-auth" in w for w in node.warnings)


def test_bad_kubeconfig_mode_is_an_error():
    with pytest.raises(ValidationError, match="write-kubeconfig-mode: 'rw' is not an octal file mode"):
        k3s.node_config("server", {"write-kubeconfig-mode": "rw"}, None, None)


def test_agent_gets_no_server_defaults_and_needs_server_and_token():
    node = k3s.node_config("agent", {"node-name": "a1"}, "https://10.0.0.1:6443", "s3cret")
    assert node.values == {"node-name": "a1", "server": "https://10.0.0.1:6443", "token": "s3cret"}
    with pytest.raises(ValidationError, match="an agent needs server and token"):
        k3s.node_config("agent", {}, "https://10.0.0.1:6443", None)


def test_render_config_round_trips_and_masks_token():
    values = {"token": "s3cret", "disable": ["traefik", "servicelb"], "cluster-init": True, "node-name": "n"}
    text = k3s.render_config(values)
    assert parse(text) == values
    masked = k3s.render_config(values, mask_token=True)
    assert "s3cret" not in masked
    assert parse(masked)["token"] == k3s.MASK
    assert k3s.mask_rendered(text) == masked


def test_render_config_is_stable():
    assert k3s.render_config({"b": 1, "a": "x"}) == k3s.render_config({"a": "x", "b": 1})
    assert k3s.render_config({"b": 1, "a": "x"}).splitlines()[1:] == ['a: "x"', "b: 1"]


def test_unit_per_role():
    server = k3s.render_unit("server")
    agent = k3s.render_unit("agent")
    assert "ExecStart=/usr/local/bin/k3s server\n" in server
    assert "EnvironmentFile=-/etc/systemd/system/k3s.service.env" in server
    assert "ExecStart=/usr/local/bin/k3s agent\n" in agent
    assert "k3s-agent.service.env" in agent
    assert k3s.service_name("agent") == "k3s-agent"


def test_env_file_and_bad_name():
    assert k3s.render_env({"NO_PROXY": "10.0.0.0/8", "HTTP_PROXY": "http://p:3128"}) == (
        'HTTP_PROXY="http://p:3128"\nNO_PROXY="10.0.0.0/8"\n'
    )
    with pytest.raises(ValidationError, match="'A-B' is not a variable name"):
        k3s.render_env({"A-B": "x"})


@pytest.mark.parametrize(
    ("installed", "wanted", "allow", "action"),
    [
        (None, "v1.30.4+k3s1", False, "install"),
        ("v1.30.4+k3s1", "v1.30.4+k3s1", False, "none"),
        ("v1.30.4+k3s1", "v1.30.5+k3s1", False, "upgrade"),
        ("v1.30.4+k3s1", "v1.30.4+k3s2", False, "upgrade"),
        ("v1.30.10+k3s1", "v1.30.9+k3s1", True, "downgrade"),
    ],
)
def test_version_action(installed, wanted, allow, action):
    assert k3s.version_action(installed, wanted, allow) == action


def test_downgrade_refused_without_allow():
    with pytest.raises(ValidationError, match=r"v1.30.3\+k3s1 is older than the installed v1.30.10\+k3s1"):
        k3s.version_action("v1.30.10+k3s1", "v1.30.3+k3s1", False)


def test_bad_version():
    with pytest.raises(ValidationError, match=r"'1.30' is not like v1.30.4\+k3s1"):
        k3s.version_action(None, "1.30", False)


def test_installed_version_and_checksums():
    assert (
        k3s.installed_version("k3s version v1.30.4+k3s1 (98262b5d)\ngo version go1.22.5\n") == "v1.30.4+k3s1"
    )
    assert k3s.installed_version("command not found") is None
    sums = "AB12  k3s\ncd34  k3s-airgap-images-amd64.tar\n"
    assert k3s.expected_sha256(sums, "k3s") == "ab12"
    assert k3s.expected_sha256(sums, "k3s-arm64") is None
    assert k3s.asset_name("aarch64") == "k3s-arm64"
    assert k3s.sums_name("x86_64") == "sha256sum-amd64.txt"
    with pytest.raises(ValidationError, match="no k3s release for architecture 'mips'"):
        k3s.asset_name("mips")
