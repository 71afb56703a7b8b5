#!/usr/bin/python
"""List the names and timestamps of the integration secrets; never their values."""

from __future__ import annotations

DOCUMENTATION = r"""
module: integration_secret_info
short_description: List integration secret names and timestamps, never values
version_added: 0.1.0
description:
  - Reads the catalog of the Secret C(octo-secrets) - key names with created and updated timestamps and who set
    them - as kept by M(octo.platform.integration_secret). Values are never returned.
  - The namespace defaults to C(octo-dev) when O(namespace) is not given (also through module_defaults);
    this module only reads and never creates it.
options:
  namespace:
    description: Namespace of the Secret.
    type: str
    default: octo-dev
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
author:
  - octo.platform maintainers (!UNKNOWN)
"""

EXAMPLES = r"""
- name: Which secrets exist
  octo.platform.integration_secret_info:
  register: catalog
"""

RETURN = r"""
secrets:
  description: One entry per key, sorted by name. Keys set by other tools have null timestamps.
  returned: always
  type: list
  elements: dict
  sample: [{name: ORDERS_API_KEY, created: "2026-11-25T09:00:00Z", updated: "2026-11-25T10:00:00Z", by: ops@ctl}]
namespace:
  description: Namespace of the Secret.
  returned: always
  type: str
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.octo.platform.plugins.module_utils.common import runner
from ansible_collections.octo.platform.plugins.module_utils.common.args import K8S_AUTH
from ansible_collections.octo.platform.plugins.module_utils.kube.secrets import info


def main():
    module = AnsibleModule(
        argument_spec={"namespace": {"type": "str", "default": "octo-dev"}, **K8S_AUTH},
        supports_check_mode=True,
    )
    outcome = runner.run(info, module)
    if outcome.failed:
        module.fail_json(**outcome.result)
    module.exit_json(**outcome.result)


if __name__ == "__main__":
    main()
