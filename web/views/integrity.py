"""Integrity: the digest to publish, a verify button with its result, and how to check the
database independently (docs/integrity.md and docs/check_ledger.py, served as they are)."""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, Response, abort, render_template, request
from flask.typing import ResponseReturnValue

from ledger.integrity import verify
from web.views.common import ledger, page

bp = Blueprint("ui_integrity", __name__)
DOCS = Path(__file__).resolve().parents[2] / "docs"
SERVED = {"integrity.md": "text/markdown", "check_ledger.py": "text/x-python"}


@bp.route("/integrity", methods=["GET", "POST"])
@page()
def integrity() -> ResponseReturnValue:
    app = ledger()
    result = verify(app.database, app.engine)
    return render_template("integrity.html", digest=result.digest(),
                           verification=result.as_dict() if request.method == "POST" else None,
                           spec=(DOCS / "integrity.md").read_text(encoding="utf-8"))


@bp.get("/integrity/docs/<name>")
@page()
def document(name: str) -> ResponseReturnValue:
    if name not in SERVED:
        abort(404)
    body = (DOCS / name).read_text(encoding="utf-8")
    return Response(body, mimetype=f"{SERVED[name]}; charset=utf-8")
