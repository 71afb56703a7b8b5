"""HTTP(S) requests to the local Traefik on 127.0.0.1 with a chosen Host (and SNI), redirects not followed."""

from __future__ import annotations

import http.client
import socket
import ssl
import urllib.error
import urllib.request

TIMEOUT_SECONDS = 5


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def http_get(port: int, host: str, path: str) -> tuple[int, str | None]:
    """(status, Location) of a plain HTTP GET; status 0 when nothing answers."""
    opener = urllib.request.build_opener(_NoRedirect)
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", headers={"Host": host})
    try:
        with opener.open(request, timeout=TIMEOUT_SECONDS) as response:
            return response.status, response.headers.get("Location")
    except urllib.error.HTTPError as error:
        return error.code, error.headers.get("Location")
    except OSError:
        return 0, None


def https_get(port: int, host: str, ca_file, path: str = "/") -> tuple[int, dict, bytes]:
    """GET with SNI ``host`` verified against ``ca_file``: (status, lowercased headers, body)."""
    context = ssl.create_default_context(cafile=str(ca_file))
    with (
        socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT_SECONDS) as raw,
        context.wrap_socket(raw, server_hostname=host) as conn,
    ):
        conn.sendall(f"GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode())
        response = http.client.HTTPResponse(conn)
        response.begin()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
