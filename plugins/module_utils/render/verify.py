"""Pure judgement of a post-deploy verification: endpoints to check, and health, auth and header checks.

The DNS and certificate checks are render.endpoint's (shared with platform_endpoint_info); the facts are
gathered by tls.http_probe. ``table`` renders every endpoint's checks as the lines the play prints.
"""

from __future__ import annotations

import json

from ansible_collections.octo.platform.plugins.module_utils.common.errors import ValidationError
from ansible_collections.octo.platform.plugins.module_utils.render import endpoint
from ansible_collections.octo.platform.plugins.module_utils.render.endpoint import Check

WHAT = "platform verification"
# One registry of the verification checks, in the order they are reported.
CHECKS = ("dns", "certificate", "health", "headers", "auth")
AUTH_STATUSES = (401, 403, 302, 303, 307)
HSTS_MIN_SECONDS = 15552000  # 180 days


def endpoints(params: dict) -> list[dict]:
    """The endpoints validated, with defaults from the module's top-level options."""
    found = []
    for index, item in enumerate(params.get("endpoints") or []):
        where = f"endpoints[{index}]"
        host = endpoint.host_of(item.get("url") or "")
        if not (item.get("url") or "").startswith(("https://", "http://")):
            raise ValidationError(WHAT, f"{where}.url", "must be an https:// (or http://) URL")
        for path in ("health_path", "auth_path"):
            if item.get(path) and not item[path].startswith("/"):
                raise ValidationError(WHAT, f"{where}.{path}", "must start with /")
        auth = params.get("oidc_enabled") if item.get("auth_required") is None else item["auth_required"]
        found.append({**item, "name": item.get("name") or host, "host": host, "auth_required": bool(auth)})
    if not found:
        raise ValidationError(WHAT, "endpoints", "list at least the editor")
    return found


def health_check(status: int | None, body: bytes, keys: list[str], error: str | None) -> Check:
    if error:
        return Check("health", False, f"no answer: {error}")
    if status != 200:
        return Check("health", False, f"answered HTTP {status}, not 200", {"status": status})
    try:
        document = json.loads(body)
    except ValueError:
        return Check("health", False, "answered 200 but not JSON", {"status": status})
    missing = [key for key in keys if _lookup(document, key) is None]
    if missing:
        return Check("health", False, f"JSON lacks {', '.join(missing)}", {"status": status})
    return Check("health", True, "200 with " + (", ".join(keys) or "a JSON body"), {"status": status})


def _lookup(document, dotted: str):
    for part in dotted.split("."):
        if not isinstance(document, dict) or part not in document:
            return None
        document = document[part]
    return document


def headers_check(headers: dict, https: bool = True) -> Check:
    """HSTS (max-age >= 180 days, over https only), nosniff, framing denied (X-Frame-Options or CSP
    frame-ancestors), Referrer-Policy."""
    h = {k.lower(): v for k, v in headers.items()}
    problems = []
    if https and _max_age(h.get("strict-transport-security", "")) < HSTS_MIN_SECONDS:
        problems.append(f"Strict-Transport-Security max-age >= {HSTS_MIN_SECONDS} missing")
    if h.get("x-content-type-options", "").lower() != "nosniff":
        problems.append("X-Content-Type-Options: nosniff missing")
    framing = h.get("x-frame-options", "").upper() in ("DENY", "SAMEORIGIN")
    if not framing and "frame-ancestors" not in h.get("content-security-policy", ""):
        problems.append("X-Frame-Options or CSP frame-ancestors missing")
    if not h.get("referrer-policy"):
        problems.append("Referrer-Policy missing")
    if problems:
        return Check("headers", False, "; ".join(problems))
    return Check("headers", True, ("HSTS, " if https else "") + "nosniff, framing and Referrer-Policy set")


def plain_http_check(require_tls: bool) -> Check:
    """The certificate check of an http:// endpoint: a failure unless TLS is not required (a local platform)."""
    if require_tls:
        return Check("certificate", False, "served over plain HTTP (TLS required)")
    return Check("certificate", True, "plain HTTP, TLS not required", {"skipped": True})


def _max_age(value: str) -> int:
    for part in value.split(";"):
        name, _sep, number = part.strip().partition("=")
        if name.lower() == "max-age" and number.strip().strip('"').isdigit():
            return int(number.strip().strip('"'))
    return -1


def auth_check(required: bool, status: int | None, error: str | None) -> Check:
    if not required:
        return Check("auth", True, "not required (OIDC off for this endpoint)", {"skipped": True})
    if error:
        return Check("auth", False, f"no answer: {error}")
    if status in AUTH_STATUSES:
        return Check("auth", True, f"unauthenticated call refused (HTTP {status})", {"status": status})
    return Check("auth", False, f"unauthenticated call answered HTTP {status}: authentication not enforced")


def table(results: list[dict]) -> list[str]:
    """One line per endpoint and check: PASS/FAIL, endpoint, check, message."""
    rows = [(c["ok"], r["name"], c["name"], c["message"]) for r in results for c in r["checks"]]
    width = max([len("ENDPOINT")] + [len(name) for _ok, name, _c, _m in rows])
    lines = [f"{'RESULT':6}  {'ENDPOINT':{width}}  {'CHECK':11}  DETAIL"]
    for ok, name, check, message in rows:
        lines.append(f"{'PASS' if ok else 'FAIL':6}  {name:{width}}  {check:11}  {message}")
    return lines
