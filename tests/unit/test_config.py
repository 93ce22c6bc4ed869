"""Configuration from the environment: each setting read, a bad one refused by name."""

from __future__ import annotations

import pytest

from config import Config
from ledger.domain.park import Park
from ledger.parkcache import ParkCache


def test_park_cache_size_comes_from_the_environment(monkeypatch):
    monkeypatch.setenv("LEDGER_PARK_CACHE_SIZE", "25")
    assert Config.from_env().park_cache_size == 25
    monkeypatch.delenv("LEDGER_PARK_CACHE_SIZE")
    assert Config.from_env().park_cache_size == Config.park_cache_size


@pytest.mark.parametrize("text", ["-1", "many", "2.5"])
def test_a_bad_park_cache_size_is_refused_naming_the_variable(monkeypatch, text):
    monkeypatch.setenv("LEDGER_PARK_CACHE_SIZE", text)
    with pytest.raises(ValueError, match="LEDGER_PARK_CACHE_SIZE"):
        Config.from_env()


def test_a_park_cache_of_size_zero_keeps_nothing():
    park = object.__new__(Park)
    vars(park).update(_id=None, _pending_events=[])
    cache = ParkCache(0)
    cache.put(park)
    assert cache.get(park.id) is None
