#!/usr/bin/python
"""Deploy many Octo integrations in one call."""

from __future__ import annotations

DOCUMENTATION = r"""
module: integrations
short_description: Deploy many Octo integrations in one call
version_added: 0.1.0
description:
  - The bulk form of M(octo.platform.integration) - same objects, validation, check mode, diff mode and secrecy -
    for dozens to hundreds of integrations in one module process.
  - Every item is validated and rendered before the first write; a bad item fails the call naming it.
  - The namespace defaults to C(octo-dev) when O(namespace) is not given (also through module_defaults).
    A namespace that does not exist is created, and the result then says C(namespace_created=true) for each item in it.
  - It reads with one LIST per kind and namespace for the whole set, writes only the objects that differ (with
    bounded parallelism across integrations), and waits for all rollouts together, so a run that changes nothing
    makes no write and a number of reads that does not grow with the number of integrations.
  - Writes go in two passes over the set - every item's ConfigMap, Services and Ingress, then the Deployments and
    deletes - so no pod starts before what it mounts and is reached through exists.
  - One item failing to apply or to roll out does not stop the others; the call then fails naming each failed item,
    with every item's result.
  - Each item records revisions, rolls back (O(integrations[].rollback_to)), promotes
    (O(integrations[].promote_from)) and rolls back a failed rollout (O(integrations[].atomic)) as
    M(octo.platform.integration) does; the revisions are read with one LIST per namespace.
options:
  integrations:
    description:
      - The deployments to converge. Each item takes the options of M(octo.platform.integration) listed here;
        the shared ones (O(image), O(namespace), O(base_domain), O(tls_mode), O(cluster_issuer),
        O(wildcard_secret), O(ingress_class)) default to the call's value.
      - A O(integrations[].definition_file) is read on the host that runs the module.
    type: list
    elements: dict
    required: true
    suboptions:
      name: {description: Display name. Defaults to the slug., type: str}
      slug: {description: Integration slug; a DNS label., type: str, required: true}
      deployment_id: {description: Deployment identifier; a DNS label., type: str, required: true, aliases: [id]}
      definition: {description: The definition YAML as text., type: str}
      definition_file: {description: Path of the definition YAML., type: path}
      env: {description: Env bindings as for M(octo.platform.integration)., type: dict, default: {}}
      replicas:
        description: Number of pods. Defaults to 1; with O(integrations[].rollback_to) or O(integrations[].promote_from), to the live count.
        type: int
      expose: {description: Publish with an Ingress., type: bool, default: false}
      subdomain: {description: Subdomain of the public host. Defaults to the slug., type: str}
      resources:
        description: Container requests and limits (C(cpu), C(memory), C(ephemeral-storage)), as for M(octo.platform.integration).
        type: dict
        suboptions:
          requests: {description: Requested amounts by resource name., type: dict}
          limits: {description: Limits by resource name., type: dict}
      probes:
        description: Health probes (C(path), C(initial_delay_seconds), C(period_seconds), C(failure_threshold)), as for M(octo.platform.integration).
        type: dict
        suboptions:
          path: {description: HTTP path of the readiness and liveness probes., type: str}
          initial_delay_seconds: {description: Seconds before the first probe., type: int}
          period_seconds: {description: Seconds between probes., type: int}
          failure_threshold: {description: Consecutive failures that count., type: int}
      node_selector: {description: Node labels the pods must run on., type: dict}
      tolerations:
        description: Kubernetes tolerations with camelCase keys, as for M(octo.platform.integration).
        type: list
        elements: dict
        suboptions:
          key: {description: Taint key., type: str}
          operator: {description: Match operator., type: str, choices: [Equal, Exists]}
          value: {description: Taint value for C(Equal)., type: raw}
          effect: {description: Taint effect., type: str, choices: [NoSchedule, PreferNoSchedule, NoExecute]}
          tolerationSeconds: {description: Seconds a C(NoExecute) taint is tolerated., type: int}
      rollback_to: {description: Re-apply this recorded revision (a number or C(previous)) as a new revision., type: str}
      promote_from:
        description: Copy a revision of another deployment, as for M(octo.platform.integration).
        type: dict
        suboptions:
          deployment_id: {description: The deployment to promote from., type: str, required: true}
          namespace: {description: Its namespace. Defaults to the item's namespace., type: str}
          revision: {description: A revision number or C(latest); default the newest that rolled out., type: str}
          env: {description: Also copy the source's env bindings., type: bool, default: false}
      atomic: {description: Roll back to the last good revision when the rollout fails., type: bool, default: false}
      history_limit: {description: Revisions kept for the deployment., type: int, default: 10}
      actor: {description: "Who applies, recorded in the revision. Defaults to the user running Ansible.", type: str}
      image: {description: Runtime image for this item., type: str}
      namespace: {description: Namespace for this item., type: str}
      base_domain: {description: Base domain for this item., type: str}
      tls_mode: {description: TLS mode for this item., type: str, choices: [http01, wildcard, none]}
      cluster_issuer: {description: ClusterIssuer for this item., type: str}
      wildcard_secret: {description: Wildcard certificate Secret for this item., type: str}
      ingress_class: {description: IngressClass for this item., type: str}
  parallel:
    description: How many integrations are written at the same time.
    type: int
    default: 4
extends_documentation_fragment:
  - octo.platform.integration_shared
  - octo.platform.k8s_auth
  - octo.platform.wait
attributes:
  check_mode:
    support: full
    description: Reports exactly what a real run would change, with no writes.
  diff_mode:
    support: full
    description: Shows a YAML before/after of each object that changes.
  action_group:
    description: Use C(group/octo.platform.k8s) in C(module_defaults) to set defaults for this module.
    support: full
    membership: [octo.platform.k8s]
notes:
  - >-
    With a local connection (the usual way to run Kubernetes modules) and O(wait=true), the rollouts are followed
    on the controller over one API connection, one module process for the whole call. A line is printed when the
    aggregate changes, e.g. C(120/200 ready, 3 rolling, 1 failing: orders/prod ImagePullBackOff), followed by the
    new Warning events of failing items; under AWX they are job events. With a remote connection the module waits
    on that host without live lines. Either way each item's result carries its status timeline.
author:
  - octo.platform maintainers (!UNKNOWN)
"""

EXAMPLES = r"""
- name: Deploy every integration of the inventory
  octo.platform.integrations:
    base_domain: octo.example.com
    integrations:
      - slug: http-orders
        deployment_id: orders-1
        definition_file: /srv/octo/http-orders.yaml
        env: {API_KEY: {secret: ORDERS_API_KEY}}
        replicas: 2
        expose: true
      - slug: nightly-report
        deployment_id: report-1
        definition_file: /srv/octo/nightly-report.yaml
        env: {REPORT_BUCKET: reports, MAX_ROWS: 10000}
        resources: {requests: {cpu: 100m, memory: 128Mi}, limits: {memory: 256Mi}}
        node_selector: {octo.dev/pool: batch}
"""

RETURN = r"""
integrations:
  description:
    - One result per item, in input order, with the keys M(octo.platform.integration) returns plus C(failed).
    - C(outcome) says what happened to the item's objects, also when a later phase failed. C(outcome=applied)
      means its writes succeeded, C(outcome=failed) that the server refused a write, C(outcome=unknown) that the
      answer to a write was lost, and C(outcome=unchanged) that nothing was written.
    - C(applied) lists the objects written (kind, name, action) when the item had something to write.
    - C(rollout.state) is C(unknown) when the API server was lost while following the rollouts.
    - C(namespace_created=true) on each item whose namespace did not exist and was created (in check mode - would be).
  returned: always
  type: list
  elements: dict
  sample:
    - namespace: octo-dev
      slug: http-orders
      deployment_id: http-orders-1
      changed: true
      failed: false
      outcome: applied
      applied: [{kind: ConfigMap, name: octo-dep-http-orders-1, action: create}]
      rollout: {state: complete, desired: 2, updated: 2, ready: 2, available: 2, message: 2 of 2 replicas available}
summary:
  description: Counts of items, changed items and failed items.
  returned: always
  type: dict
  sample: {total: 20, changed: 0, failed: 0}
api_requests:
  description: API requests the call made, by HTTP verb (GET reads; PATCH, POST, DELETE writes).
  returned: always
  type: dict
  sample: {GET: 6}
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.octo.platform.plugins.module_utils.common import runner
from ansible_collections.octo.platform.plugins.module_utils.common.args import K8S_AUTH, WAIT
from ansible_collections.octo.platform.plugins.module_utils.common.integration_args import BULK_ITEM, SHARED
from ansible_collections.octo.platform.plugins.module_utils.kube.integrations import converge

ARGUMENT_SPEC = {
    "integrations": {
        "type": "list",
        "elements": "dict",
        "required": True,
        "options": BULK_ITEM,
        "mutually_exclusive": [("definition", "definition_file", "rollback_to", "promote_from")],
        "required_one_of": [("definition", "definition_file", "rollback_to", "promote_from")],
    },
    **SHARED,
    "parallel": {"type": "int", "default": 4},
    **K8S_AUTH,
    **WAIT,
}


def main():
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    outcome = runner.run(converge, module)
    if outcome.failed:
        module.fail_json(**outcome.result)
    module.exit_json(**outcome.result)


if __name__ == "__main__":
    main()
