"""Cloud DNS I/O through google-cloud-dns: read record sets, post one Change, wait until it is done."""

from __future__ import annotations

import time

from ansible_collections.octo.platform.plugins.module_utils.common.errors import DependencyError, OctoError
from ansible_collections.octo.platform.plugins.module_utils.gcp import clients

try:
    from google.api_core import exceptions as api_errors
    from google.api_core import page_iterator
    from google.cloud import dns

    IMPORT_ERROR = None
except ImportError as err:
    IMPORT_ERROR = err


class ChangeConflict(Exception):
    """The zone moved between read and write: 412 conditionNotMet or 409 alreadyExists."""


class DnsZone:
    """One managed zone, read and changed through the google-cloud-dns client."""

    def __init__(self, auth: dict, managed_zone: str):
        if IMPORT_ERROR is not None:
            raise DependencyError("google-cloud-dns", "google-cloud-dns", IMPORT_ERROR)
        clients.require_google("google-auth")
        creds, project = clients.credentials(auth)
        project = clients.require_project(project, f"managed zone {managed_zone}")
        self.client = dns.Client(
            project=project,
            credentials=creds,
            client_options=clients.client_options(auth.get("dns_endpoint")),
        )
        self.zone = self.client.zone(managed_zone)
        self.what = f"managed zone {managed_zone}"

    def dns_name(self) -> str:
        try:
            self.zone.reload()
        except api_errors.NotFound:
            raise OctoError("find", self.what, f"it does not exist in project {self.zone.project}") from None
        except api_errors.GoogleAPICallError as err:
            raise OctoError("read", self.what, _reason(err)) from None
        return self.zone.dns_name

    def read(self, name: str, rtype: str) -> dict | None:
        """The record set name/type as {name, type, ttl, rrdatas}, or None."""
        iterator = page_iterator.HTTPIterator(
            client=self.client,
            api_request=self.client._connection.api_request,
            path=f"/projects/{self.zone.project}/managedZones/{self.zone.name}/rrsets",
            item_to_value=_item_to_dict,
            items_key="rrsets",
            extra_params={"name": name, "type": rtype},
        )
        try:
            found = [rrset for rrset in iterator if rrset["name"] == name and rrset["type"] == rtype]
        except api_errors.GoogleAPICallError as err:
            raise OctoError("read", f"record set {name} {rtype}", _reason(err)) from None
        return found[0] if found else None

    def apply(self, deletions: list[dict], additions: list[dict]):
        """Post one Change; raise ChangeConflict on 412/409 so the caller re-reads."""
        change = self.zone.changes()
        for record in deletions:
            change.delete_record_set(self._record_set(record))
        for record in additions:
            change.add_record_set(self._record_set(record))
        try:
            change.create()
        except (api_errors.PreconditionFailed, api_errors.Conflict) as err:
            raise ChangeConflict(_reason(err)) from None
        except api_errors.GoogleAPICallError as err:
            raise OctoError("change", "DNS record sets", _reason(err)) from None
        return change

    def wait_done(self, change, timeout: float, sleep: float) -> str:
        """Poll the change until its status is done; fail after timeout seconds."""
        deadline = time.monotonic() + timeout
        while change.status != "done":
            if time.monotonic() >= deadline:
                raise OctoError(
                    "wait for", f"DNS change {change.name}", f"still {change.status} after {timeout}s"
                )
            time.sleep(sleep)
            try:
                change.reload()
            except api_errors.GoogleAPICallError as err:
                raise OctoError("read", f"DNS change {change.name}", _reason(err)) from None
        return change.status

    def _record_set(self, record: dict):
        return self.zone.resource_record_set(record["name"], record["type"], record["ttl"], record["rrdatas"])


def _item_to_dict(_iterator, resource: dict) -> dict:
    return {
        "name": resource["name"],
        "type": resource["type"],
        "ttl": int(resource.get("ttl", 0)),
        "rrdatas": list(resource.get("rrdatas", [])),
    }


def _reason(err) -> str:
    return f"{getattr(err, 'code', '')} {getattr(err, 'message', err)}".strip()
