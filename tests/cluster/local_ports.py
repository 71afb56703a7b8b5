"""Free TCP ports on 127.0.0.1 for the local cluster's servers, kept stable across restarts when possible."""

from __future__ import annotations

import socket


def port_is_free(port: int) -> bool:
    """Free for a server: connections in TIME_WAIT do not count (the servers bind with SO_REUSEADDR)."""
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_port(taken: set[int] | frozenset[int] = frozenset()) -> int:
    while True:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        if port not in taken:
            return port


def keep_or_pick(previous: dict, names: tuple[str, ...], taken: set[int]) -> dict[str, int]:
    """For each name, its previous port while still free and not taken, a new free port otherwise."""
    chosen: dict[str, int] = {}
    for name in names:
        port = previous.get(name)
        if not isinstance(port, int) or port in taken or not port_is_free(port):
            port = free_port(taken)
        chosen[name] = port
        taken.add(port)
    return chosen
