"""Benchmarks of Park Ledger against the eventsourcing library underneath (docs/benchmarks.md)."""
