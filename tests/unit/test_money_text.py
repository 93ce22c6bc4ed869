"""Money as the read models write it: integer fen to yuan text and back, exactly."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from ledger.projections.runner import to_fen, yuan


@given(st.integers(min_value=-10**15, max_value=10**15))
def test_fen_are_written_as_yuan_with_two_decimals_and_read_back(fen):
    text = yuan(fen)

    assert text == f"{Decimal(fen) / 100:.2f}"
    assert to_fen(text) == fen


def test_no_amount_is_zero_yuan():
    assert (yuan(None), yuan(0), yuan(-5), yuan(200_000_000)) == (
        "0.00", "0.00", "-0.05", "2000000.00")
