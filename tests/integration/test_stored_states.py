"""Every stored event and snapshot of a generated history (every event type, corrections,
overrides, refunds) reads to the same values through the ledger's transcoder (orjson) as
through eventsourcing's own, and the ledger reads its events through it."""

from __future__ import annotations

from collections import Counter

from eventsourcing.persistence import JSONTranscoder

from bench.generator import generate
from ledger.importer import import_commands
from ledger.jsontext import JSONTranscoder as OrjsonTranscoder


def test_every_stored_state_reads_as_the_library_reads_it(ledger):
    report = import_commands(ledger, generate("tiny", seed=3))
    assert report.ok
    library = JSONTranscoder()
    ledger.register_transcodings(library)
    ours = ledger.mapper.transcoder
    assert isinstance(ours, OrjsonTranscoder)  # what the ledger reads its events with

    stored = ledger.recorder.select_notifications(start=None, limit=10 ** 6)
    snapshots = [s.state for park in {e.originator_id for _, e in ledger.park_events()}
                 for s in ledger.snapshots.recorder.select_events(park)]
    states = [n.state for n in stored] + snapshots
    topics = {n.topic.rsplit(".", 1)[-1] for n in stored}

    for state in states:
        read, expected = ours.decode(state), library.decode(state)
        assert read == expected
        assert {k: type(v) for k, v in read.items()} == {k: type(v) for k, v in expected.items()}
    assert {"ObjectionRaised", "SubsidyDisbursed", "EntryCorrected", "Issued"} <= topics
    assert snapshots  # the longest park has more than 100 events


def test_the_benchmark_s_yardstick_reads_with_the_library_s_own_transcoder(ledger):
    """bench/baseline.py measures the library: its replay and its repository read the
    ledger's events through the library's `JSONTranscoder`, to the same events."""
    from bench.baseline import library_mapper, library_repository  # noqa: PLC0415

    report = import_commands(ledger, generate("tiny", seed=3))
    assert report.ok
    mapper = library_mapper(ledger)
    assert type(mapper.transcoder) is JSONTranscoder

    for notification in ledger.recorder.select_notifications(start=None, limit=10 ** 6):
        assert vars(mapper.to_domain_event(notification)) == \
            vars(ledger.mapper.to_domain_event(notification))
    longest = Counter(e.originator_id for _, e in ledger.park_events()).most_common(1)[0][0]
    assert vars(library_repository(ledger).get(longest)) == \
        vars(ledger.repository.get(longest))  # from a snapshot, then its events
