"""What every request carries, checked before any view reads it: hostile input is a 4xx, never a 500.

- A body sent without Content-Length (chunked) counts against MAX_CONTENT_LENGTH
  like any other: 413. (Werkzeug stops reading at the limit and hands the view
  the first MAX_CONTENT_LENGTH bytes, which then fail as "not valid JSON".)
- JSON nested deeper than MAX_JSON_DEPTH: 400, on every endpoint. Python's
  parser recurses once per level and fails with RecursionError near 1,000.
- Strings no database can store: a lone surrogate (no UTF-8 encoding exists,
  so SQLite's and PostgreSQL's drivers both refuse it) or NUL (PostgreSQL's
  text types refuse it): 422 naming the field, in any JSON string or object
  key, form field or query parameter. In the URL path it can name nothing: 404.

The Perspective endpoints answer the same checks in Google's shape (400).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

from flask import Flask, request
from flask_smorest import abort
from werkzeug.exceptions import BadRequest, NotFound, RequestEntityTooLarge

NOT_UNICODE = "Not valid Unicode: contains a lone surrogate."
HAS_NUL = "Contains a NUL character (U+0000), which cannot be stored."

_FORMS = frozenset({"application/x-www-form-urlencoded", "multipart/form-data"})
# A JSON string literal (escapes included), removed before counting brackets.
_JSON_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def nesting_depth_exceeds(raw: bytes, limit: int) -> bool:
    """Whether JSON text nests arrays and objects more than `limit` deep (strings ignored).

    Linear in the body's size, and cheap for ordinary bodies: with no more
    brackets than the limit, nothing can nest deeper.
    """
    if raw.count(b"[") + raw.count(b"{") <= limit:
        return False
    depth = 0
    for bracket in _JSON_STRING.sub(b"", raw).translate(None, _NOT_BRACKETS):
        if bracket in b"[{":
            depth += 1
            if depth > limit:
                return True
        else:
            depth = max(0, depth - 1)
    return False


def unstorable(value: str) -> str | None:
    """Why a string cannot be stored (a lone surrogate, NUL), or None when it can."""
    found = _UNSTORABLE.search(value)
    if found is None:
        return None
    return HAS_NUL if found.group() == "\x00" else NOT_UNICODE


def _shown(key: str) -> str:
    # A key that is itself unstorable is named with the bad character escaped.
    return key.encode("utf-8", "backslashreplace").decode("utf-8").replace("\x00", "\\x00")


def unstorable_strings(data: Any) -> Iterator[tuple[tuple[str | int, ...], str]]:
    """(path, reason) for every string, object key included, that cannot be stored."""
    stack: list[tuple[tuple[str | int, ...], Any]] = [((), data)]
    while stack:
        path, value = stack.pop()
        if isinstance(value, str):
            reason = unstorable(value)
            if reason is not None:
                yield path, reason
        elif isinstance(value, dict):
            for key, item in value.items():
                reason = unstorable(key)
                if reason is not None:
                    yield (*path, _shown(key)), reason
                else:
                    stack.append(((*path, key), item))
        elif isinstance(value, list):
            stack.extend(((*path, i), item) for i, item in enumerate(value))


def nested_messages(found: Iterator[tuple[tuple[str | int, ...], str]]) -> dict[Any, Any]:
    """Marshmallow's shape of field errors: {"author": {"name": ["..."]}}."""
    out: dict[Any, Any] = {}
    for path, reason in found:
        node = out
        for part in path[:-1]:
            node = node.setdefault(part, {})
        node.setdefault(path[-1] if path else "_schema", []).append(reason)
    return out


def _invalid(messages: dict[Any, Any], location: str) -> None:
    abort(
        422,
        message="The request carries text that cannot be stored; see details.",
        messages={location: messages},
    )


def _check_body(max_depth: int) -> None:
    raw = request.get_data(cache=True)
    limit = request.max_content_length
    if (
        request.content_length is None
        and limit is not None
        and len(raw) >= limit
        # Werkzeug read `limit` bytes and stopped; one more byte means the body is longer.
        and request.environ["wsgi.input"].read(1)
    ):
        raise RequestEntityTooLarge()
    if nesting_depth_exceeds(raw, max_depth):
        raise BadRequest(f"The request body nests JSON deeper than {max_depth} levels.")
    try:
        # Parsed as the Perspective endpoints parse (any encoding JSON allows); what
        # does not parse is left for the endpoint to refuse in its own words.
        data = json.loads(raw)
    except (ValueError, RecursionError):
        return
    messages = nested_messages(unstorable_strings(data))
    if messages:
        _invalid(messages, "json")


def _check_request(max_depth: int) -> None:
    if "\x00" in request.path:
        raise NotFound()
    bad_args = {
        _shown(key): [reason]
        for key, value in request.args.items(multi=True)
        if (reason := unstorable(key) or unstorable(value)) is not None
    }
    if bad_args:
        _invalid(bad_args, "query")
    if request.mimetype in _FORMS:
        bad_fields = {
            _shown(key): [reason]
            for key, value in request.form.items(multi=True)
            if (reason := unstorable(key) or unstorable(value)) is not None
        }
        if bad_fields:
            _invalid(bad_fields, "form")
    else:
        _check_body(max_depth)


def init_app(app: Flask) -> None:
    """Check every routed request before its view runs (unrouted ones get their 404 or 405)."""

    @app.before_request
    def _inbound() -> None:
        if request.url_rule is not None:
            _check_request(int(app.config["MAX_JSON_DEPTH"]))
