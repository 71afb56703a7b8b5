"""Rollout wait options shared by the octo.platform modules that change workloads."""


class ModuleDocFragment:
    DOCUMENTATION = r"""
options:
  wait:
    description:
      - Wait for the rollout to finish. While waiting, progress lines (pods ready, new events) are
        printed in the C(ansible-playbook) output when the module runs on the controller.
      - A rollout that cannot succeed (image pull failure, crash loop, progress deadline exceeded,
        unschedulable pods) fails at once with the reason and the pod events.
    type: bool
    default: true
  wait_timeout:
    description:
      - Seconds to wait for the rollout before failing.
    type: int
    default: 300
  wait_sleep:
    description:
      - Seconds between two status polls.
    type: int
    default: 2
"""
