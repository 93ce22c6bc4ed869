"""Integrity: the digest to publish, a verify button with its result, and how to check the
database independently (docs/integrity.md and docs/check_ledger.py, served as they are)."""

from __future__ import annotations

from pathlib import Path

from flask import Response, abort, current_app, render_template, request
from flask.typing import ResponseReturnValue

from ledger.integrity import verify
from web.views.common import blueprint, ledger, page

bp = blueprint("ui_integrity")
DOCS = Path(__file__).resolve().parents[2] / "docs"
SERVED = {"integrity.md": "text/markdown", "check_ledger.py": "text/x-python"}


# Recomputing reads every event: done on request (the button), and on opening the page only
# while the log is small; the last result is kept with the log position it covers.
COMPUTE_ON_OPEN = 20_000


@bp.route("/integrity", methods=["GET", "POST"])
@page()
def integrity() -> ResponseReturnValue:
    app = ledger()
    head = app.recorder.max_notification_id() or 0
    cached = current_app.extensions.get("ui_verification")
    fresh = cached is not None and cached["head"] == head
    if request.method == "POST" or (not fresh and head <= COMPUTE_ON_OPEN):
        cached = {**verify(app.database, app.engine).as_dict(), "head": head}
        current_app.extensions["ui_verification"] = cached
        fresh = True
    digest = cached["digest"] if fresh and cached is not None else None
    return render_template("integrity.html", digest=digest,
                           verification=cached if request.method == "POST" else None,
                           spec=(DOCS / "integrity.md").read_text(encoding="utf-8"))


@bp.get("/integrity/docs/<name>")
@page()
def document(name: str) -> ResponseReturnValue:
    if name not in SERVED:
        abort(404)
    body = (DOCS / name).read_text(encoding="utf-8")
    return Response(body, mimetype=f"{SERVED[name]}; charset=utf-8")
