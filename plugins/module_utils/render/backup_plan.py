"""Pure planning of Postgres backups: object names, metadata, rotation (daily/weekly) and restore checks."""

from __future__ import annotations

import datetime
import re

from ansible_collections.octo.platform.plugins.module_utils.common.errors import ValidationError

WHAT = "platform backup"
PREFIX = "backups/"
SUFFIX = ".dump.enc"
STAMP = "%Y%m%dT%H%M%SZ"
UTC = datetime.timezone.utc  # noqa: UP017 - datetime.UTC is 3.11+, module targets include 3.9
DATABASE = re.compile(r"^[A-Za-z_][A-Za-z0-9_$-]{0,62}$")
NAME = re.compile(r"^backups/(?P<db>[A-Za-z_][A-Za-z0-9_$-]{0,62})/(?P<stamp>\d{8}T\d{6}Z)\.dump\.enc$")


def validate(params: dict) -> None:
    """Options checked before pg_dump runs or anything is written."""
    if not DATABASE.match(params.get("database") or ""):
        raise ValidationError(WHAT, "database", f"{params.get('database')!r} is not a database name")
    for option in ("keep_daily", "keep_weekly"):
        if (params.get(option) or 0) < 0:
            raise ValidationError(WHAT, option, "must be 0 or more")
    if not params.get("bucket"):
        raise ValidationError(WHAT, "bucket", "required (the state bucket that holds backups/)")


def object_name(database: str, now: datetime.datetime) -> str:
    """backups/<database>/<UTC timestamp>.dump.enc"""
    return f"{PREFIX}{database}/{now.astimezone(UTC).strftime(STAMP)}{SUFFIX}"


def taken_at(name: str) -> datetime.datetime | None:
    """The time a backup was taken from its object name; None for an object that is not a backup."""
    match = NAME.match(name)
    if not match:
        return None
    return datetime.datetime.strptime(match["stamp"], STAMP).replace(tzinfo=UTC)


def metadata(database: str, key_id: str, size: int, sha256: str, counts: dict) -> dict:
    """Object metadata (strings only, as GCS stores them); never the key, only its fingerprint."""
    return {
        "octo-database": database,
        "octo-format": "pg_dump-custom+octo-backup/v1",
        "octo-key-id": key_id,
        "octo-plain-size": str(size),
        "octo-plain-sha256": sha256,
        "octo-row-counts": ",".join(f"{table}={count}" for table, count in sorted(counts.items())),
    }


def row_counts(meta: dict) -> dict:
    """The table row counts recorded in a backup's metadata."""
    text = (meta or {}).get("octo-row-counts") or ""
    pairs = (item.rpartition("=") for item in text.split(",") if item)
    return {table: int(count) for table, _sep, count in pairs}


def rotation(names: list[str], keep_daily: int, keep_weekly: int) -> tuple[list[str], list[str]]:
    """(kept, deleted): the newest backup of each of the last keep_daily days that have backups, and of
    each of the last keep_weekly ISO weeks that have backups; the newest backup is always kept."""
    stamped = sorted(((taken_at(n), n) for n in names if taken_at(n)), reverse=True)
    keep = {stamped[0][1]} if stamped else set()
    keep |= _newest_per(stamped, lambda t: t.date(), keep_daily)
    keep |= _newest_per(stamped, lambda t: t.isocalendar()[:2], keep_weekly)
    ordered = [n for _t, n in stamped]
    return [n for n in ordered if n in keep], [n for n in ordered if n not in keep]


def _newest_per(stamped: list[tuple], period, limit: int) -> set[str]:
    kept, seen = set(), set()
    for when, name in stamped:  # newest first
        if len(seen) >= limit:
            break
        if period(when) not in seen:
            seen.add(period(when))
            kept.add(name)
    return kept


def choose(names: list[str], database: str, backup: str) -> str:
    """The object to restore: an exact name, a timestamp, or "latest" of the database."""
    own = sorted(n for n in names if taken_at(n) and n.startswith(f"{PREFIX}{database}/"))
    if backup == "latest":
        if not own:
            raise ValidationError(WHAT, "backup", f"no backup of {database} under {PREFIX}{database}/")
        return own[-1]
    for name in own:
        if backup in (name, name[len(PREFIX) + len(database) + 1 : -len(SUFFIX)]):
            return name
    raise ValidationError(WHAT, "backup", f"{backup!r} is not a backup of {database} (see the listing)")


def count_mismatches(expected: dict, actual: dict) -> list[dict]:
    """Tables whose restored row count differs from the count recorded at backup time."""
    tables = sorted(set(expected) | set(actual))
    return [
        {"table": t, "expected": expected.get(t), "actual": actual.get(t)}
        for t in tables
        if expected.get(t) != actual.get(t)
    ]
