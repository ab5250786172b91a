"""Readable API docs at /docs, rendered on the server from /openapi.json (no CDN assets)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, render_template

blp = Blueprint("docs", __name__)


def _resolve(spec: dict[str, Any], node: Any) -> Any:
    if isinstance(node, dict) and "$ref" in node:
        name = node["$ref"].rsplit("/", 1)[-1]
        kind = node["$ref"].split("/")[2]
        return spec["components"][kind][name]
    return node


@blp.get("/docs")
def docs() -> str:
    """List every operation with its parameters, request body fields and responses."""
    api = current_app.extensions["moderation.api"]
    spec = api.spec.to_dict()
    operations = []
    for path, methods in spec.get("paths", {}).items():
        for method, op in methods.items():
            if method == "parameters":
                continue
            body = None
            content = op.get("requestBody", {}).get("content", {}).get("application/json")
            if content:
                body = _resolve(spec, content["schema"])
            responses = {
                code: _resolve(spec, r).get("description", "")
                for code, r in op.get("responses", {}).items()
            }
            operations.append(
                {
                    "path": path,
                    "method": method.upper(),
                    "summary": op.get("summary", ""),
                    "description": op.get("description", ""),
                    "body": body,
                    "responses": responses,
                }
            )
    schemas = spec.get("components", {}).get("schemas", {})
    return render_template("docs.html", spec=spec, operations=operations, schemas=schemas)
