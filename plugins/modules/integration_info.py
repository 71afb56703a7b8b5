#!/usr/bin/python
"""List the deployments of Octo integrations with their replicas, readiness, URLs and rollout status."""

from __future__ import annotations

DOCUMENTATION = r"""
module: integration_info
short_description: List Octo integration deployments with readiness, image, URLs and exposure
version_added: 0.1.0
description:
  - Lists the deployments this collection manages in a namespace, optionally filtered by slug or deployment id,
    with replica counts, rollout status, image, the internal and public URLs, the revision history, and
    optionally the recent events.
  - Reads only; never changes anything.
  - The namespace defaults to C(octo-dev) when O(namespace) is not given (also through module_defaults);
    this module only reads and never creates it.
options:
  namespace:
    description: Namespace to look in.
    type: str
    default: octo-dev
  slug:
    description: Only the deployments of this integration slug.
    type: str
  deployment_id:
    description: Only this deployment.
    type: str
    aliases: [id]
  events:
    description: Include the latest events of each deployment, its ReplicaSets and pods.
    type: bool
    default: false
extends_documentation_fragment:
  - octo.platform.k8s_auth
attributes:
  check_mode:
    support: full
    description: Reads only, so check mode changes nothing.
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
- name: Status of every deployment of the orders API
  octo.platform.integration_info:
    slug: http-orders
  register: orders

- name: Show their URLs
  ansible.builtin.debug:
    msg: "{{ orders.deployments | map(attribute='internal_url') }}"
"""

RETURN = r"""
deployments:
  description: One entry per deployment, sorted by object name.
  returned: always
  type: list
  elements: dict
  contains:
    deployment_id: {description: Deployment identifier., type: str}
    slug: {description: Integration slug., type: str}
    name: {description: Display name of the integration., type: str}
    namespace: {description: Namespace., type: str}
    image: {description: Runtime image., type: str}
    replicas: {description: Desired pods., type: int}
    ready: {description: Ready pods., type: int}
    updated: {description: Pods of the current revision., type: int}
    available: {description: Available pods., type: int}
    rollout: {description: "Rollout status: state (progressing, complete or failed), message and reason.", type: dict}
    internal_url: {description: Stable in-cluster URL (null for a worker)., type: str}
    public_url: {description: Public URL when exposed (else null)., type: str}
    exposed: {description: Whether an Ingress publishes it., type: bool}
    events: {description: Latest events (only with O(events=true))., type: list, elements: dict}
    revision:
      description: The newest recorded revision (revision, time, actor, hash, result, source, replicas, image, config_map), or null.
      type: dict
    history:
      description: The recorded revisions, oldest first, as for RV(deployments[].revision).
      type: list
      elements: dict
  sample:
    - deployment_id: orders-1
      slug: http-orders
      replicas: 2
      ready: 2
      internal_url: http://octo-int-http-orders.octo-dev:8080
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.octo.platform.plugins.module_utils.common import runner
from ansible_collections.octo.platform.plugins.module_utils.common.args import K8S_AUTH
from ansible_collections.octo.platform.plugins.module_utils.kube.integration_info import info

ARGUMENT_SPEC = {
    "namespace": {"type": "str", "default": "octo-dev"},
    "slug": {"type": "str"},
    "deployment_id": {"type": "str", "aliases": ["id"]},
    "events": {"type": "bool", "default": False},
    **K8S_AUTH,
}


def main():
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    outcome = runner.run(info, module)
    if outcome.failed:
        module.fail_json(**outcome.result)
    module.exit_json(**outcome.result)


if __name__ == "__main__":
    main()
