#!/usr/bin/python
"""Read the last result of each deploy action recorded in a namespace."""

from __future__ import annotations

DOCUMENTATION = r"""
module: deploy_status_info
short_description: The last result of each deploy action in a namespace
version_added: 0.1.0
description:
  - Reads what M(octo.platform.deploy_result) recorded - action, actor, repository, sha, started, finished,
    outcome and the per-integration summary - for every action, or for O(action) only.
options:
  namespace:
    description: Namespace of the records.
    type: str
    default: octo-dev
  action:
    description: Return only this action's result.
    type: str
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
- name: How did the last deploy go
  octo.platform.deploy_status_info:
    namespace: octo-prod
    action: deploy
  register: status
"""

RETURN = r"""
actions:
  description: The last result per action name (see M(octo.platform.deploy_result)); empty when none.
  returned: always
  type: dict
  sample: {deploy: {action: deploy, outcome: succeeded, actor: alice, sha: 5f2c1e0, finished: "2026-11-27T21:01:10Z"}}
namespace:
  description: Namespace of the records.
  returned: always
  type: str
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.octo.platform.plugins.module_utils.common import runner
from ansible_collections.octo.platform.plugins.module_utils.common.args import K8S_AUTH
from ansible_collections.octo.platform.plugins.module_utils.kube.deploy_records import status


def main():
    module = AnsibleModule(
        argument_spec={
            "namespace": {"type": "str", "default": "octo-dev"},
            "action": {"type": "str"},
            **K8S_AUTH,
        },
        supports_check_mode=True,
    )
    outcome = runner.run(status, module)
    if outcome.failed:
        module.fail_json(**outcome.result)
    module.exit_json(**outcome.result)


if __name__ == "__main__":
    main()
