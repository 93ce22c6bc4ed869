"""Idempotency receipts: a command sent twice under one key is recorded once."""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING, Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate

RECEIPT_NAMESPACE = uuid5(NAMESPACE_URL, "https://park-ledger.example/idempotency")


@lru_cache(maxsize=1024)  # a batch asks for its keys' ids twice: are they used, then issued
def receipt_id(key: str) -> UUID:
    """The receipt's id, derived from the key so the store itself refuses a second use."""
    return uuid5(RECEIPT_NAMESPACE, key)


class IdempotencyReceipt(Aggregate):
    """Proof that a command with this key was recorded, with what it returned."""

    if TYPE_CHECKING:  # assigned by Issued.apply; annotations here would become __init__ args
        key: str
        body_hash: str
        result: dict[str, Any]

    class Issued(Aggregate.Created):
        key: str
        body_hash: str
        result: dict[str, Any]

        def apply(self, receipt: Any) -> None:
            receipt.key = self.key
            receipt.body_hash = self.body_hash
            receipt.result = dict(self.result)

    @classmethod
    def issue(cls, key: str, body_hash: str, result: dict[str, Any]) -> IdempotencyReceipt:
        return cls._create(cls.Issued, id=receipt_id(key), key=key, body_hash=body_hash,
                           result=result)
