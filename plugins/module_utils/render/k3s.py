"""Plan a k3s node: config.yaml text, the systemd unit and environment file, and the version decision.

Pure and stdlib only (the module runs on the target host, which may lack PyYAML): config.yaml is written
with JSON scalars, which YAML reads as they are.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from ansible_collections.octo.platform.plugins.module_utils.common.errors import ValidationError

BIN_PATH = "/usr/local/bin/k3s"
CONFIG_PATH = "/etc/rancher/k3s/config.yaml"
KUBECONFIG_PATH = "/etc/rancher/k3s/k3s.yaml"
UNIT_DIR = "/etc/systemd/system"
SYMLINKS = ("kubectl", "crictl", "ctr")
DATA_DIRS = ("/var/lib/rancher/k3s", "/etc/rancher/k3s", "/var/lib/kubelet", "/run/k3s")
SERVER_DEFAULTS = {"write-kubeconfig-mode": "0600", "secrets-encryption": True}
MASK = "********"
_VERSION = re.compile(r"^v(\d+)\.(\d+)\.(\d+)\+k3s(\d+)$")


@dataclass(frozen=True)
class NodeConfig:
    """What config.yaml holds for one node, and the warnings its keys deserve."""

    values: dict
    warnings: tuple


def service_name(role: str) -> str:
    return "k3s" if role == "server" else "k3s-agent"


def node_config(role: str, config: dict, server: str | None, token: str | None) -> NodeConfig:
    """config.yaml values: server defaults under the user's keys, ``server``/``token`` for joiners."""
    values = dict(SERVER_DEFAULTS) if role == "server" else {}
    values.update(config)
    if role == "agent" and not (server and token):
        raise ValidationError("the k3s agent", "server", "an agent needs server and token to join")
    if server:
        values["server"] = server
    if token:
        values["token"] = token
    return NodeConfig(values, tuple(_warnings(values)))


def _warnings(values: dict) -> list:
    found = []
    mode = str(values.get("write-kubeconfig-mode", "0600"))
    if not re.fullmatch(r"0?[0-7]{3}", mode):
        raise ValidationError("config.yaml", "write-kubeconfig-mode", f"{mode!r} is not an octal file mode")
    if int(mode, 8) & 0o004:
        found.append(f"write-kubeconfig-mode {mode} makes the admin kubeconfig world-readable")
    if values.get("secrets-encryption") is False:
        found.append("secrets-encryption is off: Secrets are stored unencrypted in the datastore")
    if any("anonymous-auth=true" in str(arg) for arg in _as_list(values.get("kube-apiserver-arg"))):
        found.append("kube-apiserver-arg anonymous-auth=true lets unauthenticated requests reach the API")
    return found


def _as_list(value) -> list:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def render_config(values: dict, mask_token: bool = False) -> str:
    """config.yaml text, keys sorted; lists one item a line; ``token`` masked for diffs."""
    lines = ["# Managed by octo.platform.k3s"]
    for key in sorted(values):
        value = MASK if mask_token and key in ("token", "agent-token") else values[key]
        if isinstance(value, list):
            lines.append(f"{key}:")
            lines.extend(f"  - {json.dumps(item)}" for item in value)
        else:
            lines.append(f"{key}: {json.dumps(value)}")
    return "\n".join(lines) + "\n"


def mask_rendered(text: str) -> str:
    """An existing config.yaml (read back for the diff) with its token lines masked."""
    return re.sub(r"^((?:agent-)?token:).*$", rf'\1 "{MASK}"', text, flags=re.MULTILINE)


def render_unit(role: str) -> str:
    """The systemd unit, shaped like the one k3s' install script writes."""
    name = service_name(role)
    return (
        "[Unit]\n"
        f"Description=Lightweight Kubernetes ({role}), managed by octo.platform.k3s\n"
        "Documentation=https://k3s.io\n"
        "Wants=network-online.target\n"
        "After=network-online.target\n\n"
        "[Service]\n"
        f"Type={'notify' if role == 'server' else 'exec'}\n"
        f"EnvironmentFile=-{UNIT_DIR}/{name}.service.env\n"
        "KillMode=process\n"
        "Delegate=yes\n"
        "LimitNOFILE=1048576\n"
        "TimeoutStartSec=0\n"
        "Restart=always\n"
        "RestartSec=5s\n"
        f"ExecStart={BIN_PATH} {role}\n\n"
        "[Install]\n"
        "WantedBy=multi-user.target\n"
    )


def render_env(environment: dict) -> str:
    """The unit's EnvironmentFile (proxy settings and the like), keys sorted."""
    for key in environment:
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", key):
            raise ValidationError(
                "the k3s environment file", "environment", f"{key!r} is not a variable name"
            )
    return "".join(f"{key}={json.dumps(str(environment[key]))}\n" for key in sorted(environment))


def parse_version(text: str) -> tuple:
    """``v1.30.4+k3s1`` as (1, 30, 4, 1)."""
    match = _VERSION.match(text.strip())
    if not match:
        raise ValidationError("the k3s version", "version", f"{text!r} is not like v1.30.4+k3s1")
    return tuple(int(part) for part in match.groups())


def version_action(installed: str | None, wanted: str, allow_downgrade: bool) -> str:
    """``install``, ``upgrade``, ``downgrade`` or ``none``; a downgrade needs ``allow_downgrade``."""
    want = parse_version(wanted)
    if installed is None:
        return "install"
    have = parse_version(installed)
    if have == want:
        return "none"
    if have < want:
        return "upgrade"
    if not allow_downgrade:
        raise ValidationError(
            "the k3s version",
            "version",
            f"{wanted} is older than the installed {installed}; set allow_downgrade",
        )
    return "downgrade"


def installed_version(version_output: str) -> str | None:
    """The version in ``k3s --version`` output (``k3s version v1.30.4+k3s1 (abcdef)``)."""
    match = re.search(r"k3s version (v\S+)", version_output)
    return match.group(1) if match else None


def expected_sha256(sums_text: str, asset: str) -> str | None:
    """The checksum of ``asset`` in a release's sha256sum-<arch>.txt."""
    for line in sums_text.splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[1].lstrip("*") == asset:
            return parts[0].lower()
    return None


def asset_name(arch: str) -> str:
    """The release asset of a machine architecture (uname -m)."""
    assets = {
        "x86_64": "k3s",
        "amd64": "k3s",
        "aarch64": "k3s-arm64",
        "arm64": "k3s-arm64",
        "armv7l": "k3s-armhf",
    }
    if arch not in assets:
        raise ValidationError("the k3s binary", "arch", f"no k3s release for architecture {arch!r}")
    return assets[arch]


def sums_name(arch: str) -> str:
    return (
        "sha256sum-" + {"k3s": "amd64", "k3s-arm64": "arm64", "k3s-armhf": "arm"}[asset_name(arch)] + ".txt"
    )
