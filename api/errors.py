"""One error shape for every error: {"error": {"code", "status", "message", "details"}}."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask import Flask, jsonify
from flask.typing import ResponseReturnValue
from flask_smorest import Api
from sqlalchemy import exc as sa_exc
from werkzeug.exceptions import HTTPException, InternalServerError, default_exceptions

from moderation.errors import Conflict, DomainError, Invalid, NotFound

CODES = {
    400: "bad_request",
    401: "unauthenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_error",
    429: "rate_limited",
    503: "unavailable",
}


# The one place domain errors become HTTP statuses (Stale is a Conflict: 409).
DOMAIN_STATUS: tuple[tuple[type[DomainError], int], ...] = (
    (NotFound, 404),
    (Conflict, 409),
    (Invalid, 422),
)


def status_for(exc: DomainError) -> int:
    """The HTTP status a domain error answers with."""
    for kind, status in DOMAIN_STATUS:
        if isinstance(exc, kind):
            return status
    return 422


def as_http(exc: DomainError) -> HTTPException:
    """The domain error as the HTTP error it answers with (its message for the person who asked)."""
    error = default_exceptions[status_for(exc)](description=exc.message)
    error.data = {"message": exc.message}  # type: ignore[attr-defined]  # as flask-smorest's abort
    return error


class ErrorBodySchema(ma.Schema):
    code = ma.fields.String(required=True, metadata={"description": "machine-readable error code"})
    status = ma.fields.Integer(required=True, metadata={"description": "the HTTP status"})
    message = ma.fields.String(required=True)
    details = ma.fields.Raw(metadata={"description": "field errors or other specifics"})


class ErrorSchema(ma.Schema):
    error = ma.fields.Nested(ErrorBodySchema, required=True)


def error_response(
    status: int,
    message: str,
    details: Any = None,
    code: str | None = None,
    headers: dict[str, str] | None = None,
) -> ResponseReturnValue:
    """Build the one error body."""
    body = {
        "error": {
            "code": code or CODES.get(status, "error"),
            "status": status,
            "message": message,
            "details": details if details is not None else {},
        }
    }
    return jsonify(body), status, headers or {}


_LOCATIONS = frozenset({"json", "query", "form", "headers"})


def _messages(data: Any) -> Any:
    return data.get("messages") or data.get("errors") if isinstance(data, dict) else None


def _details(data: Any) -> Any:
    messages = _messages(data)
    if isinstance(messages, dict) and set(messages) <= _LOCATIONS:
        # webargs nests field errors under their location; one location is the norm.
        merged: dict[str, Any] = {}
        for location_errors in messages.values():
            merged.update(
                location_errors
                if isinstance(location_errors, dict)
                else {"_schema": location_errors}
            )
        return merged
    return messages


def _invalid_message(data: Any) -> str:
    """What a 422 says: which query parameters are wrong, or that the body is."""
    messages = _messages(data)
    query = messages.get("query") if isinstance(messages, dict) else None
    if not isinstance(query, dict) or not query or set(messages) != {"query"}:
        return "The request body is not valid; see details for each field."
    names = sorted(query)
    if len(names) > 1:
        listed = ", ".join(f"'{n}'" for n in names)
        return f"The query parameters {listed} are not valid; see details for each."
    problem = query[names[0]]
    first = problem[0] if isinstance(problem, list) and problem else None
    said = f": {first}" if isinstance(first, str) else "; see details."
    return f"The query parameter '{names[0]}' is not valid{said}"


class ApiWithErrors(Api):
    """flask-smorest's Api, answering every HTTP error in our shape."""

    ERROR_SCHEMA = ErrorSchema

    def handle_http_exception(self, error: HTTPException) -> ResponseReturnValue:
        status = error.code or 500
        data = getattr(error, "data", None) or {}
        details = _details(data)
        message = data.get("message") if isinstance(data, dict) else None
        if status == 422:
            message = message or _invalid_message(data)
        elif status == 400 and details and "_schema" in (details or {}):
            message = "The request body is not valid JSON."
            details = {}
        if isinstance(error, InternalServerError):
            message = "Internal error: the request was not processed."
        headers = dict(data.get("headers") or {}) if isinstance(data, dict) else {}
        valid_methods = getattr(error, "valid_methods", None)
        if status == 405 and valid_methods:
            headers["Allow"] = ", ".join(valid_methods)
        return error_response(
            status, message or error.description or error.name, details, headers=headers
        )


def register(app: Flask) -> None:
    """Errors raised outside flask-smorest's reach (before routing, in hooks) get the shape too."""

    @app.errorhandler(sa_exc.OperationalError)
    @app.errorhandler(sa_exc.InterfaceError)
    @app.errorhandler(sa_exc.TimeoutError)
    def _database_unavailable(exc: Exception) -> ResponseReturnValue:
        # The database is down, locked past its timeout, or out of connections: nothing
        # was committed (every write is one transaction), so the client may retry.
        app.logger.warning("database unavailable: %s", type(exc).__name__)
        return error_response(
            503, "The database is unavailable; retry shortly.", headers={"Retry-After": "5"}
        )

    @app.errorhandler(DomainError)
    def _domain_error(exc: DomainError) -> ResponseReturnValue:
        # Answered as the HTTP error it maps to, by that error's handler: the API's
        # JSON shape, or the pages' own error page.
        return app.handle_http_exception(as_http(exc))

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception) -> ResponseReturnValue:
        if isinstance(exc, HTTPException):
            api: ApiWithErrors = app.extensions["moderation.api"]
            return api.handle_http_exception(exc)
        app.logger.exception("unhandled error")
        return error_response(
            500, "Internal error: the request was not processed.", code="internal"
        )
