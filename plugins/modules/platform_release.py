#!/usr/bin/python
"""Record the images of a platform deploy in the platform state; read the release history for a rollback."""

from __future__ import annotations

DOCUMENTATION = r"""
module: platform_release
short_description: Record the platform's deployed images in the state, and find the release to roll back to
version_added: 0.1.0
description:
  - Keeps the release history of the platform in a JSON object next to the platform credentials (a local file
    or an object in the state bucket, written with compare-and-swap). Per release it keeps its number, time, the
    image of each component and the database backup taken just before it was deployed.
  - With O(images), records a release unless the latest one has the same images (then nothing changes).
  - Without O(images), only reads. RV(rollback) is the release before the latest one, with the backup to
    restore (C(restore_backup)) and its images as C(platform_*_image) settings (C(image_settings)).
options:
  backend:
    description: Where the history lives.
    type: str
    default: local
    choices: [local, gcs]
  path:
    description: The local file (with O(backend=local)).
    type: path
  bucket:
    description: The state bucket (with O(backend=gcs)).
    type: str
  object_name:
    description: The object name in O(bucket).
    type: str
    default: octo/platform-releases.json
  images:
    description: The images deployed, by component (C(editor), C(orchestrator), ...), as the C(platform_*_image)
      dicts (C(repository), C(tag) or C(digest)) or as references.
    type: dict
  backup:
    description: The backup object taken just before this deploy (the RV(octo.platform.platform_backup#module:backup)
      name).
    type: str
  keep:
    description: Number of releases kept.
    type: int
    default: 20
extends_documentation_fragment:
  - octo.platform.gcp_auth
attributes:
  check_mode:
    support: full
    description: Reports whether a release would be recorded; writes nothing.
  diff_mode:
    support: full
    description: Shows the history before and after.
author:
  - octo.platform maintainers (!UNKNOWN)
"""

EXAMPLES = r"""
- name: Record the release after a verified deploy
  octo.platform.platform_release:
    path: "{{ octo_state_dir }}/platform-releases.json"
    images:
      editor: "{{ platform_editor_image }}"
      orchestrator: "{{ platform_orchestrator_image }}"
    backup: "{{ pre_deploy_backup.backup.name }}"

- name: Find the release to roll back to
  octo.platform.platform_release:
    backend: gcs
    bucket: my-project-octo-state
  register: releases
"""

RETURN = r"""
releases:
  description: The history, oldest first (C(number), C(time), C(images), C(backup)).
  returned: success
  type: list
  elements: dict
current:
  description: The latest release, or null.
  returned: success
  type: dict
rollback:
  description: The release before the latest, with C(restore_backup) and C(image_settings); null when there is none.
  returned: success
  type: dict
location:
  description: Where the history is kept.
  returned: success
  type: str
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.octo.platform.plugins.module_utils.common import runner
from ansible_collections.octo.platform.plugins.module_utils.common.backup_args import RELEASE
from ansible_collections.octo.platform.plugins.module_utils.common.gcp_args import GCP_AUTH
from ansible_collections.octo.platform.plugins.module_utils.gcp.platform_release import ensure


def main():
    module = AnsibleModule(
        argument_spec={**RELEASE, **GCP_AUTH},
        required_if=[("backend", "local", ("path",)), ("backend", "gcs", ("bucket",))],
        supports_check_mode=True,
    )
    outcome = runner.run(ensure, module)
    (module.fail_json if outcome.failed else module.exit_json)(**outcome.result)


if __name__ == "__main__":
    main()
