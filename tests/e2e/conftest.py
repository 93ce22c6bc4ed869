"""Fixtures for the browser tests: the real server over a ledger on SQLite and PostgreSQL (the
`ledger` fixture), one account per role, and Debian's chromium."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from ledger.application import Ledger
from ledger.demo import demo_commands
from ledger.importer import import_commands
from tests.conftest import Clock
from tests.e2e.browser import chromium, demo_accounts, log_in, serving
from web import create_app


@dataclass
class Site:
    """A served ledger: its base URL, the ledger itself and its clock."""

    base: str
    ledger: Ledger
    clock: Clock

    def url(self, path: str) -> str:
        return self.base + path


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium() as launched:
        yield launched


@pytest.fixture
def site(config: Any, ledger: Ledger, clock: Clock) -> Iterator[Site]:
    """The web app on a loopback port over an empty ledger, with the demo accounts."""
    app = create_app(config, ledger=ledger)
    demo_accounts(app.extensions["accounts"])
    with serving(app) as base:
        yield Site(base, ledger, clock)


@pytest.fixture
def demo_site(site: Site) -> Site:
    """The same, with the demo data loaded (recorded at the test clock's time)."""
    report = import_commands(site.ledger, demo_commands())
    assert report.refused == []
    return site


@pytest.fixture
def as_user(browser: Any, site: Site) -> Iterator[Callable[..., Any]]:
    """as_user("demo.clerk", lang="zh") -> a page logged in as that account (own context)."""
    contexts = []

    def open_page(name: str, lang: str = "zh") -> Any:
        context = browser.new_context(viewport={"width": 1360, "height": 900})
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(30_000)  # a busy shared machine, not a slow page
        log_in(page, site.base, name, lang)
        return page

    yield open_page
    for context in contexts:
        context.close()
