#!/usr/bin/python
"""Set or remove write-only keys of the octo-secrets Secret that integrations bind env vars to."""

from __future__ import annotations

DOCUMENTATION = r"""
module: integration_secret
short_description: Set or remove write-only integration secrets in octo-secrets
version_added: 0.1.0
description:
  - Writes keys of the Kubernetes Secret C(octo-secrets) that integration env bindings reference by key.
  - Values are write-only. The module never returns, diffs or logs a value, nor a hash of one. Setting the same
    value again changes nothing; the diff names the keys that change and nothing more.
  - Each key is written with a patch that touches only that key, so concurrent writers of different keys keep
    each other's keys.
  - A catalog of key names with created and updated timestamps and who set them is kept in annotations
    C(catalog.octo.dev/<KEY>) of the Secret; read it with M(octo.platform.integration_secret_info).
  - Changing the value of a key rolls the Deployments that read it, since pods read env only at start.
options:
  namespace:
    description: Namespace of the Secret; created when missing.
    type: str
    default: octo-dev
  values:
    description:
      - Keys to set, with their values. Key names are UPPER_SNAKE_CASE.
    type: dict
    default: {}
  remove:
    description:
      - Keys to remove. Removing a key that a deployment still binds fails unless O(force=true).
    type: list
    elements: str
    default: []
  roll:
    description: Roll the Deployments that read a key whose value changed.
    type: bool
    default: true
  force:
    description: Remove keys even when deployments still bind them.
    type: bool
    default: false
  actor:
    description: Who sets the keys, for the catalog. Defaults to C(<user>@<host>) of the module's host.
    type: str
extends_documentation_fragment:
  - octo.platform.k8s_auth
attributes:
  check_mode:
    support: full
    description: Reports which keys would change and which deployments would roll, with no writes.
  diff_mode:
    support: full
    description: Names the keys that change; never a value.
  action_group:
    support: full
    membership: [octo.platform.k8s]
notes:
  - "Put C(no_log: true) on tasks whose variables hold secret values, so that loops and errors never show them."
author:
  - octo.platform maintainers
"""

EXAMPLES = r"""
- name: Set the orders API key
  octo.platform.integration_secret:
    values:
      ORDERS_API_KEY: "{{ vault_orders_api_key }}"
  no_log: true

- name: Remove a key no deployment uses any more
  octo.platform.integration_secret:
    remove: [LEGACY_TOKEN]
"""

RETURN = r"""
keys:
  description: Each key named in the call and what happened to it (create, update, delete, none).
  returned: always
  type: list
  elements: dict
  sample: [{key: ORDERS_API_KEY, action: update}]
rolled:
  description: Deployments rolled (or, in check mode, that would roll) because a key they read changed.
  returned: always
  type: list
  elements: str
  sample: [octo-dep-orders-1]
namespace:
  description: Namespace of the Secret.
  returned: always
  type: str
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.octo.platform.plugins.module_utils.common import runner
from ansible_collections.octo.platform.plugins.module_utils.common.args import K8S_AUTH
from ansible_collections.octo.platform.plugins.module_utils.kube.secrets import converge

ARGUMENT_SPEC = {
    "namespace": {"type": "str", "default": "octo-dev"},
    "values": {"type": "dict", "default": {}, "no_log": True},
    "remove": {"type": "list", "elements": "str", "default": []},
    "roll": {"type": "bool", "default": True},
    "force": {"type": "bool", "default": False},
    "actor": {"type": "str"},
    **K8S_AUTH,
}


def main():
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    outcome = runner.run(converge, module)
    if outcome.failed:
        module.fail_json(**outcome.result)
    module.exit_json(**outcome.result)


if __name__ == "__main__":
    main()
