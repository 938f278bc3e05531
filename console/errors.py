"""One error shape for every API answer, and friendly pages for people."""
from __future__ import annotations

import contextlib

from flask import Flask, jsonify, render_template, request
from sqlalchemy.exc import InterfaceError, OperationalError
from werkzeug.exceptions import HTTPException

from adapters.base import (
    Conflict,
    InvalidOrder,
    NotAllowed,
    OrderNotFound,
    OutOfStock,
    StoreError,
    StoreUnavailable,
)

STORE_ERROR_STATUS: dict[type[StoreError], int] = {
    OrderNotFound: 404, NotAllowed: 409, OutOfStock: 409, Conflict: 409,
    InvalidOrder: 400, StoreUnavailable: 503,
}


class ApiError(Exception):
    """An error the console means to show, with a stable snake_case code."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def wants_json() -> bool:
    if request.path.startswith("/api/") or request.path == "/healthz":
        return True
    best = request.accept_mimetypes.best_match(["application/json", "text/html"])
    return best == "application/json" and request.accept_mimetypes[best] > \
        request.accept_mimetypes["text/html"]


def error_response(status: int, code: str, message: str):
    if wants_json():
        return jsonify(error={"code": code, "message": message}), status
    return render_template("error.html", status=status, code=code, message=message), status


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(ApiError)
    def api_error(exc: ApiError):
        return error_response(exc.status, exc.code, exc.message)

    @app.errorhandler(StoreError)
    def store_error(exc: StoreError):
        status = next((s for cls, s in STORE_ERROR_STATUS.items() if isinstance(exc, cls)), 500)
        return error_response(status, exc.code, exc.message)

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        code = (exc.name or "error").lower().replace(" ", "_").replace("'", "")
        return error_response(exc.code or 500, code, exc.description or exc.name)

    @app.errorhandler(OperationalError)
    @app.errorhandler(InterfaceError)
    def console_db_unavailable(exc: Exception):
        """The console DB is locked past its wait, or down: nothing of this request was
        committed (its transaction is rolled back here), and the client is told to retry."""
        from console.extensions import db
        with contextlib.suppress(Exception):  # the connection may be gone: nothing to undo
            db.session.rollback()
        app.logger.warning("console database unavailable: %s", str(exc).splitlines()[0][:200])
        message = ("The console database is busy or unreachable, so nothing of this was "
                   "recorded. Send the same request again in a moment (an action with the "
                   "same Idempotency-Key is finished, never done twice).")
        try:
            return error_response(503, "console_db_unavailable", message)
        except Exception:  # noqa: BLE001 - the page itself needs the DB (who is signed in)
            if wants_json():
                return jsonify(error={"code": "console_db_unavailable", "message": message}), 503
            page = f"<!doctype html><title>503</title><h1>503</h1><p>{message}</p>"
            return page, 503, {"Content-Type": "text/html; charset=utf-8"}

    @app.errorhandler(Exception)
    def unexpected(exc: Exception):
        app.logger.exception("unhandled error")
        return error_response(500, "internal_error", "Something went wrong; it has been logged.")
