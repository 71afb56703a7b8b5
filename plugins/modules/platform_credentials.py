#!/usr/bin/python
"""Generate once and keep the platform credentials in one client-side encrypted state object."""

from __future__ import annotations

DOCUMENTATION = r"""
module: platform_credentials
short_description: Keep the platform credentials in one encrypted state object
version_added: 0.1.0
description:
  - Keeps the Postgres password, the Auth.js session secret and the OIDC client secret of the platform in one state
    object, encrypted client-side with AES-256-GCM, in a GCS object (O(backend=gcs)) or a local 0600 file
    (O(backend=local), the default used by the demo).
  - The Postgres password and the session secret are generated (C(secrets.token_urlsafe)) the first time only; existing
    values are never regenerated. The OIDC client secret is taken from O(oidc_client_secret) and updated when it
    differs.
  - Writes are compare-and-swap. On GCS, creation uses C(if_generation_match=0) and updates the generation that was
    read; locally, the file is replaced by an atomic rename under an exclusive lock after checking its content did
    not change. When another run wrote in between (HTTP 412 or a local mismatch) the module re-reads, merges (keeping
    every stored value) and retries, so two concurrent runs never lose an update.
  - A wrong O(encryption_key) is a clear error; nothing is regenerated or written.
  - The values come back only in RV(credentials). The action plugin marks every result holding them as no_log so
    neither C(-vvv) nor diff mode shows them; also set O(ignore:no_log=true) on the task and on every task using them.
options:
  backend:
    description: Where the state object lives.
    type: str
    choices: [local, gcs]
    default: local
  path:
    description: Path of the state file with O(backend=local). Missing directories are created with mode 0700.
    type: path
  bucket:
    description: Bucket holding the state object with O(backend=gcs) (see M(octo.platform.gcs_state_bucket)).
    type: str
  object_name:
    description: Name of the state object in O(bucket).
    type: str
    default: octo/platform-credentials.json.enc
  encryption_key:
    description:
      - The 32-byte AES-256-GCM key, base64 (standard or URL-safe) or hex encoded, for example from
        C(openssl rand -base64 32). Falls back to E(OCTO_STATE_KEY). Never logged.
      - Keep it outside the bucket; losing it means losing the credentials.
    type: str
  oidc_client_secret:
    description: The OIDC client secret issued by the identity provider. When omitted, the stored one is kept.
    type: str
  secret_bytes:
    description: Random bytes behind each generated value (at least 32).
    type: int
    default: 32
  conflict_retries:
    description: How many times to re-read and merge after a concurrent write; V(0) fails at the first conflict.
    type: int
    default: 3
extends_documentation_fragment:
  - octo.platform.gcp_auth
attributes:
  check_mode:
    support: full
    description: Reports which values would be generated or updated; generates nothing and writes nothing.
  diff_mode:
    support: full
    description: Shows value names with C((set)), C((generated)), C((updated)); never values.
notes:
  - The gcp_auth options apply to O(backend=gcs) only.
requirements:
  - cryptography >= 42.0 (Python library)
  - google-cloud-storage >= 2.16.0 (Python library, for O(backend=gcs))
author:
  - octo.platform maintainers (!UNKNOWN)
"""

EXAMPLES = r"""
- name: Ensure the platform credentials
  octo.platform.platform_credentials:
    backend: gcs
    bucket: my-project-octo-state
    oidc_client_secret: "{{ vault_oidc_client_secret }}"
  environment:
    OCTO_STATE_KEY: "{{ vault_state_key }}"
  register: platform
  no_log: true

- name: Demo, state in a local file
  octo.platform.platform_credentials:
    path: "{{ playbook_dir }}/.state/platform-credentials.json.enc"
  register: platform
  no_log: true
"""

RETURN = r"""
credentials:
  description:
    - SECRET. The credentials, keyed C(postgres_password), C(session_secret), C(encryption_key), C(k3s_token),
      C(backup_key) (generated once) and C(oidc_client_secret) (when known).
    - In check mode only the values already stored.
    - The result is marked no_log; register it and use it only in tasks that set C(no_log) too.
  returned: success
  type: dict
actions:
  description: What happened per value name (C(generated), C(set), C(updated)); values never appear.
  returned: success
  type: dict
  sample: {postgres_password: generated, session_secret: generated}
conflicts:
  description: Concurrent writes met (GCS 412 or local mismatch), each followed by a re-read and merge.
  returned: always
  type: int
location:
  description: The state object or file.
  returned: success
  type: str
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.octo.platform.plugins.module_utils.common import runner
from ansible_collections.octo.platform.plugins.module_utils.common.gcp_args import (
    GCP_AUTH,
    PLATFORM_CREDENTIALS,
)
from ansible_collections.octo.platform.plugins.module_utils.gcp.platform_credentials import ensure


def main():
    module = AnsibleModule(
        argument_spec={**PLATFORM_CREDENTIALS, **GCP_AUTH},
        required_if=[("backend", "local", ("path",)), ("backend", "gcs", ("bucket",))],
        supports_check_mode=True,
    )
    outcome = runner.run(ensure, module)
    if not outcome.failed:
        # The values must reach the registered variable, so they are not masked here: the action
        # plugin of the same name marks the whole result no_log instead.
        module.no_log_values.discard(module.params.get("oidc_client_secret"))
    (module.fail_json if outcome.failed else module.exit_json)(**outcome.result)


if __name__ == "__main__":
    main()
