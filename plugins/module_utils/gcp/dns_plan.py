"""Pure Cloud DNS record-set planning: validate the wanted sets and compute one exact-match Change."""

from __future__ import annotations

from ansible_collections.octo.platform.plugins.module_utils.common.errors import ValidationError
from ansible_collections.octo.platform.plugins.module_utils.gcp import dns_rdata

WHAT = "DNS record sets"
SINGLE_VALUE_TYPES = ("CNAME", "SOA")
KNOWN_TYPES = ("A", "AAAA", "CAA", "CNAME", "MX", "NS", "PTR", "SOA", "SPF", "SRV", "TXT")
MAX_TTL = 2147483647


def fqdn(name: str) -> str:
    """Lower-case absolute DNS name with the trailing dot Cloud DNS uses."""
    return name.strip().lower().rstrip(".") + "."


def record_key(record: dict) -> tuple[str, str]:
    return record["name"], record["type"]


def wanted_records(params: dict) -> list[dict]:
    """The normalized record sets asked for: the records list, or the single name/type/ttl/rrdatas."""
    if params.get("records") and params.get("name"):
        raise ValidationError(WHAT, "records", "give either records or name, not both")
    raw = params.get("records") or ([_single(params)] if params.get("name") else [])
    if not raw:
        raise ValidationError(WHAT, "records", "give at least one record set (records, or name)")
    records, seen = [], set()
    for index, item in enumerate(raw):
        record = _normalize(item, f"records[{index}]", params.get("state", "present"))
        if record_key(record) in seen:
            raise ValidationError(WHAT, f"records[{index}]", f"duplicate {record['type']} {record['name']}")
        seen.add(record_key(record))
        records.append(record)
    return records


def _single(params: dict) -> dict:
    return {key: params.get(key) for key in ("name", "type", "ttl", "rrdatas")}


def _normalize(item: dict, field: str, state: str) -> dict:
    name = (item.get("name") or "").strip()
    if not name or " " in name:
        raise ValidationError(WHAT, f"{field}.name", "must be a DNS name")
    rtype = (item.get("type") or "A").upper()
    if rtype not in KNOWN_TYPES:
        raise ValidationError(WHAT, f"{field}.type", f"unsupported type {rtype}")
    ttl = item.get("ttl") if item.get("ttl") is not None else 300
    if not isinstance(ttl, int) or not 0 <= ttl <= MAX_TTL:
        raise ValidationError(WHAT, f"{field}.ttl", f"must be an integer between 0 and {MAX_TTL}")
    rrdatas = [str(value).strip() for value in item.get("rrdatas") or []]
    if state == "present":
        rrdatas = _canonical_rrdatas(rtype, rrdatas, f"{field}.rrdatas")
    return {"name": fqdn(name), "type": rtype, "ttl": ttl, "rrdatas": sorted(set(rrdatas))}


def _canonical_rrdatas(rtype: str, rrdatas: list[str], field: str) -> list[str]:
    """The values in Cloud DNS's own form, so that comparing with what it returns is exact."""
    if not rrdatas:
        raise ValidationError(WHAT, field, "give at least one value with state=present")
    if rtype in SINGLE_VALUE_TYPES and len(rrdatas) > 1:
        raise ValidationError(WHAT, field, f"a {rtype} record set holds exactly one value")
    canonical = []
    for value in rrdatas:
        try:
            canonical.append(dns_rdata.canonical(rtype, value))
        except ValueError as err:
            raise ValidationError(WHAT, field, f"{value!r} is not a valid {rtype} value: {err}") from None
    return canonical


def check_in_zone(records: list[dict], zone_dns_name: str) -> None:
    """Every record name must be the zone apex or below it."""
    apex = fqdn(zone_dns_name)
    for index, record in enumerate(records):
        if record["name"] != apex and not record["name"].endswith("." + apex):
            raise ValidationError(WHAT, f"records[{index}].name", f"{record['name']} is not in zone {apex}")


def same(actual: dict, wanted: dict) -> bool:
    """Equal ttl and data; the actual data is canonicalized too (another writer may have used another form)."""
    have = sorted({_comparable(actual["type"], value) for value in actual["rrdatas"]})
    return actual["ttl"] == wanted["ttl"] and have == wanted["rrdatas"]


def _comparable(rtype: str, value: str) -> str:
    try:
        return dns_rdata.canonical(rtype, value)
    except ValueError:
        return value


def plan_change(wanted: list[dict], actual: dict, state: str) -> tuple[list[dict], list[dict]]:
    """(deletions, additions) turning actual {(name, type): rrset} into wanted; deletions match exactly."""
    deletions, additions = [], []
    for record in wanted:
        current = actual.get(record_key(record))
        if state == "absent":
            if current:
                deletions.append(current)
            continue
        if current and same(current, record):
            continue
        if current:
            deletions.append(current)
        additions.append(record)
    return deletions, additions


def diff(wanted: list[dict], actual: dict, deletions: list[dict], additions: list[dict]) -> dict:
    """Readable before/after of the touched record sets, keyed "<name> <type>"."""
    touched = {record_key(r) for r in deletions + additions}
    keys = [record_key(r) for r in wanted if record_key(r) in touched]
    after = {record_key(r): r for r in additions}
    return {
        "before": {f"{n} {t}": _view(actual.get((n, t))) for n, t in keys if actual.get((n, t))},
        "after": {f"{n} {t}": _view(after[(n, t)]) for n, t in keys if (n, t) in after},
    }


def _view(record: dict) -> dict:
    return {"ttl": record["ttl"], "rrdatas": sorted(record["rrdatas"])}
