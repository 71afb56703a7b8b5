#!/usr/bin/python
"""Check one public URL's chain: DNS to the node, the Ingress serving it, its TLS Secret and certificate."""

from __future__ import annotations

DOCUMENTATION = r"""
module: platform_endpoint_info
short_description: Check a public URL's DNS, Ingress, TLS Secret, certificate and handshake
version_added: 0.1.0
description:
  - For the host of O(url), checks in order and reports each check with a message
    - C(dns) the host resolves, and only to O(node_ip) when given;
    - C(ingress) an Ingress has a rule for the host (exact, else a wildcard rule) and a TLS entry covering it;
    - C(secret) that TLS Secret exists in the Ingress' namespace and holds C(tls.crt);
    - C(certificate) the certificate covers the host (a C(*.domain) name covers one label) and has at least
      O(min_days_left) days left (the days left are reported);
    - C(handshake) with O(handshake=true), a real TLS handshake with SNI to O(address) verifies the chain
      (against O(handshake_ca_cert), else the system trust) and the name, and that the served certificate is the
      Secret's.
  - The Secret check runs when the Ingress check passed, the certificate check when the Secret check passed.
  - Reads only; it never fails because a check failed (see RV(ok) and RV(failures)). Secrets' keys are never read
    into the result.
options:
  url:
    description: The URL (or bare host name) to check.
    type: str
    required: true
  node_ip:
    description: Addresses the host must resolve to (the node's). Empty checks only that it resolves.
    type: list
    elements: str
    default: []
  resolver:
    description: IP address of the DNS server to ask (through C(dnspython)); the system resolver when not given.
    type: str
  resolver_port:
    description: Port of O(resolver).
    type: int
    default: 53
  namespace:
    description:
      - Look for the Ingress in this namespace first; when none there serves the host, in every namespace
        (so a namespace from C(module_defaults) does not hide another namespace's Ingress).
    type: str
  min_days_left:
    description: The certificate check fails with fewer days left.
    type: int
    default: 14
  handshake:
    description: Also make a TLS handshake with the endpoint.
    type: bool
    default: false
  address:
    description: Address to connect to for the handshake; the first resolved address when not given.
    type: str
  port:
    description: Port of the handshake.
    type: int
    default: 443
  handshake_ca_cert:
    description: CA bundle (PEM file) that verifies the handshake, e.g. the local CA of M(octo.platform.local_ca).
    type: path
extends_documentation_fragment:
  - octo.platform.k8s_auth
attributes:
  check_mode:
    support: full
    description: Reads only.
  diff_mode:
    support: none
    description: Nothing to diff.
  action_group:
    description: Use C(group/octo.platform.k8s) in C(module_defaults) to set defaults for this module.
    support: full
    membership: [octo.platform.k8s]
requirements:
  - dnspython (only with O(resolver))
author:
  - octo.platform maintainers (!UNKNOWN)
"""

EXAMPLES = r"""
- name: Check the public URL of http-orders
  octo.platform.platform_endpoint_info:
    url: https://http-orders.example.com/
    node_ip: [203.0.113.10]
    handshake: true
  register: endpoint

- name: Fail with the reasons
  ansible.builtin.assert:
    that: endpoint.ok
    fail_msg: "{{ endpoint.failures | join('; ') }}"
"""

RETURN = r"""
host:
  description: The host checked.
  returned: always
  type: str
  sample: http-orders.example.com
ok:
  description: True when every check ran and passed.
  returned: always
  type: bool
checks:
  description:
    - One entry per check that ran, in order, with C(name), C(ok), C(message) and details
      (C(dns) addresses/expected; C(ingress) namespace/ingress/secret_name; C(certificate) dns_names, issuer,
      not_after, days_left, fingerprint_sha256; C(handshake) address, fingerprint_sha256).
  returned: always
  type: list
  elements: dict
  sample: [{name: certificate, ok: true, message: "the certificate covers http-orders.example.com, 80 days left",
            days_left: 80, dns_names: ["*.example.com", example.com]}]
failures:
  description: The messages of the checks that failed.
  returned: always
  type: list
  elements: str
  sample: ["http-orders.example.com resolves to 198.51.100.9, not the node (203.0.113.10)"]
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.octo.platform.plugins.module_utils.common import runner
from ansible_collections.octo.platform.plugins.module_utils.common.args import K8S_AUTH
from ansible_collections.octo.platform.plugins.module_utils.kube.endpoint_info import check

ARGUMENT_SPEC = {
    "url": {"type": "str", "required": True},
    "node_ip": {"type": "list", "elements": "str", "default": []},
    "resolver": {"type": "str"},
    "resolver_port": {"type": "int", "default": 53},
    "namespace": {"type": "str"},
    "min_days_left": {"type": "int", "default": 14},
    "handshake": {"type": "bool", "default": False},
    "address": {"type": "str"},
    "port": {"type": "int", "default": 443},
    "handshake_ca_cert": {"type": "path"},
    **K8S_AUTH,
}


def main():
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    outcome = runner.run(check, module)
    if outcome.failed:
        module.fail_json(**outcome.result)
    module.exit_json(**outcome.result)


if __name__ == "__main__":
    main()
