"""The Kubernetes client's failure modes, against sockets and a small HTTP server on 127.0.0.1 (no cluster)."""

from __future__ import annotations

import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from ansible_collections.octo.platform.plugins.module_utils.common.errors import OctoError
from ansible_collections.octo.platform.plugins.module_utils.kube import resources as res
from ansible_collections.octo.platform.plugins.module_utils.kube.client import ApiError, Kube

NGINX_503 = (
    "<html>\r\n<head><title>503 Service Temporarily Unavailable</title></head>\r\n<body>\r\n"
    "<center><h1>503 Service Temporarily Unavailable</h1></center>\r\n<hr><center>nginx</center>\r\n"
    "</body>\r\n</html>\r\n"
)
CONFIG_MAP = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cm", "namespace": "ns"}}


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Stub:
    """An HTTP server answering request i with answers[i] (the last one repeats); records what it was sent."""

    def __init__(self, *answers: tuple[int, dict, str]):
        self.answers = answers
        self.seen: list[tuple[str, str]] = []
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def answer(self):
                length = int(self.headers.get("Content-Length") or 0)
                self.rfile.read(length)
                stub.seen.append((self.command, self.headers.get("Authorization", "")))
                status, headers, body = stub.answers[min(len(stub.seen), len(stub.answers)) - 1]
                data = body.encode()
                self.send_response(status)
                for key, value in {**headers, "Content-Length": str(len(data))}.items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_PATCH = do_POST = do_DELETE = answer

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def stub():
    started = []

    def start(*answers):
        started.append(Stub(*answers))
        return started[-1]

    yield start
    for server in started:
        server.close()


def status(code: int, reason: str, message: str) -> tuple[int, dict, str]:
    body = {"kind": "Status", "apiVersion": "v1", "status": "Failure", "reason": reason, "message": message}
    return code, {"Content-Type": "application/json"}, json.dumps({**body, "code": code})


def test_unreachable_server_is_a_clear_error_without_the_token():
    token = "sentinel-token-that-must-not-leak"
    kube = Kube({"host": f"https://127.0.0.1:{closed_port()}", "api_key": token, "validate_certs": False})
    with pytest.raises(
        OctoError,
        match=r"^Failed to read ConfigMap list: cannot reach https://127\.0\.0\.1:\d+: "
        r"connection refused after \d+\.\ds \(4 attempts\)$",
    ) as err:
        kube.list(res.CONFIG_MAP, "octo-dev")
    assert token not in str(err.value)
    assert kube.requests["GET"] == 1


def test_html_503_from_a_load_balancer_after_bounded_retries(stub):
    server = stub((503, {"Content-Type": "text/html"}, NGINX_503))
    kube = Kube({"host": server.url, "api_key": "t0ken"})
    with pytest.raises(ApiError) as err:
        kube.list(res.CONFIG_MAP, "octo-dev")
    assert str(err.value) == (
        f"Failed to read ConfigMap list: HTTP 503 from {server.url}: 503 Service Temporarily Unavailable"
    )
    assert err.value.status == 503
    assert len(server.seen) == 4  # the first try and 3 retries
    assert kube.requests["GET"] == 1


def test_non_json_200_is_a_clear_error(stub):
    server = stub(
        (200, {"Content-Type": "text/html"}, "<html><body>\n<h1>Welcome to nginx!</h1>\n</body></html>")
    )
    with pytest.raises(OctoError) as err:
        Kube({"host": server.url}).get(res.CONFIG_MAP, "cm", "ns")
    assert (
        str(err.value)
        == f"Failed to read ConfigMap cm: HTTP 200 from {server.url} is not JSON: Welcome to nginx!"
    )


def test_non_json_404_is_an_error_not_an_absent_object(stub):
    server = stub((404, {"Content-Type": "text/plain"}, "404 page not found\n"))
    with pytest.raises(ApiError, match=r": HTTP 404 from http://127\.0\.0\.1:\d+: 404 page not found$"):
        Kube({"host": server.url}).get(res.CONFIG_MAP, "cm", "ns")


def test_a_long_non_json_body_is_cut(stub):
    server = stub((502, {"Content-Type": "text/plain"}, "x" * 5000 + "\nsecond line"))
    with pytest.raises(ApiError) as err:
        Kube({"host": server.url, "request_timeout": 30}).get(res.CONFIG_MAP, "cm", "ns")
    reason = str(err.value).split(f"HTTP 502 from {server.url}: ", 1)[1]
    assert reason == "x" * 157 + "..."


def test_retry_after_beyond_the_deadline_is_not_waited_for(stub):
    server = stub((503, {"Retry-After": "3600", "Content-Type": "text/plain"}, "overloaded"))
    with pytest.raises(ApiError, match=r"HTTP 503 from http://127\.0\.0\.1:\d+: overloaded$"):
        Kube({"host": server.url, "request_timeout": 5}).get(res.CONFIG_MAP, "cm", "ns")
    assert len(server.seen) == 1


def test_a_server_that_accepts_and_never_answers_is_bounded():
    with socket.socket() as silent:  # the kernel completes the handshake; nobody ever reads
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        host = f"http://127.0.0.1:{silent.getsockname()[1]}"
        kube = Kube({"host": host, "request_timeout": 1.5})
        with pytest.raises(OctoError) as err:
            kube.list(res.CONFIG_MAP, "octo-dev")
    assert str(err.value).startswith(f"Failed to read ConfigMap list: cannot reach {host}: no answer after ")
    assert str(err.value).endswith("s (1 attempt)")


def test_a_server_that_never_accepts_is_retried_within_the_deadline():
    with socket.socket() as full:
        full.bind(("127.0.0.1", 0))
        full.listen(0)
        address = full.getsockname()
        fillers = fill_backlog(address)
        host = f"http://127.0.0.1:{address[1]}"
        kube = Kube({"host": host, "connect_timeout": 0.2, "request_timeout": 30})
        with pytest.raises(OctoError) as err:
            kube.list(res.CONFIG_MAP, "octo-dev")
        for filler in fillers:
            filler.close()
    assert str(err.value).startswith(f"Failed to read ConfigMap list: cannot reach {host}: no answer after ")
    assert str(err.value).endswith("s (4 attempts)")


def fill_backlog(address) -> list[socket.socket]:
    """Connect until the listen queue is full: from then on the kernel drops new connection attempts."""
    fillers = []
    while True:
        sock = socket.socket()
        sock.settimeout(0.3)
        try:
            sock.connect(address)
        except TimeoutError:
            sock.close()
            return fillers
        fillers.append(sock)


def test_apply_retries_once_when_a_concurrent_writer_created_the_object(stub):
    created = {**CONFIG_MAP, "metadata": {**CONFIG_MAP["metadata"], "uid": "u1"}}
    server = stub(
        status(409, "AlreadyExists", 'configmaps "cm" already exists'),
        (200, {"Content-Type": "application/json"}, json.dumps(created)),
    )
    assert Kube({"host": server.url}).apply(res.CONFIG_MAP, CONFIG_MAP) == created
    assert [method for method, _ in server.seen] == ["PATCH", "PATCH"]


def test_apply_retries_already_exists_only_once(stub):
    server = stub(status(409, "AlreadyExists", 'configmaps "cm" already exists'))
    with pytest.raises(ApiError, match=r'^Failed to apply ConfigMap cm: 409 configmaps "cm" already exists$'):
        Kube({"host": server.url}).apply(res.CONFIG_MAP, CONFIG_MAP)
    assert len(server.seen) == 2


def test_other_conflicts_are_not_retried(stub):
    server = stub(status(409, "Conflict", "Apply failed with 1 conflict"))
    with pytest.raises(ApiError) as err:
        Kube({"host": server.url}).apply(res.CONFIG_MAP, CONFIG_MAP)
    assert (err.value.status, err.value.cause, len(server.seen)) == (409, "Conflict", 1)


def test_api_key_is_sent_as_a_bearer_token_on_every_attempt(stub):
    server = stub((503, {}, "busy"), (200, {"Content-Type": "application/json"}, "{}"))
    Kube({"host": server.url, "api_key": "t0ken"}).get(res.CONFIG_MAP, "cm", "ns")
    assert server.seen == [("GET", "Bearer t0ken"), ("GET", "Bearer t0ken")]


@pytest.mark.parametrize("option", ["request_timeout", "connect_timeout"])
def test_a_timeout_must_be_positive(option):
    with pytest.raises(
        OctoError, match=rf"^Failed to validate the Kubernetes connection: {option}: must be a positive"
    ):
        Kube({"host": "https://127.0.0.1:1", option: 0})


def test_missing_kubeconfig_is_a_clear_error(tmp_path):
    with pytest.raises(OctoError, match=r"^Failed to load the Kubernetes configuration"):
        Kube({"kubeconfig": str(tmp_path / "absent.yaml")})


def test_resource_paths():
    assert res.DEPLOYMENT.path("ns", "a b") == "/apis/apps/v1/namespaces/ns/deployments/a%20b"
    assert res.NAMESPACE.path(None, "octo-dev") == "/api/v1/namespaces/octo-dev"
    assert res.resource_for({"apiVersion": "networking.k8s.io/v1", "kind": "Ingress"}) is res.INGRESS
    with pytest.raises(KeyError):
        res.resource_for({"apiVersion": "extensions/v1beta1", "kind": "Ingress"})
