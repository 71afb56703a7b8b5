#!/usr/bin/python
"""Verify the deployed platform from the outside: DNS, certificate, health, security headers, authentication."""

from __future__ import annotations

DOCUMENTATION = r"""
module: platform_verify
short_description: Verify the editor and every exposed integration from the outside after a deploy
version_added: 0.1.0
description:
  - For each endpoint in O(endpoints) (the editor and every exposed integration), runs five checks and reports
    them as RV(table) (lines for the play to print) and RV(endpoints) (the same as data).
  - C(dns) - the host resolves (through O(resolver) when given) to the node, O(node_addresses).
  - C(certificate) - the certificate served covers the host, verifies against O(ca_cert) (or the system
    trust store) and has at least O(min_days_left) days left. An V(http://) endpoint fails it unless
    O(require_tls=false).
  - C(health) - a GET of C(health_path) answers 200 with a JSON body holding every key of C(health_keys)
    (dotted paths for nested keys).
  - C(headers) - the health answer carries C(Strict-Transport-Security) (max-age of 180 days or more),
    C(X-Content-Type-Options nosniff), C(X-Frame-Options) (C(DENY) or C(SAMEORIGIN)) or a
    C(Content-Security-Policy) with C(frame-ancestors), and C(Referrer-Policy).
  - C(auth) - when authentication is required (O(oidc_enabled) or the endpoint's C(auth_required)), a GET of
    C(auth_path) without credentials is refused with 401, 403 or a redirect (302, 303, 307) to the login.
  - An endpoint whose checks do not all pass is checked again after O(delay) seconds, at most O(retries) more
    times. With O(fail_on_error), any failed check fails the task (the table is in the result).
options:
  endpoints:
    description: The public endpoints to verify.
    type: list
    elements: dict
    required: true
    suboptions:
      name:
        description: Name in the table; the host when unset.
        type: str
      url:
        description: The public https:// URL (with a port when not 443); http:// for a platform without TLS.
        type: str
        required: true
      health_path:
        description: Path of the health endpoint.
        type: str
        default: /api/health
      health_keys:
        description: Keys the health JSON must hold (dotted for nested ones).
        type: list
        elements: str
        default: [status]
      auth_path:
        description: An API path that must refuse an unauthenticated call.
        type: str
        default: /api/
      auth_required:
        description: Whether this endpoint must enforce authentication; O(oidc_enabled) when unset.
        type: bool
      address:
        description: Address to connect to for this endpoint; O(address) or the first resolved address when unset.
        type: str
  oidc_enabled:
    description: Whether the platform has OIDC on, so every endpoint must refuse unauthenticated API calls.
    type: bool
    default: false
  node_addresses:
    description: Addresses the hosts must resolve to (the node's). Empty checks only that they resolve.
    type: list
    elements: str
    default: []
  address:
    description: Address to connect to (the node) instead of the first resolved address.
    type: str
  resolver:
    description: IP address of the DNS server to ask (through C(dnspython)); the system resolver when unset.
    type: str
  resolver_port:
    description: Port of O(resolver).
    type: int
    default: 53
  ca_cert:
    description: CA bundle (PEM file) the certificates must verify against, e.g. the local CA's.
    type: path
  min_days_left:
    description: The certificate check fails with fewer days left.
    type: int
    default: 14
  require_tls:
    description:
      - Whether an V(http://) endpoint fails the C(certificate) check. V(false) only for a platform without TLS
        on purpose (the local inventory); its C(certificate) check then passes as skipped and HSTS is not asked for.
    type: bool
    default: true
  retries:
    description: How many more times an endpoint is checked when one of its checks fails.
    type: int
    default: 5
  delay:
    description: Seconds between two checks of an endpoint.
    type: float
    default: 3.0
  fail_on_error:
    description: Fail the task when a check fails; otherwise report it in RV(ok) and RV(failures) only.
    type: bool
    default: true
  checks:
    description:
      - The checks to run; the others are reported as passed, skipped. E.g. without C(dns) where the public
        names do not resolve (yet) and O(address) reaches the node.
    type: list
    elements: str
    choices: [dns, certificate, health, headers, auth]
    default: [dns, certificate, health, headers, auth]
attributes:
  check_mode:
    support: full
    description: Reads only; runs the same checks.
  diff_mode:
    support: none
    description: Nothing to diff.
requirements:
  - cryptography (Python library)
  - dnspython (only with O(resolver))
author:
  - octo.platform maintainers (!UNKNOWN)
"""

EXAMPLES = r"""
- name: Verify the platform after the deploy
  octo.platform.platform_verify:
    oidc_enabled: true
    node_addresses: [203.0.113.10]
    endpoints:
      - name: editor
        url: https://octo.example.com
      - name: orders-api
        url: https://orders.example.com
        health_path: /healthz
        auth_required: false
  register: verified

- name: Print the verification table
  ansible.builtin.debug:
    msg: "{{ verified.table }}"
"""

RETURN = r"""
ok:
  description: Whether every check of every endpoint passed.
  returned: always
  type: bool
table:
  description: The pass/fail table, one line per endpoint and check.
  returned: always
  type: list
  elements: str
  sample:
    - "RESULT  ENDPOINT  CHECK        DETAIL"
    - "PASS    editor    dns          octo.example.com resolves to 203.0.113.10"
endpoints:
  description: Per endpoint its C(name), C(url), C(ok), C(attempts) and C(checks) (C(name), C(ok), C(message)).
  returned: always
  type: list
  elements: dict
failures:
  description: One line per failed check.
  returned: always
  type: list
  elements: str
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.octo.platform.plugins.module_utils.common import runner
from ansible_collections.octo.platform.plugins.module_utils.common.verify_args import VERIFY
from ansible_collections.octo.platform.plugins.module_utils.tls.platform_verify import run


def main():
    module = AnsibleModule(argument_spec=VERIFY, supports_check_mode=True)
    outcome = runner.run(run, module)
    (module.fail_json if outcome.failed else module.exit_json)(**outcome.result)


if __name__ == "__main__":
    main()
