"""Perspective API's AnalyzeComment and SuggestCommentScore, so its clients need only a new URL.

Google's protocol, not ours: the key comes as `?key=` (or `X-Goog-Api-Key`),
fields in lowerCamelCase or their proto snake_case names, unknown fields
rejected as Google does, and every error in Google's shape
`{"error": {"code", "message", "status", "details"}}`. Google's standard
query parameters (`alt`, `prettyPrint`, `fields`, `quotaUser`, ...) are
accepted and ignored. A discovery document at `/$discovery/rest` lets
google-api-python-client build a client against this host.

- errors.py: Google's error shape and the blueprint's error handlers
- schemas.py: the proto3 JSON messages, and the requests they load
- discovery.py: the discovery document, generated from those messages
- views.py: the endpoints
"""

from __future__ import annotations

from api.perspective.discovery import discovery_document
from api.perspective.errors import PerspectiveError, google_error
from api.perspective.views import blp

__all__ = ["PerspectiveError", "blp", "discovery_document", "google_error"]
