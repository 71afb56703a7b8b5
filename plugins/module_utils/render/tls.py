"""Pure TLS decisions: which names a certificate must cover, host matching (RFC 6125 wildcards), days left.

The `local_ca` module issues the local domain's wildcard certificate for ``wildcard_names(domain)``; the
`platform_endpoint_info` module checks an endpoint with ``covers`` and ``days_left``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime

from ansible_collections.octo.platform.plugins.module_utils.common.errors import ValidationError
from ansible_collections.octo.platform.plugins.module_utils.render import names

CA_DAYS = 3650
LEAF_DAYS = 397  # the longest validity browsers accept for a server certificate
RENEW_BEFORE_DAYS = 30


@dataclass(frozen=True)
class CertFacts:
    """What the checks need from one certificate."""

    subject: str
    issuer: str
    dns_names: tuple
    not_before: datetime
    not_after: datetime
    fingerprint_sha256: str


def wildcard_names(domain: str) -> tuple:
    """The names of a domain's wildcard certificate: ``*.<domain>`` and the apex."""
    domain = domain.lower().rstrip(".")
    if not names.is_dns_name(domain) or "." not in domain:
        raise ValidationError("the local CA", "domain", f"{domain!r} is not a DNS domain with a dot")
    return (f"*.{domain}", domain)


def covers(dns_names, host: str) -> bool:
    """True when one of the certificate's DNS names matches ``host``; a wildcard covers one left label only."""
    host = host.lower().rstrip(".")
    for name in dns_names:
        name = name.lower().rstrip(".")
        if name == host:
            return True
        if name.startswith("*.") and "." in host:
            label, rest = host.split(".", 1)
            if label and rest == name[2:]:
                return True
    return False


def days_left(not_after: datetime, now: datetime) -> int:
    """Whole days until ``not_after`` (negative once expired); a part day counts as none."""
    return math.floor((not_after - now).total_seconds() / 86400)


def reusable(facts: CertFacts, wanted: tuple, now: datetime) -> bool:
    """A kept certificate is reused while it covers ``wanted`` and has more than RENEW_BEFORE_DAYS left."""
    return set(wanted) <= set(facts.dns_names) and days_left(facts.not_after, now) > RENEW_BEFORE_DAYS
