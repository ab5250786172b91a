"""What every web page shares: sign-in checks, CSRF on forms, HTML errors, safe redirects."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar, cast
from urllib.parse import urlsplit

from flask import Blueprint, g, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from werkzeug.exceptions import BadRequest, Forbidden, HTTPException

from api.auth import csrf_ok, csrf_token, session_user
from api.web import present
from moderation.sites import Role, User

F = TypeVar("F", bound=Callable[..., Any])

MODERATORS = (Role.MODERATOR, Role.OPERATOR)
OPERATORS = (Role.OPERATOR,)


def user() -> User:
    """The signed-in person of this page request (set by `signed_in`)."""
    return cast(User, g.user)


def is_operator(person: User | None) -> bool:
    return person is not None and person.role in (Role.OPERATOR, Role.ADMIN)


def local_path(target: str | None, default: str) -> str:
    """`target` if it is a path on this site, else `default` (no open redirects)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return default
    return target


def signed_in(*roles: Role) -> Callable[[F], F]:
    """Require a signed-in person with one of `roles` (admins always pass); else sign in."""

    def decorate(view: F) -> F:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            person = session_user()
            if person is None:
                return redirect(url_for("web_signin.signin", next=request.full_path.rstrip("?")))
            if roles and person.role not in roles and person.role is not Role.ADMIN:
                raise Forbidden(
                    "This page is for " + " or ".join(r.value + "s" for r in roles) + "."
                )
            g.user = person
            return view(*args, **kwargs)

        return cast(F, wrapper)

    return decorate


def _check_csrf() -> None:
    if request.method == "POST" and not csrf_ok(request.form.get("csrf_token")):
        raise BadRequest(
            "The form expired or came from another site. Go back, reload the page and try again."
        )


def _error_page(exc: HTTPException) -> ResponseReturnValue:
    status = exc.code or 500
    return (
        render_template("web/error.html", status=status, title=exc.name, message=exc.description),
        status,
    )


def _template_globals() -> dict[str, Any]:
    person = session_user()
    return {
        "csrf_token": csrf_token,
        "me": person,
        "is_operator": is_operator(person),
        "ago": present.ago,
        "label": present.label,
        "percent": present.percent,
    }


def blueprint(name: str) -> Blueprint:
    """A web-page blueprint: forms need the CSRF token, errors are HTML pages."""
    bp = Blueprint(name, __name__)
    bp.before_request(_check_csrf)
    bp.register_error_handler(HTTPException, _error_page)
    bp.context_processor(_template_globals)
    return bp
