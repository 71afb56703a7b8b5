#!/usr/bin/python
"""Take, renew or release the deploy lock of a namespace (a coordination.k8s.io Lease)."""

from __future__ import annotations

DOCUMENTATION = r"""
module: deploy_lock
short_description: One deploy at a time per namespace - a Lease with holder, TTL, renewal, takeover
version_added: 0.1.0
description:
  - With O(state=present), takes the Lease C(octo-deploy-lock) of O(namespace) for O(holder), or renews it
    when O(holder) already holds it. A Lease whose holder did not renew it within its O(ttl) (a killed run) is
    taken over.
  - While another holder's Lease is live, the task waits up to O(wait_timeout) seconds and prints a line per
    attempt naming the holder (O(wait=true)), or fails at once with the holder's identity (O(wait=false)).
  - The lock is not renewed in the background. Choose a O(ttl) longer than the longest step the play runs
    while holding it, and call the module again (same O(holder)) between steps to renew it;
    C(playbooks/ci_deploy.yml) renews before and after the deploy.
  - With O(state=absent), deletes the Lease if O(holder) holds it (conditional on its resourceVersion);
    another holder's Lease is left alone.
options:
  namespace:
    description: Namespace of the Lease (the deploy's namespace).
    type: str
    default: octo-dev
  holder:
    description: Identity of this run (1 to 128 characters), shown to the runs that wait for it.
    type: str
    required: true
  state:
    description: C(present) takes or renews the lock, C(absent) releases it.
    type: str
    choices: [present, absent]
    default: present
  ttl:
    description: Seconds the lock stays valid after each take or renewal (10 to 86400).
    type: int
    default: 900
  wait:
    description: Wait while another holder's lock is live (O(state=present)); C(false) fails at once.
    type: bool
    default: true
  wait_timeout:
    description: Seconds to wait for the lock at most.
    type: int
    default: 900
  wait_sleep:
    description: Seconds between attempts while waiting.
    type: int
    default: 5
extends_documentation_fragment:
  - octo.platform.k8s_auth
attributes:
  check_mode:
    support: full
    description: Reports whether the lock would be taken, renewed, taken over or released; writes nothing.
  diff_mode:
    support: none
    description: Nothing to diff.
  action_group:
    description: Use C(group/octo.platform.k8s) in C(module_defaults) to set defaults for this module.
    support: full
    membership: [octo.platform.k8s]
notes:
  - The wait runs on the controller (the action plugin); each attempt is one run of the module.
author:
  - octo.platform maintainers (!UNKNOWN)
"""

EXAMPLES = r"""
- name: Take the deploy lock (wait for the current holder up to 15 minutes)
  octo.platform.deploy_lock:
    namespace: octo-prod
    holder: "octo/integrations run 4711 (alice)"
    ttl: 900

- name: Release it
  octo.platform.deploy_lock:
    namespace: octo-prod
    holder: "octo/integrations run 4711 (alice)"
    state: absent
"""

RETURN = r"""
acquired:
  description: Whether O(holder) holds the lock after the task (O(state=present)).
  returned: state=present
  type: bool
outcome:
  description: C(take), C(renew), C(takeover) (of an expired lock) or C(busy).
  returned: state=present
  type: str
previous_holder:
  description: The holder before this task, null when the lock was free.
  returned: state=present
  type: str
holder:
  description: The holder after the task, with how long it has held the lock when busy.
  returned: state=present
  type: str
holder_identity:
  description: The identity of the holder after the task (null when released).
  returned: always
  type: str
released:
  description: Whether the lock was released.
  returned: state=absent
  type: bool
waited:
  description: Seconds spent waiting for another holder.
  returned: state=present
  type: float
namespace:
  description: Namespace of the Lease.
  returned: always
  type: str
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.octo.platform.plugins.module_utils.common import runner
from ansible_collections.octo.platform.plugins.module_utils.common.args import K8S_AUTH
from ansible_collections.octo.platform.plugins.module_utils.kube.lease import lock

ARGUMENT_SPEC = {
    "namespace": {"type": "str", "default": "octo-dev"},
    "holder": {"type": "str", "required": True},
    "state": {"type": "str", "choices": ["present", "absent"], "default": "present"},
    "ttl": {"type": "int", "default": 900},
    "wait": {"type": "bool", "default": True},
    "wait_timeout": {"type": "int", "default": 900},
    "wait_sleep": {"type": "int", "default": 5},
}


def main():
    module = AnsibleModule(argument_spec={**ARGUMENT_SPEC, **K8S_AUTH}, supports_check_mode=True)
    outcome = runner.run(lock, module)
    if outcome.failed:
        module.fail_json(**outcome.result)
    module.exit_json(**outcome.result)


if __name__ == "__main__":
    main()
