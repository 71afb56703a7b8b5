#!/usr/bin/python
"""Deploy, scale or undeploy one Octo integration on Kubernetes."""

from __future__ import annotations

DOCUMENTATION = r"""
module: integration
short_description: Deploy, scale or undeploy one Octo integration
version_added: 0.1.0
description:
  - Renders the Kubernetes objects of one deployment of an Octo integration and converges them with
    server-side apply, reading what exists by label first and writing only what differs.
  - Objects for deployment I(<id>) of slug I(<slug>) are the ConfigMap C(octo-dep-<id>) holding the definition
    (mounted read-only at C(/etc/octo/integrations)), the Deployment C(octo-dep-<id>), and for integrations that
    declare C(HTTP_PORT) the Services C(octo-dep-<id>) and C(octo-int-<slug>) (stable, shared by every deployment of
    the slug), plus the Ingress C(octo-dep-<id>) when exposed.
  - A worker (no C(HTTP_PORT) declared) gets only the ConfigMap and the Deployment.
  - The namespace defaults to C(octo-dev) when O(namespace) is not given (also through module_defaults).
    A namespace that does not exist is created, and the result then says C(namespace_created=true).
  - Everything is validated before the first write; an error names the offending field and never echoes a value.
  - While waiting for the rollout, progress lines (pods ready, new events) are printed live in the
    C(ansible-playbook) output. A rollout that cannot succeed fails at once with the reason and the pod events.
options:
  name:
    description: Display name of the integration (annotation C(octo.dev/integration)). Defaults to O(slug).
    type: str
  slug:
    description:
      - Internal slug of the integration; a DNS label. Names the stable Service C(octo-int-<slug>).
      - Required with O(state=present) unless O(rollback_to) or O(promote_from) gives it; found from the objects'
        labels with O(state=absent) when omitted.
    type: str
  deployment_id:
    description: Identifier of this deployment; a DNS label. Names the objects C(octo-dep-<id>).
    type: str
    required: true
    aliases: [id]
  definition:
    description:
      - The integration definition YAML (flows and the declared C(env) list), as text.
      - Mutually exclusive with O(definition_file); one of them is required with O(state=present), unless
        O(rollback_to) or O(promote_from).
    type: str
  definition_file:
    description: Path, on the host running the module, of the definition YAML.
    type: path
  env:
    description:
      - Bindings of the declared env vars. Each key is a declared name; each value is either a literal, or a dict
        with C(value) (a literal) and/or C(secret) (a key of the Secret C(octo-secrets)); the secret wins.
      - A literal is a string, a number or a boolean (also from a template, such as C("{{ 2 + 3 }}")); Kubernetes
        env values are text, so numbers are written as in YAML (C(5), C(1.5)) and booleans as C(true)/C(false).
        Lists and other mappings are an error naming the var.
      - C(required) vars must be bound; binding an undeclared name is an error; C(HTTP_PORT) and C(HTTP_HOST) are
        managed by the module and cannot be bound.
    type: dict
    default: {}
  replicas:
    description:
      - Number of pods. A change is an in-place scale and records no revision.
      - Defaults to C(1); with O(rollback_to) or O(promote_from), to the live Deployment's count (C(1) if none).
    type: int
  expose:
    description:
      - Publish the integration with an Ingress at C(<subdomain>.<base_domain>).
      - Requires C(HTTP_PORT) declared in the definition and O(base_domain); otherwise an error says which is missing.
      - Turning it off removes the Ingress.
    type: bool
    default: false
  subdomain:
    description: Subdomain of the public host. Defaults to O(slug).
    type: str
  rollback_to:
    description:
      - Re-apply a recorded revision of this deployment - a number, or C(previous) (the newest revision that
        rolled out with other content than the newest one) - as a new revision; history is never rewritten.
      - The revision's definition, image, env bindings, exposure, TLS and pod options are used; the task's own
        values of those options are ignored. Check mode and diff mode show what would change.
      - Mutually exclusive with O(promote_from), O(definition) and O(definition_file).
    type: str
  promote_from:
    description:
      - Copy the definition and image of a revision of another deployment (for example C(orders-staging)) to
        this one, keeping this task's replicas, exposure and env bindings.
      - Refused, before any write, when this task's bindings do not satisfy the promoted definition's required
        env; the error names the missing variables.
    type: dict
    suboptions:
      deployment_id:
        description: The deployment to promote from.
        type: str
        required: true
      namespace:
        description: Its namespace. Defaults to O(namespace).
        type: str
      revision:
        description: A revision number, or C(latest). Defaults to the newest revision that rolled out.
        type: str
      env:
        description: Also copy the source revision's env bindings (secret references, never values).
        type: bool
        default: false
  atomic:
    description:
      - When the rollout fails (image pull, crash loop, never ready within O(wait_timeout)), roll back to the
        last revision that rolled out, wait for it, and fail the task reporting both the failure and the
        rollback (C(rollback)). Needs O(wait=true).
    type: bool
    default: false
  history_limit:
    description: Revisions kept for the deployment; the oldest beyond it are deleted when one is recorded.
    type: int
    default: 10
  actor:
    description: Who applies, recorded in the revision. Defaults to the user running Ansible.
    type: str
  state:
    description:
      - C(present) converges the deployment's objects.
      - C(absent) removes them, and removes C(octo-int-<slug>) only when no other deployment of the slug remains.
        With O(wait), it then waits until the deployment's pods are gone.
    type: str
    choices: [present, absent]
    default: present
extends_documentation_fragment:
  - octo.platform.integration_shared
  - octo.platform.integration_shared.pod_options
  - octo.platform.k8s_auth
  - octo.platform.wait
attributes:
  check_mode:
    support: full
    description: Reports exactly what a real run would change, with no writes.
  diff_mode:
    support: full
    description: Shows a YAML before/after of each object that changes (server-managed fields left out).
  action_group:
    description: Use C(group/octo.platform.k8s) in C(module_defaults) to set defaults for this module.
    support: full
    membership: [octo.platform.k8s]
notes:
  - Other writers are respected. Entries another field manager added to a list (an env var from
    C(kubectl set env), an injected sidecar container, an extra port) stay where they are, with a warning naming
    the entry and its manager, and do not make the run changed. Lists compare by merge key (containers, env and
    volumes by name, ports by number and protocol, volume mounts by path), not by position. Entries this module
    rendered and no longer renders are removed.
  - A rendered field whose value another field manager changed (replicas, image, an env value) is taken back,
    with a warning such as C(took back spec.replicas from 'kubectl-scale') (C(from an unrecorded writer) when the
    API server kept no manager, as Kubernetes 1.20 does for C(kubectl scale)). Equal values owned by several
    managers are not conflicts.
  - A port number edited by hand (C(kubectl edit) of a Service port or a containerPort) is repaired once, with a
    warning. Server-side apply alone would add the rendered port beside it and be rejected (duplicate port name),
    so the rendered entry is put in the edited one's place with a JSON patch, then applied; the next run is
    unchanged. If the apply still fails, the original error is reported.
  - Deployments of one slug share the Service C(octo-int-<slug>), which carries only slug-level fields (labels,
    selector, port), so siblings never make each other changed. A C(HTTP_PORT) that differs from a sibling's, or a
    public host another deployment's Ingress already serves, is an error naming the sibling, before any write.
  - Only objects this module created (its field manager C(octo.platform) in C(managedFields)) are deleted;
    labels alone are not enough. Undeploy waits only for the pods of the Deployment's own ReplicaSets, and removes
    C(octo-int-<slug>) only when no other deployment of the slug is left, re-checked after its own deletes.
  - With a local connection, O(wait=true) is followed on the controller over one API connection (live lines);
    with a remote connection, or with O(atomic=true), the module waits on the host that runs it.
  - Every apply that changes what runs (the rendered objects except the replicas) records a revision - number,
    time, actor, content hash, the inputs that reproduce it (env secret bindings as references, never values)
    and its result (C(pending), C(rolled-out), C(failed), C(rolled-back), C(interrupted)) - as a ConfigMap
    C(octo-rev-<id>-<n>) in the namespace. Undeploy keeps the history. A result is written only by a run that
    waits (O(wait=true)), so re-runs with O(wait=false) write nothing; their revisions stay C(pending) until a
    run that waits sees the rollout, or become C(interrupted) when other content supersedes them first. No lock
    is taken; a run killed at any point leaves a C(pending) revision that the next run settles the same way.
  - In check mode, C(drift) names each object whose live fields differ from what the last revision renders,
    field by field, without writing.
author:
  - octo.platform maintainers (!UNKNOWN)
"""

EXAMPLES = r"""
- name: Deploy the orders API, public
  octo.platform.integration:
    slug: http-orders
    deployment_id: orders-1
    definition: "{{ lookup('ansible.builtin.file', 'samples/http-orders.yaml') }}"
    env:
      API_KEY: {secret: ORDERS_API_KEY}
      LOG_LEVEL: debug
    replicas: 2
    expose: true
    base_domain: octo.example.com

- name: Scale it to three pods
  octo.platform.integration:
    slug: http-orders
    deployment_id: orders-1
    definition_file: /srv/octo/http-orders.yaml
    replicas: 3

- name: Sized, health-checked and pinned to a dedicated node pool
  octo.platform.integration:
    slug: http-orders
    deployment_id: orders-1
    definition_file: /srv/octo/http-orders.yaml
    env:
      LOG_LEVEL: debug
      MAX_RETRIES: 5
      DRY_RUN: false
    resources:
      requests: {cpu: 250m, memory: 256Mi}
      limits: {cpu: 1, memory: 512Mi}
    probes:
      path: /healthz
      initial_delay_seconds: 5
      period_seconds: 10
      failure_threshold: 3
    node_selector:
      octo.dev/pool: integrations
    tolerations:
      - {key: dedicated, operator: Equal, value: integrations, effect: NoSchedule}

- name: Roll back to the previous good revision (recorded as a new revision)
  octo.platform.integration:
    deployment_id: orders-1
    rollback_to: previous

- name: Promote what runs in staging to production, keeping production's bindings and exposure
  octo.platform.integration:
    deployment_id: orders-prod
    namespace: octo-prod
    promote_from: {deployment_id: orders-staging, namespace: octo-staging}
    env:
      API_KEY: {secret: ORDERS_API_KEY}
    expose: true
    base_domain: octo.example.com

- name: Deploy a new image; a failed rollout goes back to the last good revision
  octo.platform.integration:
    slug: http-orders
    deployment_id: orders-1
    definition_file: /srv/octo/http-orders.yaml
    image: ghcr.io/octo-run/octo:0.1.5
    atomic: true

- name: Undeploy it
  octo.platform.integration:
    deployment_id: orders-1
    state: absent
"""

RETURN = r"""
objects:
  description: The objects of the deployment and what the run did to each (create, update, delete, none).
  returned: always
  type: list
  elements: dict
  sample: [{kind: ConfigMap, name: octo-dep-orders-1, action: create}]
internal_url:
  description: The stable in-cluster URL C(http://octo-int-<slug>.<namespace>:<port>); null for a worker.
  returned: state=present
  type: str
  sample: http://octo-int-http-orders.octo-dev:8080
public_url:
  description: The public URL when exposed, else null.
  returned: state=present
  type: str
  sample: https://http-orders.octo.example.com
exposed:
  description: Whether an Ingress publishes the deployment.
  returned: state=present
  type: bool
rollout:
  description: The rollout status (state complete or failed, replica counts, message, reason, failing pod).
  returned: >-
    state=present, not check mode, and either O(wait) or a Deployment that this run left unchanged and that was
    already rolled out
  type: dict
  sample: {state: complete, desired: 2, updated: 2, ready: 2, available: 2, message: 2 of 2 replicas available}
timeline:
  description: Status lines and events seen while waiting, with seconds since the wait started.
  returned: state=present and wait and not check mode
  type: list
  elements: dict
events:
  description: The latest events of the Deployment, its ReplicaSets and pods.
  returned: state=present and wait and not check mode
  type: list
  elements: dict
remaining_deployments:
  description: Other deployments of the slug still present after an undeploy.
  returned: state=absent
  type: list
  elements: str
revision:
  description:
    - The revision this run applied (or, in check mode, would record, with C(new=true)).
    - Keys revision, time, actor, hash, result, source, replicas, image, config_map.
  returned: state=present
  type: dict
  sample: {revision: 3, hash: 9f2c..., result: rolled-out, source: rollback to revision 1, actor: deploy}
rollback:
  description: With O(atomic), after a failed rollout - the revision rolled back to and its own result.
  returned: when an atomic rollout failed
  type: dict
  sample: {to_revision: 1, failed: false, revision: {revision: 3, result: rolled-out}}
drift:
  description: >-
    Check mode - the objects whose live fields differ from what the last revision renders, each with kind, name
    and fields (dotted paths, C((deleted)) for an object that is gone).
  returned: state=present and check mode
  type: list
  elements: dict
  sample: [{kind: Deployment, name: octo-dep-orders-1, fields: ['spec.template.spec.containers[0].image']}]
namespace:
  description: Namespace of the objects.
  returned: always
  type: str
namespace_created:
  description: The namespace did not exist and was created (in check mode - would be created).
  returned: when the namespace is created
  type: bool
  sample: true
slug:
  description: Slug of the integration.
  returned: always
  type: str
deployment_id:
  description: Identifier of the deployment.
  returned: always
  type: str
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.octo.platform.plugins.module_utils.common import runner
from ansible_collections.octo.platform.plugins.module_utils.common.args import K8S_AUTH, WAIT
from ansible_collections.octo.platform.plugins.module_utils.common.integration_args import INTEGRATION
from ansible_collections.octo.platform.plugins.module_utils.kube.integration import converge


def main():
    module = AnsibleModule(
        argument_spec={**INTEGRATION, **K8S_AUTH, **WAIT},
        mutually_exclusive=[("definition", "definition_file", "rollback_to", "promote_from")],
        supports_check_mode=True,
    )
    outcome = runner.run(converge, module)
    if outcome.failed:
        module.fail_json(**outcome.result)
    module.exit_json(**outcome.result)


if __name__ == "__main__":
    main()
