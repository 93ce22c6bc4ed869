"""The app behind a real HTTP server on loopback, and a client for it shaped like Flask's test
client, so the same tests run through both."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import requests
from flask import Flask
from werkzeug.serving import make_server


@contextmanager
def serving(app: Flask) -> Iterator[str]:
    """Serve `app` on 127.0.0.1 (a free port) in a thread; yields the base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join()
        server.server_close()


class HttpResponse:
    """The parts of Flask's test response the tests read."""

    def __init__(self, response: requests.Response) -> None:
        self.status_code = response.status_code
        self.headers = response.headers
        self.content = response.content
        self.mimetype = response.headers.get("Content-Type", "").split(";")[0]

    @property
    def is_json(self) -> bool:
        return self.mimetype == "application/json"

    def get_json(self) -> Any:
        return json.loads(self.content) if self.is_json else None

    def get_data(self, as_text: bool = False) -> Any:
        return self.content.decode() if as_text else self.content


class HttpClient:
    """A requests session against a live server, with Flask test-client call signatures."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.session = requests.Session()

    def open(self, url: str, method: str = "GET", json: Any = None, data: Any = None,
             headers: dict[str, str] | None = None, query_string: Any = None,
             content_type: str | None = None) -> HttpResponse:
        headers = dict(headers or {})
        if content_type is not None:
            headers["Content-Type"] = content_type
        if isinstance(data, str):
            data = data.encode()
        response = self.session.request(method, self.base_url + url, json=json, data=data,
                                        headers=headers, params=query_string, timeout=120)
        return HttpResponse(response)

    def get(self, url: str, **kwargs: Any) -> HttpResponse:
        return self.open(url, "GET", **kwargs)

    def post(self, url: str, **kwargs: Any) -> HttpResponse:
        return self.open(url, "POST", **kwargs)

    def delete(self, url: str, **kwargs: Any) -> HttpResponse:
        return self.open(url, "DELETE", **kwargs)

    def close(self) -> None:
        self.session.close()
