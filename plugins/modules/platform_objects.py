#!/usr/bin/python
"""Validate the platform's settings and render its Kubernetes objects (pure: no cluster access)."""

from __future__ import annotations

DOCUMENTATION = r"""
module: platform_objects
short_description: Validate the platform settings and render the platform's Kubernetes objects
version_added: 0.1.0
description:
  - Checks the platform settings (the C(octo.platform.platform) role's C(platform_*) variables) across fields and
    renders the editor, the orchestrator, Postgres (in-cluster), Redis (optional), their Secrets, ServiceAccounts,
    the orchestrator's namespaced Role, NetworkPolicies and the integrations namespace's ResourceQuota and
    LimitRange. Nothing is written; apply RV(definitions) with M(octo.platform.manifests).
  - Each error names the role variable, for example
    C(Failed to validate platform settings - platform_postgres_url is required with platform_postgres_mode external)
    (the message has a colon where this example has a dash).
  - Each Secret holds one credential; the pod templates of its readers only carry the annotation
    C(checksum.octo.platform/<secret>), so rotating a credential rolls exactly the pods that read it.
  - RV(definitions) holds the Secrets' values, so the action plugin marks a result holding it no_log; set C(no_log)
    on the task and on the task applying them too.
options:
  settings:
    description:
      - The role's C(platform_*) variables without the C(platform_) prefix (see the role's argument spec), for
        example C(namespace), C(domain), C(editor_image), C(oidc_enabled).
    type: dict
    required: true
  credentials:
    description:
      - The platform credentials (RV(octo.platform.platform_credentials#module:credentials)), never logged.
    type: dict
    required: true
  postgres_url:
    description: The external Postgres URL (it may hold a password, so it is kept out of O(settings)).
    type: str
  validate_only:
    description: Check and describe only; RV(definitions) is not returned and the result is not marked no_log.
    type: bool
    default: false
attributes:
  check_mode:
    support: full
    description: Renders the same objects; it never changes anything.
  diff_mode:
    support: none
    description: Nothing changes here; M(octo.platform.manifests) shows the diff of the apply.
author:
  - octo.platform maintainers (!UNKNOWN)
"""

EXAMPLES = r"""
- name: Check the platform settings
  octo.platform.platform_objects:
    settings: {namespace: octo, integrations_namespace: octo-dev, domain: octo.example.com}
    credentials: "{{ platform.credentials }}"
    validate_only: true
  register: platform_plan

- name: Render the platform's objects
  octo.platform.platform_objects:
    settings: {namespace: octo, integrations_namespace: octo-dev, domain: octo.example.com}
    credentials: "{{ platform.credentials }}"
  register: platform_objects
  no_log: true
"""

RETURN = r"""
objects:
  description: Kind, namespace and name of every rendered object, in apply order.
  returned: success
  type: list
  elements: dict
  sample: [{kind: Deployment, namespace: octo, name: octo-editor}]
editor_url:
  description: The editor's URL at the apex of the domain; empty without a domain.
  returned: success
  type: str
  sample: https://octo.example.com
redirect_uri:
  description: The redirect URI to register at the identity provider when OIDC is enabled, else empty.
  returned: success
  type: str
  sample: https://octo.example.com/api/auth/callback/eetr
namespaces:
  description: The platform namespace and the integrations namespace.
  returned: success
  type: list
  elements: str
definitions:
  description: SECRET (it holds the Secrets' values). The manifests, unless O(validate_only).
  returned: success and not validate_only
  type: list
  elements: dict
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.octo.platform.plugins.module_utils.common import runner
from ansible_collections.octo.platform.plugins.module_utils.render.platform import plan


def main():
    module = AnsibleModule(
        argument_spec={
            "settings": {"type": "dict", "required": True},
            "credentials": {"type": "dict", "required": True, "no_log": True},
            "postgres_url": {"type": "str", "no_log": True},
            "validate_only": {"type": "bool", "default": False},
        },
        supports_check_mode=True,
    )
    outcome = runner.run(plan, module)
    if not outcome.failed and "definitions" in outcome.result:
        # The Secrets must reach the registered variable unmasked: the action plugin marks the result no_log.
        module.no_log_values.clear()
    (module.fail_json if outcome.failed else module.exit_json)(**outcome.result)


if __name__ == "__main__":
    main()
