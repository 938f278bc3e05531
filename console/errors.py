"""One error shape for every API answer, and friendly pages for people."""
from __future__ import annotations

from flask import Flask, jsonify, render_template, request
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

    @app.errorhandler(Exception)
    def unexpected(exc: Exception):
        app.logger.exception("unhandled error")
        return error_response(500, "internal_error", "Something went wrong; it has been logged.")
