"""Bearer authentication: site API keys for machines, user tokens (or a session) for people."""

from __future__ import annotations

import functools
import hmac
import secrets
from collections.abc import Callable
from typing import Any, TypeVar, cast

from flask import g, request, session
from flask_smorest import abort

from api.services import services
from moderation.security import SITE_KEY_PREFIX, USER_TOKEN_PREFIX
from moderation.sites import Role, Site, User

F = TypeVar("F", bound=Callable[..., Any])

_CHALLENGE = {"WWW-Authenticate": 'Bearer realm="moderation"'}


def bearer_token() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def request_key() -> str | None:
    """The API key a request carries: a bearer token, Google's `?key=` or `X-Goog-Api-Key`."""
    return (
        bearer_token() or request.args.get("key") or request.headers.get("X-Goog-Api-Key") or None
    )


def _unauthenticated(message: str) -> None:
    abort(401, message=message, headers=_CHALLENGE)


def site_required(view: F) -> F:
    """Require a valid, unrevoked site API key; the site is in `g.site`."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        token = bearer_token()
        if token is None:
            _unauthenticated("Send the site's API key as 'Authorization: Bearer KEY'.")
        assert token is not None
        if token.startswith(USER_TOKEN_PREFIX):
            abort(403, message="This endpoint takes a site API key, not a user token.")
        site = services().store.sites.for_key(token)
        if site is None:
            _unauthenticated("The API key is not valid or has been revoked.")
        g.site = site
        return view(*args, **kwargs)

    return cast(F, wrapper)


def user_required(*roles: Role) -> Callable[[F], F]:
    """Require a person's token with one of `roles` (admins always pass); the user is in `g.user`."""

    def decorate(view: F) -> F:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            token = bearer_token()
            # A signed-in browser may call the API too; unsafe methods need the page's CSRF token.
            user = session_user() if token is None else None
            if user is not None and request.method not in SAFE_METHODS and not csrf_ok():
                abort(403, message="Send the page's CSRF token as 'X-CSRF-Token'.")
            if token is None and user is None:
                _unauthenticated("Send your API token as 'Authorization: Bearer TOKEN'.")
            if token is not None and token.startswith(SITE_KEY_PREFIX):
                abort(403, message="This endpoint takes a user token, not a site API key.")
            if token is not None:
                user = services().store.users.for_token(token)
            if user is None:
                _unauthenticated("The token is not valid.")
            assert user is not None
            if roles and user.role not in roles and user.role is not Role.ADMIN:
                abort(403, message=f"This needs the role {' or '.join(r.value for r in roles)}.")
            g.user = user
            return view(*args, **kwargs)

        return cast(F, wrapper)

    return decorate


def site_for_user(user: User, site_ref: str) -> Site:
    """A site the user may act on; any other (or unknown) site is a 404."""
    site = services().store.sites.get(site_ref)
    if site is None or not user.can_access(site.id):
        abort(404, message="No such site.")
    assert site is not None
    return site


# -- browser sessions (the web pages; the API accepts them too) ----------------

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
CSRF_HEADER = "X-CSRF-Token"


def session_user() -> User | None:
    """The person signed in with this browser session, if any (checked once per request)."""
    if "session_user" not in g:
        user_id, stamp = session.get("user_id"), session.get("stamp")
        found = None
        if isinstance(user_id, str) and isinstance(stamp, str):
            found = services().store.users.for_session(user_id, stamp)
        g.session_user = found
    return cast(User | None, g.session_user)


def csrf_token() -> str:
    """This session's CSRF token, made on first use; forms and page scripts send it back."""
    token = session.get("csrf")
    if not isinstance(token, str):
        token = secrets.token_urlsafe(32)
        session["csrf"] = token
    return token


def csrf_ok(sent: str | None = None) -> bool:
    """Whether the request carries this session's CSRF token (a form field or the header)."""
    expected = session.get("csrf")
    sent = sent if sent is not None else request.headers.get(CSRF_HEADER)
    if not isinstance(expected, str) or not sent:
        return False
    return hmac.compare_digest(expected.encode(), sent.encode())


def sign_in(user: User, stamp: str) -> None:
    """Start a fresh session for the person: nothing of the one before is kept.

    A new session id and a new CSRF token, so a session someone planted or read
    before the sign-in (session fixation) is worth nothing after it.
    """
    session.clear()
    session.permanent = True
    session["sid"] = secrets.token_urlsafe(16)
    session["user_id"] = user.id
    session["stamp"] = stamp
    session["csrf"] = secrets.token_urlsafe(32)
    g.session_user = user


def sign_out() -> None:
    """End the session."""
    session.clear()
    g.session_user = None
