"""Operation of cloud_dns_record: converge record sets of one managed zone with one atomic Change."""

from __future__ import annotations

from ansible_collections.octo.platform.plugins.module_utils.common.errors import OctoError, ValidationError
from ansible_collections.octo.platform.plugins.module_utils.common.gcp_args import gcp_auth_params
from ansible_collections.octo.platform.plugins.module_utils.gcp import dns_plan
from ansible_collections.octo.platform.plugins.module_utils.gcp.dns_client import ChangeConflict, DnsZone


def converge(params: dict, check_mode: bool = False, diff: bool = False) -> dict:
    state = params.get("state") or "present"
    wanted = dns_plan.wanted_records(params)
    retries = params.get("retries", 3)
    if retries < 0:
        raise ValidationError(dns_plan.WHAT, "retries", "must be 0 or more")
    zone = DnsZone(gcp_auth_params(params), params["managed_zone"])
    dns_plan.check_in_zone(wanted, zone.dns_name())
    conflicts = []
    for _attempt in range(retries + 1):
        actual = {dns_plan.record_key(r): zone.read(*dns_plan.record_key(r)) for r in wanted}
        actual = {key: rrset for key, rrset in actual.items() if rrset}
        deletions, additions = dns_plan.plan_change(wanted, actual, state)
        result = {
            "changed": bool(deletions or additions),
            "records": _resulting(wanted, actual, additions, state),
            "deletions": deletions,
            "additions": additions,
            "conflicts": conflicts,
        }
        if diff:
            result["diff"] = dns_plan.diff(wanted, actual, deletions, additions)
        if not result["changed"] or check_mode:
            return result
        try:
            change = zone.apply(deletions, additions)
        except ChangeConflict as err:
            conflicts.append(str(err))
            continue
        result["change_id"] = change.name
        result["status"] = zone.wait_done(
            change, params.get("wait_timeout", 120), params.get("wait_sleep", 1.0)
        )
        return result
    raise OctoError(
        "change",
        dns_plan.WHAT,
        f"the zone kept changing under us; gave up after {retries + 1} attempts ({conflicts[-1]})",
        conflicts=conflicts,
    )


def _resulting(wanted: list[dict], actual: dict, additions: list[dict], state: str) -> list[dict]:
    """The record sets as they are once the change is applied (absent ones left out)."""
    if state == "absent":
        return []
    added = {dns_plan.record_key(r): r for r in additions}
    return [added.get(dns_plan.record_key(r)) or actual[dns_plan.record_key(r)] for r in wanted]
