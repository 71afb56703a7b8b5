#!/usr/bin/python
"""Apply a set of Kubernetes objects with server-side apply, prune what left the set by owner, wait."""

from __future__ import annotations

DOCUMENTATION = r"""
module: manifests
short_description: Apply a set of Kubernetes manifests by owner, with prune, wait and check/diff mode
version_added: 0.2.0
description:
  - The collection's apply engine for objects other than integrations (Traefik and cert-manager settings,
    issuers, certificates, platform objects). Objects of any kind the API server serves, custom ones included.
  - Writes with server-side apply and the field manager C(octo.platform), and only what differs - a second run
    with the same definitions writes nothing and reports C(changed=false).
  - Every object gets the labels C(octo.platform/owner=<owner>) and C(app.kubernetes.io/managed-by=octo.platform).
    With O(prune=true), objects of this owner that left the definitions are deleted - only of the kinds in
    O(definitions) and O(prune_kinds), in the namespaces the definitions touch (O(namespace) included), and only
    objects this collection wrote (its field manager in C(managedFields)). Prune never deletes a Namespace
    (that would delete everything in it); O(state=absent) does.
  - Everything is validated before the first write - definitions parse, each has C(apiVersion), C(kind) and
    C(metadata.name), no object is defined twice, every kind is served by the API server (one discovery request
    per group version), and every created or updated object passes a server-side dry run (the schema of its
    kind, custom resource definitions included). A failure names the object, for example
    C(Failed to apply Certificate cert-manager/wildcard) followed by the reason (C(the server has no such kind)).
  - Secret values never appear in results, diffs, warnings or errors - C(data) and C(stringData) values show as
    C((hidden)), and no hash of them is written to the object. C(stringData) is stored as C(data), as the API
    server does; a Secret is unchanged when its keys hold the same values.
  - With O(wait_for), waits for named conditions; for a cert-manager C(Certificate) that is not Ready in time,
    the error explains why from the Certificate, CertificateRequest, Order and Challenge status (for example
    C(Challenge for *.example.com pending - DNS record not yet propagated) or
    C(HTTP-01 self check failed for app.example.com - 404)), in the message and in RV(diagnosis).
options:
  owner:
    description:
      - Name of the set (1-63 characters of a-z, 0-9 and C(-)), stamped on each object as the label
        C(octo.platform/owner). Prune and O(state=absent) act only on objects with this owner.
    type: str
    required: true
  namespace:
    description: Namespace of namespaced objects whose metadata gives none. Cluster-scoped objects get none.
    type: str
    default: default
  definitions:
    description:
      - The objects - a list of manifests (mappings or YAML texts) or one YAML text with several documents.
        Kinds ending in C(List) with C(items) are flattened.
    type: raw
    required: true
  prune:
    description: Delete objects of this owner that are not in O(definitions) (see the description for the scope).
    type: bool
    default: true
  prune_kinds:
    description:
      - More kinds to prune, as C(apiVersion/Kind) (for example C(networking.k8s.io/v1/NetworkPolicy)), so that
        the last object of a kind is pruned when the definitions have none of it left.
    type: list
    elements: str
    default: []
  state:
    description:
      - V(present) applies the definitions. V(absent) deletes every object of this owner of the kinds in
        O(definitions) and O(prune_kinds), in the namespaces they touch.
    type: str
    choices: [present, absent]
    default: present
  wait:
    description: Wait until the Deployments, StatefulSets and DaemonSets among the definitions rolled out and the Jobs completed.
    type: bool
    default: false
  wait_for:
    description: Conditions to wait for after applying (all of them, within O(wait_timeout)).
    type: list
    elements: dict
    default: []
    suboptions:
      kind:
        description: Kind of the object.
        type: str
        required: true
      api_version:
        description: Its apiVersion; defaults to the one of that kind in O(definitions).
        type: str
      name:
        description: Name of the object.
        type: str
        required: true
      namespace:
        description: Its namespace (namespaced kinds); defaults to O(namespace).
        type: str
      condition:
        description: Type of the status condition.
        type: str
        default: Ready
      status:
        description: Status the condition must have.
        type: str
        default: "True"
  wait_timeout:
    description: Seconds to wait for O(wait) and O(wait_for) before failing.
    type: int
    default: 300
  wait_sleep:
    description: Seconds between two polls while waiting.
    type: int
    default: 2
extends_documentation_fragment:
  - octo.platform.k8s_auth
attributes:
  check_mode:
    support: full
    description: Predicts exactly what a real run does; created and updated objects pass a server-side dry run.
  diff_mode:
    support: full
    description: Before and after YAML of each changed object; Secret values hidden.
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
- name: Apply the platform's objects, pruning the ones that left the set
  octo.platform.manifests:
    owner: platform
    namespace: octo
    definitions:
      - apiVersion: v1
        kind: ConfigMap
        metadata:
          name: settings
        data:
          LOG_LEVEL: info
    prune_kinds: [networking.k8s.io/v1/NetworkPolicy]

- name: Apply a multi-document YAML file and wait for a certificate
  octo.platform.manifests:
    owner: cert-manager-issuers
    namespace: cert-manager
    definitions: "{{ lookup('ansible.builtin.file', 'issuers.yml') }}"
    wait_for:
      - kind: Certificate
        name: wildcard
    wait_timeout: 600

- name: Remove everything of an owner
  octo.platform.manifests:
    owner: demo
    definitions: "{{ demo_objects }}"
    state: absent
"""

RETURN = r"""
objects:
  description:
    - Each object and what happened to it (C(created), C(updated), C(unchanged), C(deleted)); in check mode,
      what would happen. Sorted by apiVersion, kind, namespace and name.
  returned: always
  type: list
  elements: dict
  sample: [{apiVersion: v1, kind: ConfigMap, namespace: octo, name: settings, action: created}]
namespaces_created:
  description:
    - Namespaces the namespaced objects live in that did not exist and were not among the definitions; created
      (without labels, never pruned) before the objects. In check mode, those that would be created.
  returned: when a namespace is created
  type: list
  elements: str
  sample: [octo-dev]
diagnosis:
  description: When a wait failed, one line per reason found (for Certificates, from cert-manager's status).
  returned: when a wait fails
  type: list
  elements: str
  sample: ["Challenge for *.example.com pending: DNS record not yet propagated"]
pending:
  description: When a wait failed, the objects that were not ready.
  returned: when a wait fails
  type: list
  elements: str
  sample: ["Certificate cert-manager/wildcard"]
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.octo.platform.plugins.module_utils.common import runner
from ansible_collections.octo.platform.plugins.module_utils.common.args import K8S_AUTH
from ansible_collections.octo.platform.plugins.module_utils.kube.manifests import converge
from ansible_collections.octo.platform.plugins.module_utils.render.manifests import masked_definitions

ARGUMENT_SPEC = {
    "owner": {"type": "str", "required": True},
    "namespace": {"type": "str", "default": "default"},
    "definitions": {"type": "raw", "required": True},
    "prune": {"type": "bool", "default": True},
    "prune_kinds": {"type": "list", "elements": "str", "default": []},
    "state": {"type": "str", "choices": ["present", "absent"], "default": "present"},
    "wait": {"type": "bool", "default": False},
    "wait_for": {
        "type": "list",
        "elements": "dict",
        "default": [],
        "options": {
            "kind": {"type": "str", "required": True},
            "api_version": {"type": "str"},
            "name": {"type": "str", "required": True},
            "namespace": {"type": "str"},
            "condition": {"type": "str", "default": "Ready"},
            "status": {"type": "str", "default": "True"},
        },
    },
    "wait_timeout": {"type": "int", "default": 300},
    "wait_sleep": {"type": "int", "default": 2},
    **K8S_AUTH,
}


def main():
    # no_log=True keeps the definitions (Secret values among them) out of the host's syslog; the invocation
    # shown at -vvv carries them with Secret values hidden.
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True, no_log=True)
    outcome = runner.run(converge, module)
    args = {**module.params, "definitions": masked_definitions(module.params["definitions"])}
    outcome.result["invocation"] = {"module_args": args}
    if outcome.failed:
        module.fail_json(**outcome.result)
    module.exit_json(**outcome.result)


if __name__ == "__main__":
    main()
