#!/usr/bin/python
"""Record the result of a deploy action in its namespace (read back by deploy_status_info)."""

from __future__ import annotations

DOCUMENTATION = r"""
module: deploy_result
short_description: Record the last result of a deploy action in the namespace
version_added: 0.1.0
description:
  - Stores who deployed what and how it went in the ConfigMap C(octo-deploy-result-<action>) of O(namespace)
    (label C(octo.dev/record=deploy-result)); each action keeps its last result.
    M(octo.platform.deploy_status_info) reads it back.
  - Each integration's summary keeps C(slug), C(deployment_id), C(namespace), C(changed), C(failed) and the
    rollout state of the items given in O(integrations) (the C(integrations) result of
    M(octo.platform.integrations)).
options:
  namespace:
    description: Namespace the result is recorded in (the deploy's namespace).
    type: str
    default: octo-dev
  action:
    description: Name of the deploy action (lowercase letters, digits and C(-)).
    type: str
    required: true
  outcome:
    description: How the deploy ended.
    type: str
    required: true
    choices: [succeeded, failed]
  actor:
    description: Who asked for the deploy (the token's C(actor) claim).
    type: str
  repository:
    description: Repository the request came from.
    type: str
  sha:
    description: Commit the request was made for.
    type: str
  run_id:
    description: CI run that asked for the deploy.
    type: str
  started:
    description: When the deploy started (ISO 8601, UTC).
    type: str
  finished:
    description: When it finished (ISO 8601, UTC); defaults to now.
    type: str
  integrations:
    description: Per-integration results (the C(integrations) list returned by M(octo.platform.integrations)).
    type: list
    elements: dict
    default: []
extends_documentation_fragment:
  - octo.platform.k8s_auth
attributes:
  check_mode:
    support: full
    description: Reports whether the stored result would change; writes nothing.
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
- name: Record the deploy
  octo.platform.deploy_result:
    namespace: octo-prod
    action: deploy
    outcome: succeeded
    actor: "{{ request.claims.actor }}"
    repository: "{{ request.claims.repository }}"
    sha: "{{ request.claims.sha }}"
    started: "2026-11-27T21:00:00Z"
    integrations: "{{ deployed.integrations }}"
"""

RETURN = r"""
result:
  description: The recorded result.
  returned: always
  type: dict
  sample:
    action: deploy
    outcome: succeeded
    actor: alice
    repository: octo/integrations
    sha: 5f2c1e0
    run_id: "4711"
    started: "2026-11-27T21:00:00Z"
    finished: "2026-11-27T21:01:10Z"
    integrations: [{slug: orders, deployment_id: d41, namespace: octo-prod, changed: true, failed: false, rollout: complete}]
namespace:
  description: Namespace of the record.
  returned: always
  type: str
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.octo.platform.plugins.module_utils.common import runner
from ansible_collections.octo.platform.plugins.module_utils.common.args import K8S_AUTH
from ansible_collections.octo.platform.plugins.module_utils.kube.deploy_records import record

ARGUMENT_SPEC = {
    "namespace": {"type": "str", "default": "octo-dev"},
    "action": {"type": "str", "required": True},
    "outcome": {"type": "str", "required": True, "choices": ["succeeded", "failed"]},
    "actor": {"type": "str"},
    "repository": {"type": "str"},
    "sha": {"type": "str"},
    "run_id": {"type": "str"},
    "started": {"type": "str"},
    "finished": {"type": "str"},
    "integrations": {"type": "list", "elements": "dict", "default": []},
}


def main():
    module = AnsibleModule(argument_spec={**ARGUMENT_SPEC, **K8S_AUTH}, supports_check_mode=True)
    outcome = runner.run(record, module)
    if outcome.failed:
        module.fail_json(**outcome.result)
    module.exit_json(**outcome.result)


if __name__ == "__main__":
    main()
