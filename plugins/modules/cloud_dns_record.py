#!/usr/bin/python
"""Ensure Cloud DNS record sets in a managed zone with one atomic Change."""

from __future__ import annotations

DOCUMENTATION = r"""
module: cloud_dns_record
short_description: Ensure Cloud DNS record sets in a managed zone
version_added: 0.1.0
description:
  - Converges one or more record sets (name, type, ttl, rrdatas) of a Cloud DNS managed zone.
  - Cloud DNS has no upsert. All wanted sets go into one atomic Change holding exact-match deletions of the current
    sets plus additions of the wanted ones; no Change is made when every set is already as wanted.
  - When another writer changes the zone between the read and the write (HTTP 412 conditionNotMet on a stale
    deletion, or 409 alreadyExists on an addition), the module re-reads and retries, at most O(retries) times.
  - Waits until the Change is C(done), at most O(wait_timeout) seconds.
  - Everything is validated (names inside the zone, the data of each type, duplicates) before the first write.
  - Values are compared in the form Cloud DNS returns them, so a second run reports no change. TXT and SPF values
    are quoted character-strings of at most 255 bytes (a longer string is split); a value that does not start with
    a double quote is one string, spaces included (C(v=spf1 -all)); give C("a" "b") for several strings. Domain
    names inside CNAME, MX, NS, PTR and SRV data get lower-cased with a trailing dot; CAA takes the form
    C(0 issue "ca.example"); IPv6 addresses are compressed.
options:
  managed_zone:
    description: Name of the managed zone (not its DNS name).
    type: str
    required: true
    aliases: [zone]
  records:
    description:
      - The record sets to converge, all in one Change. Mutually exclusive with O(name).
    type: list
    elements: dict
    suboptions:
      name:
        description: DNS name; a trailing dot is added. Use C(*.<domain>) for a wildcard.
        type: str
        required: true
      type:
        description: Record type.
        type: str
        default: A
      ttl:
        description: TTL in seconds.
        type: int
        default: 300
      rrdatas:
        description:
          - The values of the set; required with O(state=present). Order does not matter.
          - In presentation form, for example C(10 mail.example.com) (MX), C(0 issue letsencrypt.org) (CAA),
            C(v=spf1 include:_spf.example.com ~all) (TXT).
        type: list
        elements: str
        default: []
  name:
    description: DNS name of a single record set (instead of O(records)).
    type: str
  type:
    description: Record type of the single record set.
    type: str
    default: A
  ttl:
    description: TTL of the single record set.
    type: int
    default: 300
  rrdatas:
    description: Values of the single record set.
    type: list
    elements: str
    default: []
  state:
    description: V(present) creates or replaces the sets, V(absent) deletes them (whatever their data).
    type: str
    choices: [present, absent]
    default: present
  retries:
    description: How many times to re-read and retry after a 412 or 409 from a concurrent writer.
    type: int
    default: 3
  wait_timeout:
    description: Seconds to wait for the Change to be C(done).
    type: int
    default: 120
  wait_sleep:
    description: Seconds between two polls of the Change status.
    type: float
    default: 1.0
extends_documentation_fragment:
  - octo.platform.gcp_auth
attributes:
  check_mode:
    support: full
    description: Reports exactly the Change a real run would make.
  diff_mode:
    support: full
    description: Shows the touched record sets before and after, keyed C(<name> <type>).
requirements:
  - google-cloud-dns >= 0.35.0 (Python library)
author:
  - octo.platform maintainers (!UNKNOWN)
"""

EXAMPLES = r"""
- name: Point the platform domain and every subdomain at the node
  octo.platform.cloud_dns_record:
    project: my-project
    managed_zone: octo-zone
    records:
      - { name: octo.example.com, type: A, ttl: 300, rrdatas: [203.0.113.10] }
      - { name: "*.octo.example.com", type: A, ttl: 300, rrdatas: [203.0.113.10] }

- name: Mail and certificate authority records
  octo.platform.cloud_dns_record:
    managed_zone: octo-zone
    records:
      - { name: octo.example.com, type: MX, rrdatas: ["10 mail.example.com"] }
      - { name: octo.example.com, type: TXT, rrdatas: ["v=spf1 include:_spf.example.com ~all"] }
      - { name: octo.example.com, type: CAA, rrdatas: ["0 issue letsencrypt.org"] }

- name: Remove a record set
  octo.platform.cloud_dns_record:
    managed_zone: octo-zone
    name: old.octo.example.com
    type: A
    state: absent
"""

RETURN = r"""
records:
  description: The wanted record sets as they are after the run (empty with O(state=absent)).
  returned: always
  type: list
  elements: dict
  sample: [{name: octo.example.com., type: A, ttl: 300, rrdatas: [203.0.113.10]}]
deletions:
  description: Record sets the Change deleted (exactly as they were).
  returned: always
  type: list
  elements: dict
additions:
  description: Record sets the Change added.
  returned: always
  type: list
  elements: dict
conflicts:
  description: The 412/409 errors met (one per retry) because the zone changed between read and write.
  returned: always
  type: list
  elements: str
change_id:
  description: ID of the Change made.
  returned: when a Change was made
  type: str
status:
  description: Status of the Change (C(done)).
  returned: when a Change was made
  type: str
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.octo.platform.plugins.module_utils.common import runner
from ansible_collections.octo.platform.plugins.module_utils.common.gcp_args import DNS_RECORD, GCP_AUTH
from ansible_collections.octo.platform.plugins.module_utils.gcp.dns_records import converge


def main():
    module = AnsibleModule(
        argument_spec={**DNS_RECORD, **GCP_AUTH},
        mutually_exclusive=[("records", "name")],
        required_one_of=[("records", "name")],
        supports_check_mode=True,
    )
    outcome = runner.run(converge, module)
    (module.fail_json if outcome.failed else module.exit_json)(**outcome.result)


if __name__ == "__main__":
    main()
