"""Integrity: the published digest of the whole log, and a full verification."""

from __future__ import annotations

from typing import Any

from ledger.integrity import verify
from web.api.common import Blueprint, ledger
from web.api.schemas import DigestSchema, VerificationSchema
from web.auth import authenticate, current_account

blp = Blueprint("integrity", __name__, url_prefix="/api/v1/integrity",
                description="Hash chain and rolling digest, recomputed from the stored rows.")
blp.before_request(authenticate)


@blp.route("/digest", methods=["GET"])
@blp.response(200, DigestSchema)
@blp.alt_response(401, response="UNAUTHORIZED")
def digest() -> Any:
    """The rolling digest of the whole log (head hash and count), to publish"""
    current_account()
    return _verify().digest()


@blp.route("/verify", methods=["GET"])
@blp.response(200, VerificationSchema)
@blp.alt_response(401, response="UNAUTHORIZED")
def verification() -> Any:
    """Recompute every hash and chain link; name the first event that does not match"""
    current_account()
    return _verify().as_dict()


def _verify() -> Any:
    app = ledger()
    return verify(app.database, app.engine)
