#!/usr/bin/python
"""Hardening report of the platform configuration and the live cluster, before anything is deployed."""

from __future__ import annotations

DOCUMENTATION = r"""
module: platform_preflight
short_description: Hardening report of the platform settings and the live cluster, run before any write
version_added: 0.1.0
description:
  - Checks the platform settings (the C(platform_*) role variables without the prefix), the platform credentials
    and, read live, the cluster, and reports every finding with its C(id), C(severity), C(evidence) and C(fix)
    in RV(findings) and as RV(table), the lines for the play to print. Reads only.
  - C(secret_weak) (high) - a credential shorter than 32 bytes or with less than about 128 bits of entropy.
  - C(secret_default) (high) - a credential that is an example or default value (C(changeme), C(password), ...).
  - C(domain_example) (medium) - the domain is an example domain.
  - C(oidc_public) (high) - a public domain without OIDC (waivable).
  - C(tls_off) (high) - a public host (the editor's or one in O(public_hosts)) served without TLS.
  - C(postgres_no_backup) (high) - Postgres in the cluster and O(backups_enabled) false.
  - C(quota_missing) (medium) - no ResourceQuota in the integrations namespace and none configured.
  - C(pull_policy_never) (medium) - an image with pull policy C(Never).
  - C(mutable_tag) (medium) - an image tagged C(latest) (or untagged) without a digest.
  - C(rbac_cluster_wide) (high) - a SubjectAccessReview allows the orchestrator's ServiceAccount to act outside
    its namespaces (list Secrets everywhere, read Secrets or create Pods in kube-system, bind cluster roles).
  - C(secrets_encryption_off) (high) - O(k3s_config) turns k3s C(secrets-encryption) off.
  - C(state_bucket_drift) (high) - a drift in O(state_bucket_drift), the report of
    M(octo.platform.gcs_state_bucket) (versioning, public access prevention, ...).
  - C(public_url_mismatch) (medium) - a public URL (O(public_urls) and the components' C(*PUBLIC_URL),
    C(NEXTAUTH_URL), C(AUTH_URL) variables) not under the domain, or not https with TLS on.
  - With O(strict=true) any high finding not in O(waivers) fails the task (the report is in the result).
options:
  settings:
    description: The platform settings, the C(platform_*) variables without the prefix (as the platform role passes
      them to its modules).
    type: dict
    required: true
  credentials:
    description: The platform credentials (the C(credentials) of M(octo.platform.platform_credentials)). Only their
      names appear in findings.
    type: dict
    default: {}
  public_hosts:
    description: Public hosts besides the editor's, for example the exposed integrations', with whether TLS is on.
    type: list
    elements: dict
    default: []
    suboptions:
      host:
        description: The host name.
        type: str
        required: true
      tls:
        description: Whether it is served over TLS.
        type: bool
        default: true
  public_urls:
    description: More public URLs to check against the domain, by name.
    type: dict
    default: {}
  backups_enabled:
    description: Whether backups of the in-cluster Postgres are scheduled (the backup CronJob).
    type: bool
    default: false
  k3s_config:
    description: The k3s role's C(k3s_config); its C(secrets-encryption) is checked. Not checked when unset.
    type: dict
  state_bucket_drift:
    description: The C(drift) returned by M(octo.platform.gcs_state_bucket). Not checked when unset.
    type: list
    elements: dict
  cluster:
    description: Read the cluster (ResourceQuotas, SubjectAccessReviews); V(false) checks the settings only.
    type: bool
    default: true
  orchestrator_service_account:
    description: The orchestrator's ServiceAccount in the platform namespace.
    type: str
    default: octo-orchestrator
  waivers:
    description: Finding ids accepted on purpose; they are reported as waived and never fail O(strict).
    type: list
    elements: str
    default: []
    choices: [domain_example, mutable_tag, oidc_public, postgres_no_backup, public_url_mismatch, pull_policy_never,
      quota_missing, rbac_cluster_wide, secret_default, secret_weak, secrets_encryption_off, state_bucket_drift,
      tls_off]
  strict:
    description: Fail on any high finding that is not waived.
    type: bool
    default: false
extends_documentation_fragment:
  - octo.platform.k8s_auth
attributes:
  check_mode:
    support: full
    description: Reads only; the same report.
  diff_mode:
    support: none
    description: Nothing to diff.
  action_group:
    description: Use C(group/octo.platform.k8s) in C(module_defaults) to set defaults for this module.
    support: full
    membership: [octo.platform.k8s]
author:
  - octo.platform maintainers (!UNKNOWN)
"""

EXAMPLES = r"""
- name: Hardening report before the deploy
  octo.platform.platform_preflight:
    settings: "{{ _platform_settings }}"
    credentials: "{{ octo_platform_state.credentials }}"
    backups_enabled: true
    k3s_config: "{{ k3s_config | default({}) }}"
    state_bucket_drift: "{{ octo_state_bucket_report.drift | default(omit) }}"
    waivers: [oidc_public]
    strict: true
  register: preflight

- name: Print the report
  ansible.builtin.debug:
    msg: "{{ preflight.table }}"
"""

RETURN = r"""
findings:
  description: Every finding, high first, with C(id), C(severity), C(evidence), C(fix) and C(waived).
  returned: always
  type: list
  elements: dict
  sample: [{id: mutable_tag, severity: medium, evidence: "platform_editor_image is x:latest (mutable)",
            fix: "pin a release tag or a sha256 digest instead of latest", waived: false}]
table:
  description: The report as lines to print.
  returned: always
  type: list
  elements: str
counts:
  description: Number of findings (not waived) per severity.
  returned: always
  type: dict
  sample: {high: 0, medium: 1, low: 0}
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.octo.platform.plugins.module_utils.common import runner
from ansible_collections.octo.platform.plugins.module_utils.common.args import K8S_AUTH
from ansible_collections.octo.platform.plugins.module_utils.common.preflight_args import PREFLIGHT
from ansible_collections.octo.platform.plugins.module_utils.kube.preflight import run


def main():
    module = AnsibleModule(argument_spec={**PREFLIGHT, **K8S_AUTH}, supports_check_mode=True)
    outcome = runner.run(run, module)
    (module.fail_json if outcome.failed else module.exit_json)(**outcome.result)


if __name__ == "__main__":
    main()
