"""The moderator and operator web pages, and the /demo article (server-rendered, small scripts)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from flask import Flask, Response, request

from api.services import services
from api.web import demo, queue, signin, site_models, sites

BLUEPRINTS = (signin.bp, queue.bp, sites.bp, site_models.bp, demo.bp)

# Scripts and styles come only from /static: no inline script, no inline style, no framing.
CSP = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
        "object-src 'none'",
    ]
)
HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
}


def register(app: Flask) -> None:
    """Register the page blueprints, the session settings and the pages' security headers."""
    app.config["SESSION_COOKIE_SAMESITE"] = app.config.get("SESSION_COOKIE_SAMESITE") or "Lax"
    app.config["SESSION_COOKIE_HTTPONLY"] = True
    app.config["PERMANENT_SESSION_LIFETIME"] = timedelta(hours=app.config["SESSION_HOURS"])
    names = {bp.name for bp in BLUEPRINTS}
    for bp in BLUEPRINTS:
        if bp is demo.bp and not app.config["DEMO"]:
            continue
        app.register_blueprint(bp)
    # Earlier versions kept the demo site's key here, in plain text: revoked and gone.
    demo.retire_plain_key(services(app).store, Path(app.instance_path) / "demo_site_key")

    @app.after_request
    def _page_headers(response: Response) -> Response:
        if request.blueprint in names or request.endpoint == "static":
            for name, value in HEADERS.items():
                response.headers.setdefault(name, value)
            if request.endpoint != "static":
                # Pages show moderation data: never keep them in a shared or back-button cache.
                response.headers.setdefault("Cache-Control", "no-store")
        return response
