"""Liveness and readiness for load balancers and orchestrators."""

from __future__ import annotations

from typing import Any

from flask import Blueprint

from api.errors import error_response
from api.services import services

blp = Blueprint("health", __name__)


@blp.get("/healthz")
def healthz() -> Any:
    """The process is up."""
    return {"status": "ok"}


@blp.get("/readyz")
def readyz() -> Any:
    """The models are loaded and the database answers; otherwise 503."""
    checks: dict[str, str] = {}
    scorer = services().scorer
    scorers = services().service.scorers
    checks["model"] = "ok" if scorer.loaded else "not loaded"
    if scorers.routed:
        every = all(s.loaded for s in scorers.distinct())
        checks["multilingual_model"] = "ok" if every else "not loaded"
    try:
        services().store.ping()
        checks["database"] = "ok"
    except Exception as exc:
        checks["database"] = f"unreachable: {type(exc).__name__}"
    if all(v == "ok" for v in checks.values()):
        model = scorer.model
        loaded = scorer.load()
        return {
            "status": "ready",
            "checks": checks,
            "model": {
                "name": model.name if model else None,
                "version": model.version if model else None,
                # int8 only when it passed its parity check against fp32 at load
                "engine": getattr(loaded, "engine", None),
                "precision": getattr(loaded, "precision", None),
                "parity_mae": getattr(loaded, "parity_mae", None),
            },
            # The model that scores each language (every other language: English's).
            "languages": {
                code: s.model.name if s.model else None
                for code, s in [("en", scorer), *sorted(scorers.routed.items())]
            },
        }
    return error_response(503, "Not ready.", details=checks, headers={"Retry-After": "5"})
