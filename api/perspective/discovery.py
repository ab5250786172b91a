"""The commentanalyzer v1alpha1 discovery document, generated from the message schemas.

google-api-python-client (and Google's other generated clients) build their
client from this document, so it names every message, field and method the
endpoints accept.
"""

from __future__ import annotations

import inspect
from typing import Any

import marshmallow as ma

from api.perspective.schemas import MESSAGES, ProtoSchema

API_VERSION = "v1alpha1"
REVISION = "20261203"

# (method, description, request message, response message)
METHODS = (
    (
        "analyze",
        "Analyzes the provided text and returns scores for requested attributes.",
        "AnalyzeCommentRequest",
        "AnalyzeCommentResponse",
    ),
    (
        "suggestscore",
        "Suggest comment scores as training data.",
        "SuggestCommentScoreRequest",
        "SuggestCommentScoreResponse",
    ),
)


def message_name(schema: type[ma.Schema] | ma.Schema) -> str:
    """A schema's message name: its class name without "Schema"."""
    cls = schema if isinstance(schema, type) else type(schema)
    return cls.__name__.removesuffix("Schema")


def _description(schema: type[ProtoSchema]) -> str:
    """The first paragraph of the schema's docstring, on one line."""
    doc = inspect.getdoc(schema) or ""
    return " ".join(doc.split("\n\n", 1)[0].split())


def _ref(nested: ma.fields.Nested) -> dict[str, Any]:
    target = nested.nested
    if not isinstance(target, type | ma.Schema):
        raise TypeError(f"cannot name the message of {nested!r}")
    return {"$ref": message_name(target)}


def _field(field: ma.fields.Field) -> dict[str, Any]:
    """A field's discovery schema: its type, then its description, then its values."""
    description = field.metadata.get("description")
    about = {"description": description} if description else {}
    if isinstance(field, ma.fields.Nested):
        return {**_ref(field), **about}
    if isinstance(field, ma.fields.List):
        return {"type": "array", **about, "items": _field(field.inner)}
    if isinstance(field, ma.fields.Dict):
        if field.value_field is None:
            raise TypeError("a map needs a value field")
        return {"type": "object", **about, "additionalProperties": _field(field.value_field)}
    if isinstance(field, ma.fields.Boolean):
        return {"type": "boolean", **about}
    if isinstance(field, ma.fields.Integer):
        return {"type": "integer", "format": "int32", **about}
    if isinstance(field, ma.fields.Float):
        return {"type": "number", "format": "float", **about}
    if isinstance(field, ma.fields.String):
        out: dict[str, Any] = {"type": "string", **about}
        choices = next(
            (list(v.choices) for v in field.validators if isinstance(v, ma.validate.OneOf)), None
        ) or field.metadata.get("enum")
        if choices:
            out["enum"] = list(choices)
        return out
    raise TypeError(f"no discovery type for {type(field).__name__}")


def message_schema(schema: type[ProtoSchema]) -> dict[str, Any]:
    """One message of the document: each field under its JSON (lowerCamelCase) name."""
    fields = schema().fields
    return {
        "id": message_name(schema),
        "type": "object",
        "description": _description(schema),
        "properties": {f.data_key or name: _field(f) for name, f in fields.items()},
    }


def _method(name: str, description: str, request_message: str, response: str) -> dict[str, Any]:
    path = f"{API_VERSION}/comments:{name}"
    return {
        "id": f"commentanalyzer.comments.{name}",
        "path": path,
        "flatPath": path,
        "httpMethod": "POST",
        "description": description,
        "parameters": {},
        "parameterOrder": [],
        "request": {"$ref": request_message},
        "response": {"$ref": response},
    }


def _query(description: str, kind: str = "string", **extra: Any) -> dict[str, Any]:
    return {"type": kind, "description": description, "location": "query", **extra}


def discovery_document(root_url: str) -> dict[str, Any]:
    """The commentanalyzer v1alpha1 discovery document, pointing clients at `root_url`."""
    return {
        "kind": "discovery#restDescription",
        "discoveryVersion": "v1",
        "id": f"commentanalyzer:{API_VERSION}",
        "name": "commentanalyzer",
        "canonicalName": "Comment Analyzer",
        "version": API_VERSION,
        "revision": REVISION,
        "title": "Perspective Comment Analyzer API (self-hosted comment moderation)",
        "description": "Perspective's AnalyzeComment and SuggestCommentScore, "
        "answered by this service's own model.",
        "protocol": "rest",
        "rootUrl": root_url,
        "mtlsRootUrl": root_url,
        "servicePath": "",
        "baseUrl": root_url,
        "basePath": "/",
        "batchPath": "batch",
        "version_module": True,
        "fullyEncodeReservedExpansion": True,
        "parameters": {
            "key": _query("The site's API key."),
            "access_token": _query("Not used."),
            "alt": _query(
                "Data format for response.",
                enum=["json"],
                enumDescriptions=["JSON"],
                default="json",
            ),
            "callback": _query("Not used."),
            "fields": _query("Not used: responses are always whole."),
            "oauth_token": _query("Not used."),
            "prettyPrint": _query("Not used.", "boolean", default="true"),
            "quotaUser": _query("Not used."),
            "upload_protocol": _query("Not used."),
            "uploadType": _query("Not used."),
            "$.xgafv": _query("Error format.", enum=["1", "2"], enumDescriptions=["v1", "v2"]),
        },
        "resources": {
            "comments": {"methods": {m[0]: _method(*m) for m in METHODS}},
        },
        "schemas": {message_name(s): message_schema(s) for s in MESSAGES},
    }
