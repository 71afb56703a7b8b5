"""A real TLS endpoint for tests: a thread accepting TLS connections on 127.0.0.1 with a given certificate."""

from __future__ import annotations

import contextlib
import socket
import ssl
import threading
from pathlib import Path

ACCEPT_TIMEOUT_SECONDS = 0.2


@contextlib.contextmanager
def serving(cert_file: Path, key_file: Path):
    """Yield the port of a TLS server presenting ``cert_file``; each connection is closed after the handshake."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_file, key_file)
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(ACCEPT_TIMEOUT_SECONDS)
    stop = threading.Event()

    def accept_loop():
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
                conn.settimeout(2)
            except TimeoutError:
                continue
            with contextlib.suppress(OSError), context.wrap_socket(conn, server_side=True) as tls_conn:
                tls_conn.recv(1)

    thread = threading.Thread(target=accept_loop, daemon=True)
    thread.start()
    try:
        yield listener.getsockname()[1]
    finally:
        stop.set()
        thread.join(timeout=5)
        listener.close()
