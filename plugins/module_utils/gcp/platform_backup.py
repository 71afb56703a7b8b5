"""Operations of platform_backup and platform_restore: encrypted pg_dump archives in the state bucket."""

from __future__ import annotations

import datetime
import os
import tempfile

from ansible_collections.octo.platform.plugins.module_utils.common.errors import OctoError, ValidationError
from ansible_collections.octo.platform.plugins.module_utils.common.gcp_args import gcp_auth_params
from ansible_collections.octo.platform.plugins.module_utils.gcp.backup_store import BackupStore
from ansible_collections.octo.platform.plugins.module_utils.host.postgres import Postgres
from ansible_collections.octo.platform.plugins.module_utils.render import backup_plan
from ansible_collections.octo.platform.plugins.module_utils.state import backup_crypto, envelope


def backup(params: dict, check_mode: bool = False, diff: bool = False) -> dict:
    backup_plan.validate(params)
    key = _key(params)
    database, store, pg = (
        params["database"],
        BackupStore(gcp_auth_params(params), params["bucket"]),
        Postgres(params),
    )
    prefix = f"{backup_plan.PREFIX}{database}/"
    listing = store.list(prefix)
    name = backup_plan.object_name(database, datetime.datetime.now(backup_plan.UTC))
    if name in listing:
        raise OctoError("back up", f"database {database}", f"{name} exists already; retry in a second")
    kept, deleted = backup_plan.rotation([*listing, name], params["keep_daily"], params["keep_weekly"])
    counts = pg.row_counts(database)  # also proves the database is reachable, in check mode too
    result = {
        "changed": True,
        "backup": {"name": name, "bucket": params["bucket"]},
        "deleted": deleted,
        "kept": kept,
    }
    if diff:
        result["diff"] = {"before": {"backups": sorted(listing)}, "after": {"backups": sorted(kept)}}
    if check_mode:
        return result
    result["backup"] = _dump_and_upload(pg, store, key, database, name, counts)
    _verify_listed(store, prefix, result["backup"])
    for old in deleted:
        store.delete(old)
    return result


def _dump_and_upload(pg: Postgres, store: BackupStore, key: bytes, database: str, name: str, counts: dict):
    with tempfile.TemporaryDirectory(prefix="octo-backup-") as tmp:
        path = os.path.join(tmp, "backup.enc")
        process = pg.dump(database)
        try:
            with open(path, "wb") as sink:
                size, sha256 = backup_crypto.encrypt_stream(key, process.stdout, sink)
        finally:
            pg.wait(process, database)
        meta = backup_plan.metadata(database, envelope.key_id(key), size, sha256, counts)
        store.upload(name, path, meta)
        stored_size = os.path.getsize(path)
    return {
        "name": name,
        "bucket": store.bucket.name,
        "size": stored_size,
        "dump_size": size,
        "sha256": sha256,
        "row_counts": counts,
        "key_id": meta["octo-key-id"],
    }


def _verify_listed(store: BackupStore, prefix: str, made: dict) -> None:
    found = store.list(prefix).get(made["name"])
    if (
        not found
        or found["size"] != made["size"]
        or found["metadata"].get("octo-plain-sha256") != made["sha256"]
    ):
        raise OctoError("verify", f"backup gs://{made['bucket']}/{made['name']}", f"listed as {found!r}")


def restore(params: dict, check_mode: bool = False, diff: bool = False) -> dict:
    backup_plan.validate(params)
    target = params.get("target_database") or params["database"]
    backup_plan.validate({**params, "database": target})
    key = _key(params)
    store, pg = BackupStore(gcp_auth_params(params), params["bucket"]), Postgres(params)
    listing = store.list(f"{backup_plan.PREFIX}{params['database']}/")
    name = backup_plan.choose(list(listing), params["database"], params["backup"])
    what = f"backup gs://{params['bucket']}/{name}"
    with tempfile.TemporaryDirectory(prefix="octo-restore-") as tmp:
        path = os.path.join(tmp, "backup.enc")
        meta = store.download(name, path)
        _authenticate(key, path, meta, what)  # the whole archive, before the target is touched
        exists = pg.exists(target)
        tables = pg.user_tables(target) if exists else 0
        if tables and not params["force"]:
            raise OctoError(
                "restore",
                f"{what} into database {target}",
                f"the database is not empty ({tables} tables); set force=true to replace its contents",
            )
        result = {"changed": True, "backup": name, "target_database": target, "replaced": bool(tables)}
        if diff:
            result["diff"] = {
                "before": {"database": target, "tables": tables},
                "after": {"restored_from": name},
            }
        if check_mode:
            return result
        if not exists:
            pg.create(target)
        pg.restore(target, lambda stdin: _decrypt_file(key, path, stdin, what), clean=bool(tables))
    return {**result, **_check_counts(pg, target, meta, what)}


def _authenticate(key: bytes, path: str, meta: dict, what: str) -> None:
    size, sha256 = _decrypt_file(key, path, _Discard(), what)
    if meta.get("octo-plain-sha256") not in (None, sha256) or meta.get("octo-plain-size") not in (
        None,
        str(size),
    ):
        raise OctoError(
            "verify", what, "the decrypted dump does not match the checksum recorded at backup time"
        )


def _decrypt_file(key: bytes, path: str, sink, what: str):
    with open(path, "rb") as source:
        return backup_crypto.decrypt_stream(key, source, sink, what)


def _check_counts(pg: Postgres, target: str, meta: dict, what: str) -> dict:
    expected, actual = backup_plan.row_counts(meta), pg.row_counts(target)
    mismatches = backup_plan.count_mismatches(expected, actual)
    if mismatches:
        raise OctoError(
            "verify",
            f"{what} restored into {target}",
            "row counts differ from the backup",
            mismatches=mismatches,
        )
    return {"row_counts": actual}


def _key(params: dict) -> bytes:
    try:
        return envelope.parse_key(params.get("encryption_key"))
    except ValidationError:
        raise ValidationError(
            backup_plan.WHAT,
            "encryption_key",
            "required: the platform state's backup_key or 32 bytes base64/hex (or set OCTO_BACKUP_KEY)",
        ) from None


class _Discard:
    def write(self, data: bytes) -> int:
        return len(data)
