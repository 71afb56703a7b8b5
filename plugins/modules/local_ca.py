#!/usr/bin/python
"""A local CA and the local domain's wildcard certificate, generated once and stored as the wildcard TLS Secret."""

from __future__ import annotations

DOCUMENTATION = r"""
module: local_ca
short_description: Local CA and wildcard certificate for HTTPS without ACME
version_added: 0.1.0
description:
  - For clusters without public DNS or cert-manager (the embedded local cluster). Generates, once, a local CA
    and a certificate for C(*.<domain>) and C(<domain>) signed by it, kept as files under O(dir), and stores
    the certificate as the TLS Secret that M(octo.platform.integration) uses with O(octo.platform.integration#module:tls_mode=wildcard).
  - Later runs reuse the files. The certificate is issued again when it no longer covers the names, chains to
    the CA or matches its key, or has 30 days or fewer left. The Secret is written only when it differs.
  - Keys are written with mode 0600 and never returned, logged or shown in the diff. Trust the CA
    (RV(ca_cert_path)) in a browser or with C(curl --cacert) to reach the https:// URLs.
  - In check mode nothing is written; when new keys would be generated, the returned fingerprints are a preview.
options:
  dir:
    description: Directory that keeps C(ca.key), C(ca.crt), C(wildcard.key) and C(wildcard.crt), created 0700.
    type: path
    required: true
  domain:
    description: The base domain; the certificate covers C(*.<domain>) and C(<domain>).
    type: str
    required: true
  ca_name:
    description: Common name of a newly generated CA.
    type: str
    default: Octo local CA
  secret_name:
    description: Name of the TLS Secret (the integration module's O(octo.platform.integration#module:wildcard_secret)).
    type: str
    default: octo-wildcard-tls
  namespace:
    description: Namespace of the Secret (created when missing).
    type: str
    default: octo-dev
extends_documentation_fragment:
  - octo.platform.k8s_auth
attributes:
  check_mode:
    support: full
    description: Predicts which files and whether the Secret would be written.
  diff_mode:
    support: full
    description: Certificate fingerprints and the Secret's state before and after; never key material.
  action_group:
    description: Use C(group/octo.platform.k8s) in C(module_defaults) to set defaults for this module.
    support: full
    membership: [octo.platform.k8s]
author:
  - octo.platform maintainers (!UNKNOWN)
"""

EXAMPLES = r"""
- name: HTTPS for the local demo
  octo.platform.local_ca:
    dir: "{{ octo_cluster_dir }}/tls"
    domain: octo.localtest.me
    namespace: octo-dev
  register: local_ca

- name: Tell the user which CA to trust
  ansible.builtin.debug:
    msg: "Trust {{ local_ca.ca_cert_path }} (SHA-256 {{ local_ca.ca_fingerprint_sha256 }})"
"""

RETURN = r"""
ca_cert_path:
  description: Path of the CA certificate to trust.
  returned: always
  type: str
  sample: /root/.cache/octo-platform/cluster/tls/ca.crt
ca_cert_pem:
  description: The CA certificate (public).
  returned: always
  type: str
ca_fingerprint_sha256:
  description: SHA-256 fingerprint of the CA certificate.
  returned: always
  type: str
certificate:
  description: The wildcard certificate's DNS names, expiry (UTC) and days left.
  returned: always
  type: dict
  sample: {dns_names: ["*.octo.localtest.me", octo.localtest.me], not_after: "2027-12-29T21:50:16Z", days_left: 396,
           fingerprint_sha256: "cf:9e:..."}
files_written:
  description: Files this run (re)wrote, sorted.
  returned: always
  type: list
  elements: str
  sample: [ca.crt, ca.key, wildcard.crt, wildcard.key]
secret:
  description: The Secret and what this run did to it (created, updated, unchanged).
  returned: always
  type: dict
  sample: {name: octo-wildcard-tls, namespace: octo-dev, action: created}
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.octo.platform.plugins.module_utils.common import runner
from ansible_collections.octo.platform.plugins.module_utils.common.args import K8S_AUTH
from ansible_collections.octo.platform.plugins.module_utils.kube.local_ca import ensure

ARGUMENT_SPEC = {
    "dir": {"type": "path", "required": True},
    "domain": {"type": "str", "required": True},
    "ca_name": {"type": "str", "default": "Octo local CA"},
    "secret_name": {"type": "str", "default": "octo-wildcard-tls"},
    "namespace": {"type": "str", "default": "octo-dev"},
    **K8S_AUTH,
}


def main():
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    outcome = runner.run(ensure, module)
    if outcome.failed:
        module.fail_json(**outcome.result)
    module.exit_json(**outcome.result)


if __name__ == "__main__":
    main()
