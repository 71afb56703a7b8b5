"""The Kubernetes connection: auth from kubeconfig / in-cluster / explicit options, and counted REST calls.

The kubernetes SDK is used only to load configuration (kubeconfig, exec plugins, in-cluster); requests go
through one urllib3 pool, so every read and write can be counted and no API discovery is needed.
"""

from __future__ import annotations

import json
import os
import threading
from collections import Counter
from urllib.parse import urlencode

from ansible_collections.octo.platform.plugins.module_utils.common.errors import DependencyError, OctoError
from ansible_collections.octo.platform.plugins.module_utils.kube.resources import Resource

try:
    import urllib3
    from kubernetes import client as k8s_client
    from kubernetes import config as k8s_config

    IMPORT_ERROR = None
except ImportError as err:  # pragma: no cover - depends on the host
    IMPORT_ERROR = err

FIELD_MANAGER = "octo.platform"
# Bounded retries on connection errors and on answers that mean "try again" (the API server's own advice).
TRANSIENT_RETRIES = (
    urllib3.Retry(
        total=3,
        backoff_factor=0.3,
        status_forcelist=(429, 502, 503, 504),
        allowed_methods=None,
        raise_on_status=False,
        respect_retry_after_header=True,
    )
    if IMPORT_ERROR is None
    else None
)
READ_VERBS = frozenset({"GET"})


class ApiError(OctoError):
    """A non-2xx answer of the API server."""

    def __init__(self, verb: str, what: str, status: int, reason: str):
        super().__init__(verb, what, f"{status} {reason}")
        self.status = status


def _load_configuration(auth: dict):
    cfg = k8s_client.Configuration()
    kubeconfig = auth.get("kubeconfig")
    explicit_host = auth.get("host")
    default_kubeconfig = os.path.expanduser("~/.kube/config")
    try:
        if kubeconfig or (not explicit_host and os.path.exists(default_kubeconfig)):
            k8s_config.load_kube_config(
                config_file=kubeconfig or default_kubeconfig,
                context=auth.get("context"),
                client_configuration=cfg,
            )
        elif not explicit_host:
            k8s_config.load_incluster_config(client_configuration=cfg)
    except Exception as err:  # the loader raises many types; all mean the same to the user
        raise OctoError("load", "the Kubernetes configuration", str(err)) from err
    if explicit_host:
        cfg.host = explicit_host.rstrip("/")
    if auth.get("api_key"):
        cfg.api_key = {"authorization": auth["api_key"]}
        cfg.api_key_prefix = {"authorization": "Bearer"}
    if auth.get("ca_cert"):
        cfg.ssl_ca_cert = auth["ca_cert"]
    if auth.get("validate_certs") is not None:
        cfg.verify_ssl = bool(auth["validate_certs"])
    return cfg


class Kube:
    """One connection to one API server; counts requests by verb."""

    def __init__(self, auth: dict, timeout: float = 30.0):
        if IMPORT_ERROR is not None:
            raise DependencyError("kubernetes", "kubernetes", IMPORT_ERROR)
        cfg = _load_configuration(auth)
        self.host = cfg.host.rstrip("/")
        self._cfg = cfg
        self._timeout = timeout
        tls = {
            "cert_reqs": "CERT_REQUIRED" if cfg.verify_ssl else "CERT_NONE",
            "ca_certs": cfg.ssl_ca_cert,
            "cert_file": cfg.cert_file,
            "key_file": cfg.key_file,
        }
        if cfg.proxy:
            self._pool = urllib3.ProxyManager(cfg.proxy, num_pools=4, maxsize=8, **tls)
        else:
            self._pool = urllib3.PoolManager(num_pools=4, maxsize=8, **tls)
        if not cfg.verify_ssl:
            urllib3.disable_warnings(urllib3.exceptions.InsecureRequestWarning)
        self.requests: Counter = Counter()
        self._count_lock = threading.Lock()

    @property
    def reads(self) -> int:
        return sum(n for verb, n in self.requests.items() if verb in READ_VERBS)

    @property
    def writes(self) -> int:
        return sum(n for verb, n in self.requests.items() if verb not in READ_VERBS)

    def _headers(self, content_type: str | None) -> dict:
        headers = {"Accept": "application/json", "User-Agent": "octo.platform"}
        token = self._cfg.get_api_key_with_prefix("authorization")
        if token:
            headers["Authorization"] = token
        if content_type:
            headers["Content-Type"] = content_type
        return headers

    def request(
        self, method: str, path: str, query: dict | None = None, body=None, content_type=None, what=""
    ):
        """Send one request; returns the decoded JSON answer, None for 404 on GET/DELETE."""
        url = self.host + path + ("?" + urlencode(query) if query else "")
        payload = None if body is None else json.dumps(body).encode()
        with self._count_lock:
            self.requests[method] += 1
        try:
            resp = self._pool.request(
                method,
                url,
                body=payload,
                headers=self._headers(content_type or ("application/json" if payload else None)),
                timeout=self._timeout,
                retries=TRANSIENT_RETRIES,
            )
        except urllib3.exceptions.HTTPError as err:
            raise OctoError(_verb(method), what or path, f"cannot reach {self.host}: {err}") from err
        data = json.loads(resp.data) if resp.data else {}
        if resp.status == 404 and method in ("GET", "DELETE"):
            return None
        if resp.status >= 400:
            message = data.get("message", resp.reason) if isinstance(data, dict) else resp.reason
            raise ApiError(_verb(method), what or path, resp.status, message)
        return data

    # Typed helpers over Resource paths.
    def get(self, res: Resource, name: str, namespace: str | None = None):
        return self.request("GET", res.path(namespace, name), what=f"{res.kind} {name}")

    def list(self, res: Resource, namespace: str | None = None, label_selector: str | None = None, **query):
        if label_selector:
            query["labelSelector"] = label_selector
        answer = self.request("GET", res.path(namespace), query=query or None, what=f"{res.kind} list")
        items = answer.get("items", []) if answer else []
        for item in items:  # list items carry no apiVersion/kind
            item.setdefault("apiVersion", res.api_version)
            item.setdefault("kind", res.kind)
        return items

    def apply(self, res: Resource, obj: dict, dry_run: bool = False):
        """Server-side apply with this collection's field manager (create or update)."""
        meta = obj["metadata"]
        query = {"fieldManager": FIELD_MANAGER, "force": "true"}
        if dry_run:
            query["dryRun"] = "All"
        return self.request(
            "PATCH",
            res.path(meta.get("namespace"), meta["name"]),
            query=query,
            body=obj,
            content_type="application/apply-patch+yaml",
            what=f"{res.kind} {meta['name']}",
        )

    def create(self, res: Resource, obj: dict):
        meta = obj["metadata"]
        return self.request(
            "POST",
            res.path(meta.get("namespace")),
            query={"fieldManager": FIELD_MANAGER},
            body=obj,
            what=f"{res.kind} {meta['name']}",
        )

    def merge_patch(
        self, res: Resource, name: str, namespace: str | None, patch: dict, manager=FIELD_MANAGER
    ):
        """A JSON merge patch; ``manager`` keeps its fields apart from what server-side apply owns."""
        return self.request(
            "PATCH",
            res.path(namespace, name),
            query={"fieldManager": manager},
            body=patch,
            content_type="application/merge-patch+json",
            what=f"{res.kind} {name}",
        )

    def delete(self, res: Resource, name: str, namespace: str | None = None):
        return self.request(
            "DELETE",
            res.path(namespace, name),
            body={"propagationPolicy": "Background"},
            what=f"{res.kind} {name}",
        )


def _verb(method: str) -> str:
    return {"GET": "read", "DELETE": "delete", "POST": "create", "PUT": "replace", "PATCH": "apply"}[method]
