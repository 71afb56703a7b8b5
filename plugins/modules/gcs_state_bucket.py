#!/usr/bin/python
"""Ensure the GCS bucket holding the platform state exists and stays locked down."""

from __future__ import annotations

DOCUMENTATION = r"""
module: gcs_state_bucket
short_description: Ensure the locked-down GCS bucket that holds the platform state
version_added: 0.1.0
description:
  - Creates the bucket when missing with object versioning on, uniform bucket-level access, public access prevention
    enforced, the given O(labels) and, with O(keep_noncurrent_versions), a lifecycle rule deleting noncurrent versions
    beyond the last N. With O(allowed_members), a new bucket keeps only those IAM members.
  - On an existing bucket, reports every drift from that posture in RV(drift) (and as a warning), including IAM members
    beyond O(allowed_members). With O(fix_drift=true) it fixes the drift; otherwise it changes nothing.
  - Labels not listed in O(labels) and lifecycle rules other than the noncurrent-versions one are left alone.
  - IAM members are removed with a conditional setIamPolicy carrying the etag of the policy read. When another writer
    changed the policy in between (HTTP 412), the module re-reads it, recomputes and retries, at most twice, so
    the other writer's update is never lost; it then fails naming the conflicts.
options:
  name:
    description: Bucket name (globally unique).
    type: str
    required: true
  location:
    description: Location of a new bucket. Not changed on an existing bucket.
    type: str
    default: EU
  storage_class:
    description: Default storage class of a new bucket.
    type: str
    default: STANDARD
  labels:
    description: Labels the bucket must carry.
    type: dict
    default: {}
  keep_noncurrent_versions:
    description: Keep this many noncurrent versions of each object; older ones are deleted by a lifecycle rule.
    type: int
  allowed_members:
    description:
      - IAM members allowed on the bucket, for example C(serviceAccount:deployer@p.iam.gserviceaccount.com) or
        C(projectOwner:my-project). Any other member is drift. Public members are refused.
      - When empty, the IAM policy is not checked.
    type: list
    elements: str
    default: []
  fix_drift:
    description: Fix the drift found on an existing bucket (patch its settings, remove IAM members not allowed).
    type: bool
    default: false
extends_documentation_fragment:
  - octo.platform.gcp_auth
attributes:
  check_mode:
    support: full
    description: Reports the creation or the fixes a real run would make.
  diff_mode:
    support: full
    description: Shows the posture before and after.
requirements:
  - google-cloud-storage >= 2.16.0 (Python library)
author:
  - octo.platform maintainers (!UNKNOWN)
"""

EXAMPLES = r"""
- name: Ensure the state bucket, fixing any drift
  octo.platform.gcs_state_bucket:
    project: my-project
    name: my-project-octo-state
    location: europe-west1
    labels: { app: octo }
    keep_noncurrent_versions: 10
    allowed_members:
      - projectOwner:my-project
      - serviceAccount:deployer@my-project.iam.gserviceaccount.com
    fix_drift: true
"""

RETURN = r"""
created:
  description: Whether the bucket was created.
  returned: success
  type: bool
drift:
  description: Differences from the posture found on an existing bucket, as C(field), C(actual), C(wanted).
  returned: success
  type: list
  elements: dict
  sample: [{field: versioning, actual: false, wanted: true}]
compliant:
  description: Whether the bucket has the posture after the run.
  returned: success
  type: bool
bucket:
  description: The posture as found (or as created), with the IAM C(members) when O(allowed_members) is set.
  returned: success
  type: dict
conflicts:
  description: The 412 errors met (one per retry) because another writer changed the IAM policy in between.
  returned: success
  type: list
  elements: str
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.octo.platform.plugins.module_utils.common import runner
from ansible_collections.octo.platform.plugins.module_utils.common.gcp_args import GCP_AUTH, STATE_BUCKET
from ansible_collections.octo.platform.plugins.module_utils.gcp.state_bucket import ensure


def main():
    module = AnsibleModule(argument_spec={**STATE_BUCKET, **GCP_AUTH}, supports_check_mode=True)
    outcome = runner.run(ensure, module)
    for item in [] if outcome.result.get("compliant", True) else outcome.result["drift"]:
        module.warn(f"bucket {module.params['name']} drifted: {item['field']} is {item['actual']}")
    (module.fail_json if outcome.failed else module.exit_json)(**outcome.result)


if __name__ == "__main__":
    main()
