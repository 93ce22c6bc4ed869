"""Read-model tables hold recorded times as naive UTC (`runner.utc`), on both databases."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ledger.projections.runner import aware, utc

ZONES = [UTC, timezone(timedelta(hours=8)), timezone(timedelta(hours=-5, minutes=-30)),
         ZoneInfo("Asia/Shanghai"), ZoneInfo("America/New_York")]


@given(st.datetimes(timezones=st.sampled_from(ZONES)))
def test_an_aware_time_becomes_the_same_instant_in_naive_utc(moment):
    stored = utc(moment)

    assert stored.tzinfo is None
    assert stored == moment.astimezone(UTC).replace(tzinfo=None)
    # the same instant back (compared in UTC: a local time in a fold or gap, such as China's
    # summer time ending in 1986-1991, equals no time of another zone, itself included)
    assert aware(stored) == moment.astimezone(UTC)
    assert aware(stored).timestamp() == moment.timestamp()


@pytest.mark.parametrize("moment", [
    datetime(2026, 12, 4, 18, 57, 44, 658181, tzinfo=UTC),
    datetime.fromisoformat("2026-12-04T18:57:44.658181+00:00"),  # as the store decodes it
    datetime(2024, 2, 29, 7, 59, 59, 999999, tzinfo=ZoneInfo("Asia/Shanghai")),
    datetime(1991, 9, 15, 1, 0, tzinfo=ZoneInfo("Asia/Shanghai")),  # in the fold
    datetime(1991, 9, 15, 1, 0, fold=1, tzinfo=ZoneInfo("Asia/Shanghai"))])
def test_microseconds_and_the_day_survive(moment):
    stored = utc(moment)
    assert (stored.microsecond, stored.second) == (moment.microsecond, moment.second)
    assert stored == moment.astimezone(UTC).replace(tzinfo=None)


def test_a_naive_time_is_taken_as_utc_already():
    moment = datetime(2026, 1, 1, 8, 0)
    assert utc(moment) is moment
