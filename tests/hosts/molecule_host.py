"""The molecule scenario's host (molecule/k3s create.yml and destroy.yml): boot it detached, stop it later.

``up STATE_DIR NAME INDEX``: a booted host (tests/hosts/host.py) with a key of the run, the k3s release served
on its veth (release.py; a real k3s with OCTO_TEST_K3S_URL or OCTO_TEST_K3S_BINARY), a platform state key;
STATE_DIR/host.json says where everything is. ``down STATE_DIR`` stops what ``up`` started. Needs root.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path

from host import BootedHost, new_key
from release import source

HERE = Path(__file__).resolve().parent
VERSION = "v1.30.4+k3s1"


def serve_release(state_dir: Path, address: str) -> tuple[str, int]:
    """A detached release server on ``address``; (its URL, its pid)."""
    url_file = state_dir / "release.url"
    log = open(state_dir / "release.log", "w")  # noqa: SIM115 - the child keeps it
    child = subprocess.Popen(
        [sys.executable, str(HERE / "release.py"), "serve", str(state_dir / "release"), address, str(url_file)],
        stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    for _ in range(100):
        if url_file.exists() and url_file.read_text():
            return url_file.read_text(), child.pid
        time.sleep(0.1)
    child.kill()
    raise TimeoutError(f"the release server did not start: {(state_dir / 'release.log').read_text()}")


def up(state_dir: Path, name: str, index: int) -> dict:
    state_dir.mkdir(parents=True, exist_ok=True)
    keys = state_dir if (state_dir / "id_ed25519").exists() else new_key(state_dir)
    host = BootedHost(name, index, keys)
    host.__enter__()
    try:
        url, versions = source(state_dir / "release", [VERSION], [host.ip])
        pid = None
        if url is None:
            url, pid = serve_release(state_dir, host.host_ip)
        key = base64.b64encode(secrets.token_bytes(32)).decode()
        (state_dir / "state.key").write_text(key)
        state = {**host.state(), "release_pid": pid, "url": url, "version": versions[0]}
        (state_dir / "host.json").write_text(json.dumps(state))
    except BaseException:
        host.stop()
        raise
    return state


def down(state_dir: Path) -> None:
    path = state_dir / "host.json"
    if not path.exists():
        return
    state = json.loads(path.read_text())
    if state["release_pid"]:
        with contextlib.suppress(ProcessLookupError):
            os.kill(state["release_pid"], signal.SIGTERM)
    BootedHost.attach(state).stop()
    path.unlink()


if __name__ == "__main__":
    if sys.argv[1] == "up":
        print(json.dumps(up(Path(sys.argv[2]), sys.argv[3], int(sys.argv[4]))))
    else:
        down(Path(sys.argv[2]))
