"""Converge or remove a k3s node on this host: validate and plan first, then write, then restart and wait."""

from __future__ import annotations

import os
import platform
import shutil
import socket
from dataclasses import dataclass

from ansible_collections.octo.platform.plugins.module_utils.common.errors import OctoError, ValidationError
from ansible_collections.octo.platform.plugins.module_utils.host import k3s_host as host
from ansible_collections.octo.platform.plugins.module_utils.render import k3s


@dataclass(frozen=True)
class Files:
    """The text files of a node: path -> (content, mode)."""

    wanted: dict

    def changed(self) -> list:
        return [path for path in self.wanted if host.read_text(path) != self.wanted[path][0]]


def node_files(role: str, values: dict, environment: dict) -> Files:
    unit = f"{k3s.UNIT_DIR}/{k3s.service_name(role)}.service"
    return Files(
        {
            k3s.CONFIG_PATH: (k3s.render_config(values), 0o600),
            unit + ".env": (k3s.render_env(environment), 0o600),
            unit: (k3s.render_unit(role), 0o644),
        }
    )


def converge(params: dict, check_mode: bool, diff: bool) -> dict:
    result = (present if params["state"] == "present" else absent)(params, check_mode)
    if not diff:
        result.pop("diff", None)
    return result


def present(params: dict, check_mode: bool) -> dict:
    if not params["version"]:
        raise ValidationError("the k3s node", "version", "required with state=present")
    if params["airgap_binary"] and not params["airgap_sha256"]:
        raise ValidationError("the k3s node", "airgap_sha256", "required with airgap_binary")
    node = k3s.node_config(params["role"], params["config"] or {}, params["server"], params["token"])
    before_version = host.installed_version()
    action = k3s.version_action(before_version, params["version"], params["allow_downgrade"])
    files = node_files(params["role"], node.values, params["environment"] or {})
    changed_files = files.changed()
    node_name = str(node.values.get("node-name") or socket.gethostname())
    result = {
        "changed": bool(changed_files) or action != "none",
        "action": action,
        "version": params["version"],
        "previous_version": before_version,
        "node_name": node_name,
        "changed_files": changed_files,
        "restarted": False,
        "warnings": list(node.warnings),
        "diff": config_diff(node.values),
    }
    if check_mode:
        return result
    unit = k3s.service_name(params["role"])
    was_active = host.is_active(unit)
    install_binary(params, action)
    for path in changed_files:
        content, mode = files.wanted[path]
        host.write_file(path, content, mode)
    link_tools()
    start(unit, changed_files, restart=bool(changed_files) or action != "none")
    result["restarted"] = was_active and result["changed"]
    result["changed"] = result["changed"] or not was_active
    host.wait_ready(params["role"], node_name, params["wait_timeout"])
    return result


def install_binary(params: dict, action: str) -> None:
    """Stage and verify the binary, then move it into place (nothing changes when verification fails)."""
    if action == "none":
        return
    staged = host.stage_binary(params, platform.machine())
    os.chmod(staged, 0o755)
    os.replace(staged, k3s.BIN_PATH)
    if params["airgap_images"]:
        images = "/var/lib/rancher/k3s/agent/images"
        os.makedirs(images, exist_ok=True)
        shutil.copy(params["airgap_images"], images)


def link_tools() -> None:
    for name in k3s.SYMLINKS:
        link = f"/usr/local/bin/{name}"
        if not os.path.lexists(link):
            os.symlink(k3s.BIN_PATH, link)


def start(unit: str, changed_files: list, restart: bool) -> None:
    if any(path.endswith(".service") for path in changed_files):
        host.systemctl("daemon-reload")
    host.systemctl("enable", unit)
    done = host.systemctl("restart" if restart else "start", unit, check=False)
    if done.returncode != 0:
        reason = (done.stderr or done.stdout).strip().splitlines()[0]
        raise OctoError("start", unit, reason, journal=host.journal_tail(unit))


def config_diff(values: dict) -> dict:
    before = host.read_text(k3s.CONFIG_PATH)
    return {
        "before_header": k3s.CONFIG_PATH,
        "after_header": k3s.CONFIG_PATH,
        "before": k3s.mask_rendered(before) if before is not None else "",
        "after": k3s.render_config(values, mask_token=True),
    }


def absent(params: dict, check_mode: bool) -> dict:
    """Stop, disable and remove unit, env file, binary and its symlinks; data directories only with purge."""
    unit = k3s.service_name(params["role"])
    unit_path = f"{k3s.UNIT_DIR}/{unit}.service"
    paths = [unit_path, unit_path + ".env", k3s.BIN_PATH] + [f"/usr/local/bin/{n}" for n in k3s.SYMLINKS]
    present_paths = [p for p in paths if os.path.lexists(p) and _ours(p)]
    dirs = [d for d in k3s.DATA_DIRS if os.path.isdir(d)] if params["purge"] else []
    result = {"changed": bool(present_paths or dirs), "removed": present_paths + dirs, "restarted": False}
    if check_mode or not result["changed"]:
        return result
    if os.path.exists(unit_path):
        host.systemctl("disable", "--now", unit, check=False)
    for path in present_paths:
        os.unlink(path)
    for directory in dirs:
        shutil.rmtree(directory)
    host.systemctl("daemon-reload")
    return result


def _ours(path: str) -> bool:
    """Symlinks count only when they point at k3s (a real kubectl stays)."""
    return not os.path.islink(path) or os.readlink(path) == k3s.BIN_PATH or path == k3s.BIN_PATH
