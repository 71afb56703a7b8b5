#!/usr/bin/python
"""Restore a PostgreSQL database from an encrypted backup in the state bucket."""

from __future__ import annotations

DOCUMENTATION = r"""
module: platform_restore
short_description: Restore the platform's PostgreSQL database from an encrypted backup
version_added: 0.1.0
description:
  - Downloads a backup written by M(octo.platform.platform_backup), decrypts and authenticates all of it (every
    chunk, then the checksum recorded at backup time) before the target database is touched, then streams it
    into C(pg_restore).
  - A wrong key or a corrupted backup fails with a clear error and leaves the target untouched.
  - Refuses a target database that has tables unless O(force=true), which replaces the objects of the backup
    (C(pg_restore --clean --if-exists)). A missing target database is created.
  - After the restore, the row count of every table must equal the count recorded with the backup.
  - Every run restores, so it always reports a change; check mode downloads and authenticates the backup and
    checks the target, and changes nothing.
options:
  database:
    description: The database the backup was taken of (its backups are under C(backups/<database>/)).
    type: str
    required: true
  target_database:
    description: The database to restore into; O(database) when unset.
    type: str
  backup:
    description: V(latest), a full object name, or the timestamp part of one (C(20260101T020000Z)).
    type: str
    default: latest
  force:
    description: Restore into a database that already has tables, replacing the objects the backup holds.
    type: bool
    default: false
  bucket:
    description: The state bucket holding C(backups/).
    type: str
    required: true
  encryption_key:
    description: The key the backup was encrypted with; falls back to E(OCTO_BACKUP_KEY). Never logged.
    type: str
  login_host:
    description: PostgreSQL server address.
    type: str
    default: 127.0.0.1
  login_port:
    description: PostgreSQL server port.
    type: int
    default: 5432
  login_user:
    description: PostgreSQL user (it owns the restored objects).
    type: str
    default: postgres
  login_password:
    description: Password of O(login_user); falls back to E(PGPASSWORD). Passed to the tools by environment only.
    type: str
  pg_bin_dir:
    description: Directory of C(psql) and C(pg_restore); the E(PATH) when unset.
    type: path
extends_documentation_fragment:
  - octo.platform.gcp_auth
attributes:
  check_mode:
    support: full
    description: Downloads and authenticates the backup and checks the target; restores nothing.
  diff_mode:
    support: full
    description: Shows the target's table count before and the backup restored after.
requirements:
  - google-cloud-storage >= 2.16.0 (Python library)
  - cryptography (Python library)
  - PostgreSQL client tools (psql, pg_restore) on the host that runs the module
author:
  - octo.platform maintainers (!UNKNOWN)
"""

EXAMPLES = r"""
- name: Restore the latest backup into a scratch database to test it
  octo.platform.platform_restore:
    database: octo
    target_database: octo_restore_test
    bucket: my-project-octo-state
    encryption_key: "{{ credentials.credentials.backup_key }}"
    login_password: "{{ credentials.credentials.postgres_password }}"

- name: Roll the platform database back to a chosen backup
  octo.platform.platform_restore:
    database: octo
    backup: 20260101T020000Z
    force: true
    bucket: my-project-octo-state
    encryption_key: "{{ credentials.credentials.backup_key }}"
"""

RETURN = r"""
backup:
  description: The backup object restored.
  returned: success
  type: str
  sample: backups/octo/20260101T020000Z.dump.enc
target_database:
  description: The database restored into.
  returned: success
  type: str
replaced:
  description: Whether the target had tables that were replaced (O(force=true)).
  returned: success
  type: bool
row_counts:
  description: Row count of every table after the restore (equal to the backup's).
  returned: success and not check mode
  type: dict
mismatches:
  description: Tables whose row count differs from the backup's, when the check fails.
  returned: failure
  type: list
  elements: dict
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.octo.platform.plugins.module_utils.common import runner
from ansible_collections.octo.platform.plugins.module_utils.common.backup_args import RESTORE
from ansible_collections.octo.platform.plugins.module_utils.common.gcp_args import GCP_AUTH
from ansible_collections.octo.platform.plugins.module_utils.gcp.platform_backup import restore


def main():
    module = AnsibleModule(argument_spec={**RESTORE, **GCP_AUTH}, supports_check_mode=True)
    outcome = runner.run(restore, module)
    (module.fail_json if outcome.failed else module.exit_json)(**outcome.result)


if __name__ == "__main__":
    main()
