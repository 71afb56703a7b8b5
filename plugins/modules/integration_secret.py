#!/usr/bin/python
"""Set or remove write-only keys of the octo-secrets Secret that integrations bind env vars to."""

from __future__ import annotations

DOCUMENTATION = r"""
module: integration_secret
short_description: Set or remove write-only integration secrets in octo-secrets
version_added: 0.1.0
description:
  - Writes keys of the Kubernetes Secret C(octo-secrets) that integration env bindings reference by key.
  - The namespace defaults to C(octo-dev) when O(namespace) is not given (also through module_defaults).
    A namespace that does not exist is created, and the result then says C(namespace_created=true).
  - Values are write-only. The module never returns, diffs or logs a value, nor a hash of one. Setting the
    same value again writes nothing (it only does a roll still pending, see below); the diff names the keys
    that change and the Deployments that roll, nothing more.
  - Each key is written with a patch that touches only that key, so concurrent writers of different keys keep
    each other's keys.
  - A catalog of key names with created and updated timestamps and who set them is kept in annotations
    C(catalog.octo.dev/<KEY>) of the Secret; read it with M(octo.platform.integration_secret_info).
  - Each write of a key gets a random write id in its catalog entry (never derived from the value), and the
    entry lists the uids of the Deployments reading the key at that write.
  - Pods read env only at start, so the Deployments that read a key named in O(values) roll when their pods
    missed that key's last write. This is derived from state, not from what this run changed, so a rotation
    that was interrupted before its roll, or written with O(roll=false), is rolled by the next run with the
    same value (then C(changed=true) with the keys' action C(none)).
  - A roll records, in the pod-template annotation C(octo.dev/secrets-rolled-for), the write id of each key
    the Deployment reads, with a field manager of its own so that redeploying the integration stays a no-op.
  - The rule - a Deployment missed a key's last write when it was among the readers of that write and has not
    been rolled for it since. A Deployment created after the write (after the module listed the Deployments,
    moments before writing) is not rolled - its pods start with the current value.
  - Catalog entries written before write ids have no readers - a Deployment created in a later second than
    such an entry's C(updated) time, or rolled for it by version 0.1 (annotation
    C(octo.dev/secrets-rotated-at)), is current; any other one rolls. Keys without a catalog entry (set by other
    tools) never cause a roll on their own.
options:
  namespace:
    description: Namespace of the Secret; created when missing (C(namespace_created) in the result).
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
    description:
      - Roll the Deployments that read a key named in O(values) and missed its last write.
      - With V(false) nothing rolls; the pending roll is left for a later run with V(true).
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
    description: Reports which keys would change and exactly which deployments would roll, with no writes.
  diff_mode:
    support: full
    description: Names the keys that change and the deployments that roll; never a value.
  action_group:
    description: Use C(group/octo.platform.k8s) in C(module_defaults) to set defaults for this module.
    support: full
    membership: [octo.platform.k8s]
notes:
  - "Put C(no_log: true) on tasks whose variables hold secret values, so that loops and errors never show them."
author:
  - octo.platform maintainers (!UNKNOWN)
"""

EXAMPLES = r"""
- name: Set the orders API key
  octo.platform.integration_secret:
    values:
      ORDERS_API_KEY: "{{ vault_orders_api_key }}"
  no_log: true

- name: Rotate now, roll the readers later (for example in a maintenance window)
  octo.platform.integration_secret:
    values:
      ORDERS_API_KEY: "{{ vault_orders_api_key }}"
    roll: false
  no_log: true

- name: Remove a key no deployment uses any more
  octo.platform.integration_secret:
    remove: [LEGACY_TOKEN]
"""

RETURN = r"""
key_actions:
  description:
    - Each key named in the call and what happened to it (create, update, delete, none).
    - Named C(keys) in earlier versions, which Jinja cannot read as C(result.keys) (the mapping method).
  returned: always
  type: list
  elements: dict
  sample: [{key: ORDERS_API_KEY, action: update}]
rolled:
  description:
    - Deployments rolled (or, in check mode, that would roll) because their pods missed the last write of a
      key named in O(values), in this run or an earlier one.
  returned: always
  type: list
  elements: str
  sample: [octo-dep-orders-1]
namespace:
  description: Namespace of the Secret.
  returned: always
  type: str
namespace_created:
  description: The namespace did not exist and was created (in check mode - would be created).
  returned: when the namespace is created
  type: bool
  sample: true
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
