#!/usr/bin/python
"""Back up a PostgreSQL database into the state bucket, encrypted, with rotation."""

from __future__ import annotations

DOCUMENTATION = r"""
module: platform_backup
short_description: Back up the platform's PostgreSQL database, encrypted, into the state bucket
version_added: 0.1.0
description:
  - Streams C(pg_dump -Fc) of O(database) through AES-256-GCM (chunked, every chunk authenticated, the key's
    fingerprint in the header) into a temporary file and uploads it to O(bucket) as
    C(backups/<database>/<UTC timestamp>.dump.enc), with metadata (key fingerprint, dump size and sha256, row
    count of every table taken right before the dump).
  - The new object is verified by listing C(backups/<database>/) again (present, same size and checksum); only
    then are older backups beyond the rotation deleted.
  - Rotation keeps the newest backup of each of the last O(keep_daily) days that have backups and of each of the
    last O(keep_weekly) ISO weeks that have backups; the newest backup is always kept.
  - Every run takes a backup, so it always reports a change. In check mode it reads the listing and the row counts
    (proving the database is reachable) and reports the object it would write and the backups it would delete.
options:
  database:
    description: The database to dump.
    type: str
    required: true
  bucket:
    description: The state bucket (see M(octo.platform.gcs_state_bucket)); backups go under C(backups/).
    type: str
    required: true
  encryption_key:
    description:
      - 32 bytes, base64 or hex, for example the C(backup_key) of M(octo.platform.platform_credentials).
      - Falls back to E(OCTO_BACKUP_KEY). Never logged; only its fingerprint is stored with the backup.
    type: str
  keep_daily:
    description: Number of days (that have backups) whose newest backup is kept.
    type: int
    default: 7
  keep_weekly:
    description: Number of ISO weeks (that have backups) whose newest backup is kept.
    type: int
    default: 4
  login_host:
    description: PostgreSQL server address.
    type: str
    default: 127.0.0.1
  login_port:
    description: PostgreSQL server port.
    type: int
    default: 5432
  login_user:
    description: PostgreSQL user.
    type: str
    default: postgres
  login_password:
    description: Password of O(login_user); falls back to E(PGPASSWORD). Passed to the tools by environment only.
    type: str
  pg_bin_dir:
    description: Directory of C(psql), C(pg_dump) and C(pg_restore); the E(PATH) when unset.
    type: path
extends_documentation_fragment:
  - octo.platform.gcp_auth
attributes:
  check_mode:
    support: full
    description: Reads the listing and the database; writes and deletes nothing.
  diff_mode:
    support: full
    description: Shows the backup objects before and after the rotation.
requirements:
  - google-cloud-storage >= 2.16.0 (Python library)
  - cryptography (Python library)
  - PostgreSQL client tools (psql, pg_dump) on the host that runs the module
author:
  - octo.platform maintainers (!UNKNOWN)
"""

EXAMPLES = r"""
- name: Back up the platform database with the backup key from the platform state
  octo.platform.platform_backup:
    database: octo
    login_host: 10.0.0.5
    login_password: "{{ credentials.credentials.postgres_password }}"
    bucket: my-project-octo-state
    encryption_key: "{{ credentials.credentials.backup_key }}"
    keep_daily: 7
    keep_weekly: 4
"""

RETURN = r"""
backup:
  description: The backup written (in check mode only C(name) and C(bucket)).
  returned: success
  type: dict
  sample:
    name: backups/octo/20260101T020000Z.dump.enc
    bucket: my-project-octo-state
    size: 20512
    dump_size: 20400
    sha256: 9f2c...
    row_counts: {public.runs: 42}
    key_id: 3e5a1c0d9b7f2a64
kept:
  description: Backup objects kept by the rotation, newest first.
  returned: success
  type: list
  elements: str
deleted:
  description: Backup objects deleted (or, in check mode, to delete) by the rotation, newest first.
  returned: success
  type: list
  elements: str
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.octo.platform.plugins.module_utils.common import runner
from ansible_collections.octo.platform.plugins.module_utils.common.backup_args import BACKUP
from ansible_collections.octo.platform.plugins.module_utils.common.gcp_args import GCP_AUTH
from ansible_collections.octo.platform.plugins.module_utils.gcp.platform_backup import backup


def main():
    module = AnsibleModule(argument_spec={**BACKUP, **GCP_AUTH}, supports_check_mode=True)
    outcome = runner.run(backup, module)
    (module.fail_json if outcome.failed else module.exit_json)(**outcome.result)


if __name__ == "__main__":
    main()
