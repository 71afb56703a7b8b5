"""Backup names, rotation (with a fake clock), restore choice and row-count checks."""

from __future__ import annotations

import datetime

import pytest

from ansible_collections.octo.platform.plugins.module_utils.common.errors import ValidationError
from ansible_collections.octo.platform.plugins.module_utils.render import backup_plan

UTC = datetime.UTC


class FakeClock:
    def __init__(self, start: datetime.datetime):
        self.now = start

    def advance(self, **delta) -> datetime.datetime:
        self.now += datetime.timedelta(**delta)
        return self.now


def taken(clock: FakeClock, days: int, every_hours: int) -> list[str]:
    """Backups every every_hours for days, named as platform_backup names them."""
    names = []
    for _ in range(days * 24 // every_hours):
        names.append(backup_plan.object_name("octo", clock.advance(hours=every_hours)))
    return names


def test_names_round_trip_in_utc():
    when = datetime.datetime(2026, 3, 1, 1, 2, 3, tzinfo=datetime.timezone(datetime.timedelta(hours=2)))
    name = backup_plan.object_name("octo", when)
    assert name == "backups/octo/20260228T230203Z.dump.enc"
    assert backup_plan.taken_at(name) == when
    assert backup_plan.taken_at("backups/octo/notes.txt") is None


def test_rotation_keeps_last_days_and_weeks_with_a_fake_clock():
    clock = FakeClock(datetime.datetime(2026, 1, 1, tzinfo=UTC))  # a Thursday
    names = taken(clock, days=40, every_hours=6)
    kept, deleted = backup_plan.rotation(names, keep_daily=7, keep_weekly=4)
    days = {backup_plan.taken_at(n).date() for n in kept}
    weeks = {backup_plan.taken_at(n).isocalendar()[:2] for n in kept}
    assert names[-1] == kept[0]  # the newest is kept
    assert len(days) == len(kept) and len(kept) == 7 + 2  # weeks overlap the last 7 days for two of them
    assert len(weeks) == 4 and sorted(kept + deleted) == sorted(names)
    assert all(backup_plan.taken_at(n).hour == 18 for n in kept[1:])  # the newest of each day


def test_rotation_counts_days_that_have_backups_and_always_keeps_the_newest():
    clock = FakeClock(datetime.datetime(2026, 1, 1, tzinfo=UTC))
    first = taken(clock, days=3, every_hours=24)
    clock.advance(days=30)  # backups stopped for a month: the old days still count
    last = taken(clock, days=1, every_hours=24)
    kept, deleted = backup_plan.rotation(first + last, keep_daily=3, keep_weekly=0)
    assert kept == [last[0], first[2], first[1]] and deleted == [first[0]]
    assert backup_plan.rotation(first, 0, 0) == ([first[-1]], [first[1], first[0]])
    assert backup_plan.rotation(["backups/octo/x"], 1, 1) == ([], [])  # foreign objects never deleted


def test_choose_latest_by_timestamp_or_name():
    names = ["backups/octo/20260101T000000Z.dump.enc", "backups/octo/20260102T000000Z.dump.enc"]
    assert backup_plan.choose(names, "octo", "latest") == names[1]
    assert backup_plan.choose(names, "octo", "20260101T000000Z") == names[0]
    assert backup_plan.choose(names, "octo", names[0]) == names[0]
    with pytest.raises(ValidationError, match="backup: '2025' is not a backup of octo"):
        backup_plan.choose(names, "octo", "2025")
    with pytest.raises(ValidationError, match="no backup of app"):
        backup_plan.choose(names, "app", "latest")


def test_metadata_row_counts_and_mismatches():
    meta = backup_plan.metadata("octo", "abc", 10, "f00", {"public.b": 2, "public.a": 0})
    assert meta["octo-row-counts"] == "public.a=0,public.b=2"
    assert all(isinstance(v, str) for v in meta.values())
    assert backup_plan.row_counts(meta) == {"public.a": 0, "public.b": 2}
    assert backup_plan.count_mismatches({"t": 1, "u": 2}, {"t": 1, "u": 3, "v": 0}) == [
        {"table": "u", "expected": 2, "actual": 3},
        {"table": "v", "expected": None, "actual": 0},
    ]


@pytest.mark.parametrize(
    ("change", "field"),
    [({"database": "x;drop"}, "database"), ({"keep_daily": -1}, "keep_daily"), ({"bucket": ""}, "bucket")],
)
def test_validation_names_the_option(change, field):
    params = {"database": "octo", "keep_daily": 7, "keep_weekly": 4, "bucket": "b", **change}
    with pytest.raises(ValidationError, match=f"Failed to validate platform backup: {field}: "):
        backup_plan.validate(params)
