"""The Kubernetes connection: auth from kubeconfig / in-cluster / explicit options, and counted REST calls.

The kubernetes SDK is used only to load configuration (kubeconfig, exec plugins, in-cluster); requests go
through one urllib3 pool, so every read and write can be counted and no API discovery is needed.
"""

from __future__ import annotations

import json
import os
import re
import threading
import time
from collections import Counter
from urllib.parse import urlencode

from ansible_collections.octo.platform.plugins.module_utils.common.errors import (
    DependencyError,
    OctoError,
    ValidationError,
)
from ansible_collections.octo.platform.plugins.module_utils.kube.resources import Resource

try:
    import urllib3
    from kubernetes import client as k8s_client
    from kubernetes import config as k8s_config
    from requests.utils import should_bypass_proxies  # what the kubernetes SDK uses: hosts, domains, CIDRs

    IMPORT_ERROR = None
except ImportError as err:  # pragma: no cover - depends on the host
    IMPORT_ERROR = err

FIELD_MANAGER = "octo.platform"
# One request, retries included, gets REQUEST_TIMEOUT seconds; each connection attempt CONNECT_TIMEOUT.
REQUEST_TIMEOUT = 60.0
CONNECT_TIMEOUT = 10.0
# Bounded retries on connection errors and on answers that mean "try again" (the API server's own advice).
MAX_ATTEMPTS = 4
BACKOFF = 0.3  # seconds before the first retry, doubled for each further one
RETRY_STATUSES = frozenset({429, 502, 503, 504})
READ_VERBS = frozenset({"GET"})
# Items per LIST request (kubectl's chunk size): the API server sends the rest behind a continue token.
PAGE_SIZE = 500
BODY_EXCERPT = 160  # characters of a non-JSON answer quoted in an error
CONNECTION = "the Kubernetes connection"


class ApiError(OctoError):
    """A non-2xx answer; ``cause`` is the Status reason of the API server (e.g. AlreadyExists) if any."""

    def __init__(self, verb: str, what: str, status: int, reason: str, cause: str = ""):
        super().__init__(verb, what, reason)
        self.status = status
        self.cause = cause


def _load_configuration(auth: dict):
    cfg = k8s_client.Configuration()
    kubeconfig = auth.get("kubeconfig")
    explicit_host = auth.get("host")
    default_kubeconfig = os.path.expanduser("~/.kube/config")
    if kubeconfig is not None and not isinstance(kubeconfig, (str, dict)):
        raise ValidationError(CONNECTION, "kubeconfig", "must be a path or a kubeconfig mapping")
    try:
        if isinstance(kubeconfig, dict):
            k8s_config.load_kube_config_from_dict(
                config_dict=kubeconfig, context=auth.get("context"), client_configuration=cfg
            )
        elif kubeconfig or (not explicit_host and os.path.exists(default_kubeconfig)):
            k8s_config.load_kube_config(
                config_file=os.path.expanduser(os.path.expandvars(kubeconfig or default_kubeconfig)),
                context=auth.get("context"),
                client_configuration=cfg,
            )
        elif not explicit_host:
            k8s_config.load_incluster_config(client_configuration=cfg)
    except Exception as err:  # the loader raises many types; all mean the same to the user
        raise OctoError("load", "the Kubernetes configuration", str(err)) from err
    if explicit_host:
        cfg.host = explicit_host.rstrip("/")
    _explicit_options(cfg, auth)
    return cfg


def _explicit_options(cfg, auth: dict) -> None:
    """Options given to the module win over what the kubeconfig says."""
    if auth.get("api_key") or auth.get("username"):  # wins over the kubeconfig's token and its refresh
        cfg.refresh_api_key_hook = None
        cfg.api_key = {"BearerToken": auth["api_key"]} if auth.get("api_key") else {}
        cfg.api_key_prefix = {"BearerToken": "Bearer"}
    for option, attribute in (
        ("ca_cert", "ssl_ca_cert"),
        ("client_cert", "cert_file"),
        ("client_key", "key_file"),
        ("proxy", "proxy"),
        ("no_proxy", "no_proxy"),
    ):
        if auth.get(option):
            setattr(cfg, attribute, auth[option])
    if auth.get("validate_certs") is not None:
        cfg.verify_ssl = bool(auth["validate_certs"])


def _validate_auth(auth: dict) -> None:
    """Options that only work together, checked before any request."""
    for option, partner in (
        ("username", "password"),
        ("password", "username"),
        ("client_key", "client_cert"),
    ):
        if auth.get(option) and not auth.get(partner):
            raise ValidationError(CONNECTION, option, f"requires {partner}")
    if auth.get("impersonate_groups") and not auth.get("impersonate_user"):
        raise ValidationError(CONNECTION, "impersonate_groups", "requires impersonate_user")


def _fixed_headers(auth: dict):
    """Headers of every request: basic auth (unless a token is given) and impersonation."""
    headers = urllib3.HTTPHeaderDict({"Accept": "application/json", "User-Agent": "octo.platform"})
    if auth.get("username") and not auth.get("api_key"):
        credentials = f"{auth['username']}:{auth['password']}"
        headers.update(urllib3.util.make_headers(basic_auth=credentials))
    if auth.get("impersonate_user"):
        headers["Impersonate-User"] = auth["impersonate_user"]
    for group in auth.get("impersonate_groups") or []:
        headers.add("Impersonate-Group", group)  # one header per group, as the API server reads them
    return headers


def _pool(cfg, host: str, auth: dict):
    tls = {
        "cert_reqs": "CERT_REQUIRED" if cfg.verify_ssl else "CERT_NONE",
        "ca_certs": cfg.ssl_ca_cert,
        "cert_file": cfg.cert_file,
        "key_file": cfg.key_file,
    }
    no_proxy = getattr(cfg, "no_proxy", None)
    if cfg.proxy and not (no_proxy and should_bypass_proxies(host, no_proxy=no_proxy)):
        given = {k: v for k, v in (auth.get("proxy_headers") or {}).items() if v is not None}
        headers = urllib3.util.make_headers(**given) if given else None
        return urllib3.ProxyManager(cfg.proxy, num_pools=4, maxsize=8, proxy_headers=headers, **tls)
    return urllib3.PoolManager(num_pools=4, maxsize=8, **tls)


class Kube:
    """One connection to one API server; counts requests by verb."""

    def __init__(self, auth: dict):
        if IMPORT_ERROR is not None:
            raise DependencyError("kubernetes", "kubernetes", IMPORT_ERROR)
        _validate_auth(auth)
        self._budget = _seconds(auth, "request_timeout", REQUEST_TIMEOUT)
        self._connect_timeout = _seconds(auth, "connect_timeout", CONNECT_TIMEOUT)
        cfg = _load_configuration(auth)
        self.host = cfg.host.rstrip("/")
        self._cfg = cfg
        self._auth_lock = threading.Lock()
        self._pool = _pool(cfg, self.host, auth)
        self._fixed_headers = _fixed_headers(auth)
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
        headers = self._fixed_headers.copy()
        # Per request: the loader's hook renews an expiring token (exec plugin, service account file).
        # The SDK keeps it under BearerToken (with its prefix); older releases used "authorization".
        with self._auth_lock:
            token = self._cfg.get_api_key_with_prefix("BearerToken", alias="authorization")
        if token:
            headers["Authorization"] = token  # a token wins over basic auth
        if content_type:
            headers["Content-Type"] = content_type
        return headers

    def request(
        self, method: str, path: str, query: dict | None = None, body=None, content_type=None, what=""
    ):
        """Send one request; returns the decoded JSON answer, None for 404 on GET/DELETE."""
        url = self.host + path + ("?" + urlencode(query) if query else "")
        payload = None if body is None else json.dumps(body).encode()
        content_type = content_type or ("application/json" if payload else None)
        with self._count_lock:
            self.requests[method] += 1
        resp = self._send(method, url, payload, content_type, what or path)
        try:
            data = json.loads(resp.data) if resp.data else {}
        except ValueError:
            raise self._not_json(method, what or path, resp) from None
        if resp.status == 404 and method in ("GET", "DELETE"):
            return None
        if resp.status >= 400:
            status = data if isinstance(data, dict) else {}
            message = status.get("message", resp.reason)
            raise ApiError(
                _verb(method), what or path, resp.status, f"{resp.status} {message}", status.get("reason", "")
            )
        return data

    def _send(self, method: str, url: str, payload, content_type, what: str):
        """One overall deadline for the request, bounded retries included; the answer or an OctoError."""
        started = time.monotonic()
        deadline = started + self._budget
        attempt = 0
        while True:
            attempt += 1
            resp, error = self._attempt(method, url, payload, content_type, deadline)
            if resp is not None and resp.status not in RETRY_STATUSES:
                return resp
            pause = _pause(resp, attempt)
            # A certificate problem does not go away by retrying.
            if isinstance(error, urllib3.exceptions.SSLError) or attempt == MAX_ATTEMPTS:
                break
            if time.monotonic() + pause >= deadline:
                break
            time.sleep(pause)
        if resp is not None:
            return resp
        tries = f"{attempt} attempt" + ("s" if attempt > 1 else "")
        elapsed = time.monotonic() - started
        reason = f"cannot reach {self.host}: {_failure(error)} after {elapsed:.1f}s ({tries})"
        raise OctoError(_verb(method), what, reason) from error

    def _attempt(self, method: str, url: str, payload, content_type, deadline: float):
        remaining = max(deadline - time.monotonic(), 0.01)  # a late wake-up still gets its attempt
        timeout = urllib3.Timeout(connect=min(self._connect_timeout, remaining), read=remaining)
        try:
            resp = self._pool.request(
                method, url, body=payload, headers=self._headers(content_type), timeout=timeout, retries=False
            )
        except urllib3.exceptions.HTTPError as err:
            return None, err
        return resp, None

    def _not_json(self, method: str, what: str, resp) -> OctoError:
        """A load balancer's or proxy's answer (HTML, plain text) instead of the API server's JSON."""
        text = re.sub(r"<[^>]*>", " ", resp.data.decode("utf-8", errors="replace"))
        lines = (" ".join(line.split()) for line in text.splitlines())
        first = next((line for line in lines if line), resp.reason or "")
        if len(first) > BODY_EXCERPT:
            first = first[: BODY_EXCERPT - 3] + "..."
        if resp.status < 400:
            return OctoError(_verb(method), what, f"HTTP {resp.status} from {self.host} is not JSON: {first}")
        reason = f"HTTP {resp.status} from {self.host}: {first}"
        return ApiError(_verb(method), what, resp.status, reason)

    # Typed helpers over Resource paths.
    def get(self, res: Resource, name: str, namespace: str | None = None):
        return self.request("GET", res.path(namespace, name), what=f"{res.kind} {name}")

    def list(
        self,
        res: Resource,
        namespace: str | None = None,
        label_selector: str | None = None,
        keep=None,
        **query,
    ):
        """Every item, PAGE_SIZE per request (limit + continue: one consistent snapshot, however many pages).
        ``keep`` maps each item as its page is decoded, so a large list holds only what the caller reads."""
        if label_selector:
            query["labelSelector"] = label_selector
        query["limit"] = PAGE_SIZE
        items = []
        while True:
            answer = self.request("GET", res.path(namespace), query=query, what=f"{res.kind} list") or {}
            for item in answer.get("items") or []:  # list items carry no apiVersion/kind
                item.setdefault("apiVersion", res.api_version)
                item.setdefault("kind", res.kind)
                items.append(keep(item) if keep else item)
            query["continue"] = (answer.get("metadata") or {}).get("continue")
            if not query["continue"]:
                return items

    def apply(self, res: Resource, obj: dict, dry_run: bool = False):
        """Server-side apply with this collection's field manager (create or update)."""
        meta = obj["metadata"]
        query = {"fieldManager": FIELD_MANAGER, "force": "true"}
        if dry_run:
            query["dryRun"] = "All"
        path = res.path(meta.get("namespace"), meta["name"])

        def send():
            return self.request(
                "PATCH",
                path,
                query=query,
                body=obj,
                content_type="application/apply-patch+yaml",
                what=f"{res.kind} {meta['name']}",
            )

        try:
            return send()
        except ApiError as err:
            if err.cause != "AlreadyExists":
                raise
        return send()  # a concurrent writer created it first: applying once more updates it

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
        return self._patch(res, name, namespace, patch, "application/merge-patch+json", manager)

    def json_patch(self, res: Resource, name: str, namespace: str | None, operations: list[dict]):
        """A JSON patch (RFC 6902): a failing ``test`` operation makes the server refuse it whole (422)."""
        return self._patch(res, name, namespace, operations, "application/json-patch+json", FIELD_MANAGER)

    def _patch(self, res: Resource, name: str, namespace: str | None, body, content_type: str, manager: str):
        return self.request(
            "PATCH",
            res.path(namespace, name),
            query={"fieldManager": manager},
            body=body,
            content_type=content_type,
            what=f"{res.kind} {name}",
        )

    def delete(self, res: Resource, name: str, namespace: str | None = None):
        return self.request(
            "DELETE",
            res.path(namespace, name),
            body={"propagationPolicy": "Background"},
            what=f"{res.kind} {name}",
        )


def _seconds(auth: dict, option: str, default: float) -> float:
    value = auth.get(option)
    if value is None:
        return default
    if value <= 0:
        raise ValidationError(CONNECTION, option, "must be a positive number of seconds")
    return float(value)


def _pause(resp, attempt: int) -> float:
    """Seconds before the next attempt: the server's Retry-After when it gives one, else backoff."""
    retry_after = resp.headers.get("Retry-After", "") if resp is not None else ""
    if retry_after.isdigit():
        return float(retry_after)
    return BACKOFF * 2 ** (attempt - 1)


def _failure(err: Exception) -> str:
    if isinstance(err, urllib3.exceptions.NewConnectionError):  # refused, unknown name: the OS's words
        cause = err.__cause__ or err.__context__
        return (getattr(cause, "strerror", None) or str(cause or err)).lower()
    if isinstance(err, urllib3.exceptions.TimeoutError):
        return "no answer"
    return str(err)


def _verb(method: str) -> str:
    return {"GET": "read", "DELETE": "delete", "POST": "create", "PUT": "replace", "PATCH": "apply"}[method]
