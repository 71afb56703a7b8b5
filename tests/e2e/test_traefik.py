"""Traefik of the real-node cluster: stopping it leaves nothing behind, `cluster.py up` starts it again."""

from __future__ import annotations

import socket
from pathlib import Path

from cluster import traefik
from e2e_support import STATE_DIR, cluster_cli, get_through_traefik, wait_until


def listening(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


def test_stop_leaves_nothing_and_up_starts_it_again(real_cluster, traefik_port):
    pid = traefik.running(STATE_DIR)
    assert pid and listening(traefik_port)
    config_file = STATE_DIR / "traefik" / "traefik.yml"
    assert config_file.stat().st_mode & 0o777 == 0o600  # it holds the admin token

    # An answered request leaves a connection in TIME_WAIT on the port: it must not move the port.
    assert get_through_traefik(traefik_port, "no-such-host.localtest.me")[0] == 404
    assert traefik.stop(STATE_DIR) is True
    assert wait_until("traefik to exit", lambda: not Path(f"/proc/{pid}").exists())
    assert not listening(traefik_port)
    assert not (STATE_DIR / "traefik").exists()
    assert traefik.stop(STATE_DIR) is False

    up = cluster_cli("up")
    assert up.returncode == 0, up.stdout + up.stderr
    assert f"traefik serves Ingress hosts on http://127.0.0.1:{traefik_port}" in up.stdout
    assert traefik.pinged(traefik.recorded_ports(STATE_DIR / "ports.json")["traefik_ping"])
    assert traefik.running(STATE_DIR) not in (None, pid)
