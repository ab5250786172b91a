"""Bearer authentication: site API keys for machines, user tokens (or a session) for people."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar, cast

from flask import current_app, g, request
from flask_smorest import abort

from moderation.security import SITE_KEY_PREFIX, USER_TOKEN_PREFIX
from moderation.sites import Role, Site, User
from moderation.store import SqlStore

F = TypeVar("F", bound=Callable[..., Any])

_CHALLENGE = {"WWW-Authenticate": 'Bearer realm="moderation"'}


def _store() -> SqlStore:
    return cast(SqlStore, current_app.extensions["moderation.store"])


def bearer_token() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


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
        site = _store().site_for_key(token)
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
            if token is None:
                _unauthenticated("Send your API token as 'Authorization: Bearer TOKEN'.")
            assert token is not None
            if token.startswith(SITE_KEY_PREFIX):
                abort(403, message="This endpoint takes a user token, not a site API key.")
            user = _store().user_for_token(token)
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
    site = _store().get_site(site_ref)
    if site is None or not user.can_access(site.id):
        abort(404, message="No such site.")
    assert site is not None
    return site
