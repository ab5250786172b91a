"""Google's error shape for the Perspective endpoints, and the handlers that answer in it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from flask import Blueprint, Response, current_app, jsonify
from flask.typing import ResponseReturnValue
from sqlalchemy import exc as sa_exc
from werkzeug.exceptions import HTTPException

from api.limits import retry_after

ERROR_TYPE = "type.googleapis.com/google.commentanalyzer.v1alpha1.Error"
BAD_REQUEST_TYPE = "type.googleapis.com/google.rpc.BadRequest"
ERROR_INFO_TYPE = "type.googleapis.com/google.rpc.ErrorInfo"
SERVICE = "commentanalyzer.googleapis.com"

# Canonical gRPC status names, as Google's JSON errors spell them.
STATUS = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    405: "UNIMPLEMENTED",
    409: "ABORTED",
    413: "INVALID_ARGUMENT",
    415: "INVALID_ARGUMENT",
    422: "INVALID_ARGUMENT",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    501: "UNIMPLEMENTED",
    503: "UNAVAILABLE",
}


class PerspectiveError(Exception):
    """An error to answer in Google's shape, with Perspective's `errorType` where it has one."""

    def __init__(
        self,
        code: int,
        message: str,
        error_type: str | None = None,
        *,
        extra: Mapping[str, Any] | None = None,
        details: Sequence[Mapping[str, Any]] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.details = list(details or [])
        if error_type is not None:
            self.details.append({"@type": ERROR_TYPE, "errorType": error_type, **(extra or {})})
        self.headers = dict(headers or {})


def google_error(
    code: int,
    message: str,
    details: Sequence[Mapping[str, Any]] = (),
    headers: Mapping[str, str] | None = None,
) -> Response:
    """Google's error body: code, message, status, and details when there are any."""
    error: dict[str, Any] = {
        "code": code,
        "message": message,
        "status": STATUS.get(code, "UNKNOWN"),
    }
    if details:
        error["details"] = list(details)
    response = jsonify({"error": error})
    response.status_code = code
    response.headers.update(headers or {})
    return response


def _violations(messages: Any, path: str = "") -> list[tuple[str, str]]:
    """Flatten marshmallow's nested messages into (field path, message) pairs."""
    if isinstance(messages, list):
        return [(path, str(m)) for m in messages if not isinstance(m, dict | list)] + [
            v for m in messages if isinstance(m, dict | list) for v in _violations(m, path)
        ]
    out: list[tuple[str, str]] = []
    for key, sub in messages.items():
        if key == "_schema":
            out += _violations(sub, path)
        elif key == "value" and isinstance(sub, dict):
            out += _violations(sub, path)  # a map entry's value: its fields sit under the key
        else:
            out += _violations(sub, f"{path}.{key}" if path else str(key))
    return out


def invalid_payload(messages: Any) -> PerspectiveError:
    """Google's 400 for a body that does not fit the schema, naming each field (marshmallow's messages)."""
    violations = _violations(messages)
    lines = []
    for field, message in violations:
        parent, _, name = field.rpartition(".")
        if message == "Unknown field.":
            where = f" at '{parent}'" if parent else ""
            lines.append(
                f'Invalid JSON payload received. Unknown name "{name}"{where}: Cannot find field.'
            )
        elif field:
            lines.append(f"Invalid value at '{field}': {message}")
        else:
            lines.append(message)
    return PerspectiveError(
        400,
        "\n".join(lines) or "Invalid JSON payload received.",
        details=[
            {
                "@type": BAD_REQUEST_TYPE,
                "fieldViolations": [{"field": f, "description": m} for f, m in violations],
            }
        ],
    )


def _perspective_error(exc: PerspectiveError) -> ResponseReturnValue:
    return google_error(exc.code, exc.message, exc.details, exc.headers)


def _http_error(exc: HTTPException) -> ResponseReturnValue:
    code = exc.code or 500
    if code == 429:
        seconds = retry_after()
        return google_error(
            429,
            f"Quota exceeded for this API key: {exc.description}. Retry in {seconds} s.",
            headers={"Retry-After": str(seconds)},
        )
    if code == 413:
        limit = current_app.config["MAX_CONTENT_LENGTH"]
        return google_error(413, f"Request payload size exceeds the limit: {limit} bytes.")
    if code == 422:
        # What api.inbound refuses before the view runs (text no database can store),
        # in Google's words: a 400 naming each field.
        data = getattr(exc, "data", None) or {}
        located = data.get("messages") or {}
        return _perspective_error(
            invalid_payload({k: v for where in located.values() for k, v in where.items()})
        )
    if code == 503:
        unavailable = "The service is currently unavailable."
        return google_error(503, unavailable, headers={"Retry-After": "5"})
    if code >= 500:
        return google_error(500, "Internal error encountered.")
    return google_error(code, exc.description or exc.name)


def _database_unavailable(exc: Exception) -> ResponseReturnValue:
    # As for /v1: nothing was committed, so the client may retry.
    current_app.logger.warning("database unavailable: %s", type(exc).__name__)
    return google_error(503, "The service is currently unavailable.", headers={"Retry-After": "5"})


def _unexpected(exc: Exception) -> ResponseReturnValue:
    current_app.logger.exception("unhandled error in the Perspective endpoints")
    return google_error(500, "Internal error encountered.")


def register(blp: Blueprint) -> None:
    """Answer every error under `blp` in Google's shape."""
    blp.register_error_handler(PerspectiveError, _perspective_error)
    # Registered per code as well as per class: an app-wide handler for one code
    # would otherwise win over a blueprint's class handler (Flask looks codes up first).
    for code in (400, 404, 405, 413, 415, 422, 429, 500, 503):
        blp.register_error_handler(code, _http_error)
    blp.register_error_handler(HTTPException, _http_error)
    for database_error in (sa_exc.OperationalError, sa_exc.InterfaceError, sa_exc.TimeoutError):
        blp.register_error_handler(database_error, _database_unavailable)
    blp.register_error_handler(Exception, _unexpected)
