"""The `platform_verify` operation: every public endpoint's DNS, certificate, health, headers and auth.

Reads only. Each endpoint is checked again, after ``delay`` seconds, up to ``retries`` more times until all
its checks pass; the last attempt's checks are reported.
"""

from __future__ import annotations

import time
from urllib.parse import urlsplit

from ansible_collections.octo.platform.plugins.module_utils.common.errors import OctoError, ValidationError
from ansible_collections.octo.platform.plugins.module_utils.render import endpoint, verify
from ansible_collections.octo.platform.plugins.module_utils.render.endpoint import Check
from ansible_collections.octo.platform.plugins.module_utils.tls import certs, http_probe, probe


def _settings(params: dict) -> dict:
    for option in ("retries", "min_days_left"):
        if params[option] < 0:
            raise ValidationError(verify.WHAT, option, "must be 0 or more")
    return {
        "expected": endpoint.ip_list(params.get("node_addresses"), "node_addresses"),
        "resolver": endpoint.ip_list([params["resolver"]], "resolver")[0] if params.get("resolver") else None,
    }


def run(params: dict, check_mode: bool = False, diff: bool = False) -> dict:
    certs.require()
    items = verify.endpoints(params)
    settings = _settings(params)
    results = [_until_ok(item, params, settings) for item in items]
    lines = verify.table(results)
    failures = [
        f"{r['name']} {c['name']}: {c['message']}" for r in results for c in r["checks"] if not c["ok"]
    ]
    result = {
        "changed": False,
        "ok": not failures,
        "endpoints": results,
        "table": lines,
        "failures": failures,
    }
    if failures and params["fail_on_error"]:
        raise OctoError(
            "verify", "the platform", f"{len(failures)} checks failed: {'; '.join(failures)}", **result
        )
    return result


def _until_ok(item: dict, params: dict, settings: dict) -> dict:
    for attempt in range(params["retries"] + 1):
        if attempt:
            time.sleep(params["delay"])
        checks = _asked(_checks(item, params, settings), params["checks"])
        if all(c.ok for c in checks):
            break
    return {
        "name": item["name"],
        "url": item["url"],
        "ok": all(c.ok for c in checks),
        "attempts": attempt + 1,
        "checks": [c.as_dict() for c in checks],
    }


def _checks(item: dict, params: dict, settings: dict) -> list[Check]:
    host = item["host"]
    addresses, error = probe.resolve(host, settings["resolver"], params["resolver_port"])
    checks = [endpoint.dns_check(host, addresses, settings["expected"], error)]
    address = item.get("address") or params.get("address") or (addresses[0] if addresses else host)
    url = urlsplit(item["url"])
    https = url.scheme == "https"
    port = url.port or (443 if https else 80)
    checks.append(
        _certificate(host, address, port, params) if https else verify.plain_http_check(params["require_tls"])
    )
    health = http_probe.get(host, address, port, item["health_path"], params.get("ca_cert"), https)
    checks.append(verify.health_check(health.status, health.body, item["health_keys"], health.error))
    checks.append(
        verify.headers_check(health.headers, https)
        if not health.error
        else Check("headers", False, "no answer")
    )
    auth = http_probe.Answer()
    if item["auth_required"]:
        auth = http_probe.get(host, address, port, item["auth_path"], params.get("ca_cert"), https)
    checks.append(verify.auth_check(item["auth_required"], auth.status, auth.error))
    return checks


def _asked(checks: list[Check], asked: list[str]) -> list[Check]:
    """The checks not asked for pass as skipped (e.g. dns where the public names do not resolve yet)."""
    return [c if c.name in asked else Check(c.name, True, "skipped (not asked for)") for c in checks]


def _certificate(host: str, address: str, port: int, params: dict) -> Check:
    pem, error = http_probe.served_certificate(host, address, port)
    if error:
        return Check("certificate", False, f"no TLS answer from {address}:{port}: {error}")
    facts = certs.facts(pem)
    check = endpoint.certificate_check(host, facts, certs.now(), params["min_days_left"])
    if not check.ok:
        return check
    _served, untrusted = probe.handshake(host, address, port, params.get("ca_cert"))
    if untrusted:
        return Check("certificate", False, f"not trusted: {untrusted}", check.details)
    return check
