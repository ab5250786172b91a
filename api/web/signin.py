"""Sign in and out of the web pages (a session cookie; passwords set with the CLI)."""

from __future__ import annotations

import math

from flask import redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from api.auth import session_user, sign_in, sign_out
from api.services import services
from api.web.common import blueprint, is_operator, local_path

bp = blueprint("web_signin")


def _duration(seconds: int) -> str:
    if seconds < 90:
        return f"{seconds} second{'s' if seconds != 1 else ''}"
    return f"{math.ceil(seconds / 60)} minutes"


def _home() -> str:
    return url_for("web_queue.queue")


@bp.get("/")
def home() -> ResponseReturnValue:
    """Send people to their queue, or to sign in."""
    return redirect(_home() if session_user() else url_for("web_signin.signin"))


@bp.get("/signin")
def signin() -> ResponseReturnValue:
    """The sign-in form."""
    if session_user() is not None:
        return redirect(local_path(request.args.get("next"), _home()))
    return render_template("web/signin.html", next=request.args.get("next", ""), error=None)


@bp.post("/signin")
def signin_post() -> ResponseReturnValue:
    """Check the name and password, unless too many tries failed lately; start a session."""
    name = request.form.get("name", "").strip()
    address = request.remote_addr or "unknown"
    wait = math.ceil(services().signin_throttle.retry_after(name, address))
    if wait > 0:
        # Not checked and not counted: a guess made now tells nothing and costs nothing.
        return (
            render_template(
                "web/signin.html",
                next=request.form.get("next", ""),
                name=name,
                error=f"Too many failed sign-ins. Try again in {_duration(wait)}.",
            ),
            429,
            {"Retry-After": str(wait)},
        )
    found = (
        services().store.users.check_password(name, request.form.get("password", ""))
        if name
        else None
    )
    if found is None:
        services().signin_throttle.failed(name, address)
        return render_template(
            "web/signin.html",
            next=request.form.get("next", ""),
            name=name,
            error="That name and password do not match. Check both and try again.",
        ), 401
    services().signin_throttle.succeeded(name)
    person, stamp = found
    sign_in(person, stamp)
    default = url_for("web_sites.index") if is_operator(person) else _home()
    return redirect(local_path(request.form.get("next"), default))


@bp.post("/signout")
def signout() -> ResponseReturnValue:
    """End the session."""
    sign_out()
    return redirect(url_for("web_signin.signin", out=1))
