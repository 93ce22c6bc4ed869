"""docs/integrity.md's worked example is right: its canonical document hashes to its hash."""

from __future__ import annotations

import hashlib
import json
import re

from ledger.domain.hashing import canonical_json, event_hash
from tests.processes import PROJECT_ROOT


def fenced_after(marker: str, text: str) -> str:
    match = re.search(re.escape(marker) + r"\n```\n(.*?)\n```", text, re.S)
    assert match, marker
    return match.group(1)


def test_worked_example_hashes_to_the_stated_hash():
    text = (PROJECT_ROOT / "docs" / "integrity.md").read_text(encoding="utf-8")
    document = fenced_after("<!-- example-document -->", text)
    stated = fenced_after("<!-- example-hash -->", text)

    parsed = json.loads(document)

    assert hashlib.sha256(document.encode("utf-8")).hexdigest() == stated
    assert canonical_json(parsed) == document.encode("utf-8")
    assert event_hash(originator_id=parsed["id"], version=parsed["version"],
                      topic=parsed["topic"], state=parsed["state"]) == stated
