"""Host-side I/O of the k3s module (runs on the target, stdlib only): files, the binary, systemd, readiness."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import shutil
import subprocess
import tempfile
import time
import urllib.parse

from ansible.module_utils.urls import ConnectionError as UrlConnectionError
from ansible.module_utils.urls import open_url

from ansible_collections.octo.platform.plugins.module_utils.common.errors import OctoError
from ansible_collections.octo.platform.plugins.module_utils.render import k3s


def read_text(path: str) -> str | None:
    try:
        with open(path, encoding="utf-8") as handle:
            return handle.read()
    except FileNotFoundError:
        return None


def write_file(path: str, content: str, mode: int) -> None:
    """Atomic write: a temporary file in the same directory, chmod, rename."""
    os.makedirs(os.path.dirname(path), mode=0o755, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path), prefix=".octo-")
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(content)
    os.chmod(tmp, mode)
    os.replace(tmp, path)


def run(args: list, check: bool = True) -> subprocess.CompletedProcess:
    """A bounded command (AnsibleModule.run_command has no timeout)."""
    try:
        done = subprocess.run(  # pylint: disable=ansible-bad-function
            args, capture_output=True, text=True, check=False, timeout=120
        )
    except subprocess.TimeoutExpired as err:
        raise OctoError("run", " ".join(args), "no answer within 120s") from err
    if check and done.returncode != 0:
        raise OctoError("run", " ".join(args), (done.stderr or done.stdout).strip()[-500:])
    return done


def installed_version() -> str | None:
    if not os.path.exists(k3s.BIN_PATH):
        return None
    return k3s.installed_version(run([k3s.BIN_PATH, "--version"], check=False).stdout)


def sha256_of(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def release_url(base: str, version: str, name: str) -> str:
    return f"{base.rstrip('/')}/{urllib.parse.quote(version, safe='')}/{name}"


def fetch(url: str, dest: str | None = None) -> str:
    """The body of ``url`` as text, or saved to ``dest`` (then returns dest)."""
    try:
        with open_url(url, timeout=60) as response:
            if dest is None:
                return response.read().decode()
            with open(dest, "wb") as handle:
                shutil.copyfileobj(response, handle)
            return dest
    except (OSError, UrlConnectionError) as err:
        raise OctoError("download", url, str(err)) from err


def stage_binary(params: dict, arch: str) -> str:
    """The new binary in a temporary file next to BIN_PATH, checked against its sha256; nothing installed."""
    os.makedirs(os.path.dirname(k3s.BIN_PATH), exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(k3s.BIN_PATH), prefix=".k3s-")
    os.close(fd)
    try:
        if params["airgap_binary"]:
            shutil.copyfile(params["airgap_binary"], tmp)
            want, source = params["airgap_sha256"], params["airgap_binary"]
        else:
            asset = k3s.asset_name(arch)
            sums = fetch(release_url(params["release_url"], params["version"], k3s.sums_name(arch)))
            want = k3s.expected_sha256(sums, asset)
            source = fetch(release_url(params["release_url"], params["version"], asset), tmp) and asset
            if want is None:
                raise OctoError("verify", "the k3s binary", f"{asset} is not listed in {k3s.sums_name(arch)}")
        got = sha256_of(tmp)
        if got != want.lower():
            raise OctoError("verify", "the k3s binary", f"sha256 of {source} is {got}, expected {want}")
    except BaseException:
        os.unlink(tmp)
        raise
    return tmp


def systemctl(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    return run(["systemctl", *args], check=check)


def is_active(unit: str) -> bool:
    return systemctl("is-active", "--quiet", unit, check=False).returncode == 0


def journal_tail(unit: str, lines: int = 20) -> str:
    return run(["journalctl", "-u", unit, "-n", str(lines), "--no-pager"], check=False).stdout


def _kubeconfig_field(text: str, name: str) -> str | None:
    match = re.search(rf"^\s*{name}:\s*(\S+)\s*$", text, flags=re.MULTILINE)
    return match.group(1) if match else None


def api_get(kubeconfig: str, path: str):
    """GET ``path`` from the API server of k3s' admin kubeconfig (CA, client certificate or token)."""
    server = _kubeconfig_field(kubeconfig, "server")
    token = _kubeconfig_field(kubeconfig, "token")
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    fields = {"ca_path": "certificate-authority-data"}
    if _kubeconfig_field(kubeconfig, "client-certificate-data") and _kubeconfig_field(
        kubeconfig, "client-key-data"
    ):
        fields.update(client_cert="client-certificate-data", client_key="client-key-data")
    with tempfile.TemporaryDirectory() as tmp:  # open_url takes the PEMs as files
        files = {}
        for option, field in fields.items():
            data = _kubeconfig_field(kubeconfig, field)
            if data:
                files[option] = os.path.join(tmp, option)
                with open(files[option], "wb") as handle:
                    handle.write(base64.b64decode(data))
        with open_url(server.rstrip("/") + path, headers=headers, timeout=5, **files) as response:
            body = response.read().decode()
    return json.loads(body) if path.startswith("/api") else body


def node_ready(nodes: dict, name: str) -> bool:
    for item in nodes.get("items", []):
        if item["metadata"]["name"] == name:
            conditions = item.get("status", {}).get("conditions", [])
            return any(c["type"] == "Ready" and c["status"] == "True" for c in conditions)
    return False


def wait_ready(role: str, node_name: str, timeout: int) -> None:
    """Bounded wait: the server's /readyz answers and its node is Ready; an agent's unit stays active."""
    unit = k3s.service_name(role)
    deadline = time.monotonic() + timeout
    last = "not started"
    while time.monotonic() < deadline:
        try:
            if role == "agent":
                if is_active(unit):
                    return
                last = "the unit is not active"
            else:
                last = _server_state(node_name)
                if last == "ready":
                    return
        except (OSError, UrlConnectionError, ValueError, KeyError) as err:
            last = str(err)
        time.sleep(1)
    journal = journal_tail(unit)
    last_lines = "\n".join(journal.strip().splitlines()[-5:])
    raise OctoError(
        "wait for",
        f"k3s {role} {node_name}",
        f"not ready after {timeout}s ({last}); the last lines of its journal:\n{last_lines}",
        journal=journal,
    )


def _server_state(node_name: str) -> str:
    kubeconfig = read_text(k3s.KUBECONFIG_PATH)
    if kubeconfig is None:
        return f"{k3s.KUBECONFIG_PATH} not written yet"
    if api_get(kubeconfig, "/readyz").strip() != "ok":
        return "/readyz is not ok"
    if not node_ready(api_get(kubeconfig, "/api/v1/nodes"), node_name):
        return f"node {node_name} is not Ready"
    return "ready"
