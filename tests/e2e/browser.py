"""Debian's chromium driven by Playwright, and the real web server on a loopback port.

Shared by the end-to-end tests and `scripts/screenshots`. Playwright's own browser download is
never used: the machine's /usr/bin/chromium is launched with the flags a container needs.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from flask import Flask
from waitress import wasyncore
from waitress.server import create_server

from ledger.accounts import DEMO_ACCOUNTS, Accounts

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run",
                 "--disable-dev-shm-usage"]
PASSWORDS = {name: password for name, _, password in DEMO_ACCOUNTS}


def demo_accounts(accounts: Accounts) -> None:
    """One account per role (the demo's names and passwords), if not there yet."""
    known = {a.name for a in accounts.all()}
    for name, role, password in DEMO_ACCOUNTS:
        if name not in known:
            accounts.add(name, role, password)


@contextmanager
def serving(app: Flask) -> Iterator[str]:
    """The app served by waitress on a free loopback port, in a thread; yields its base URL.

    The loop thread owns the server's sockets and is the only one to close them, after the
    worker threads have ended: closing them from the test's thread while the loop sits in
    select() is a race (EBADF in the loop thread, seen once in CI as an error at a test's
    teardown), and so is closing them under a worker that still pulls the trigger. The test's
    thread wakes the loop by pulling the trigger only while the loop has not yet begun to
    close it (`lock`): the loop may wake on its own, see the stop and close everything between
    the stop being asked for and the pull (the pull is then EBADF in the test's thread; the
    race was found by reading this helper after one failure under load whose output was lost).
    """
    server = create_server(app, host="127.0.0.1", port=0, threads=4)
    lock = threading.Lock()
    stopping = False

    def run() -> None:
        while True:
            with lock:
                if stopping:
                    break
            server.asyncore.loop(timeout=0.5, map=server._map, count=1)
        server.task_dispatcher.shutdown()  # its threads end by pulling the loop's trigger
        wasyncore.close_all(server._map)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.effective_port}"
    finally:
        with lock:
            stopping = True
            server.pull_trigger()  # wakes the loop out of select(); it closes nothing before
        thread.join(timeout=10)
        assert not thread.is_alive(), "the test server's loop did not stop"


@contextmanager
def chromium(locale: str | None = None) -> Iterator[Any]:
    """A headless Debian chromium under Playwright (in `locale`, e.g. zh-CN: date inputs)."""
    from playwright.sync_api import sync_playwright

    args, env = list(CHROMIUM_ARGS), dict(os.environ)
    if locale:  # the widgets' own words come from Debian's chromium-l10n, chosen by LANGUAGE
        args.append(f"--lang={locale}")
        env["LANGUAGE"] = locale.replace("-", "_")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=args, env=env,
                                             headless=True)
        try:
            yield browser
        finally:
            browser.close()


def log_in(page: Any, base: str, name: str, lang: str = "zh") -> None:
    """Log in through the login page, in the given language."""
    page.goto(f"{base}/lang/{lang}?next=/login")
    page.fill("input[name=name]", name)
    page.fill("input[name=password]", PASSWORDS[name])
    page.click("button[type=submit]")
    page.wait_for_url(lambda url: "/login" not in url)
