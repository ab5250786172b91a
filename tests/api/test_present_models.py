"""The settings history in words for a site's model: which version each entry is about."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from api.web.present import audit_line
from moderation.audit import AuditAction, AuditEntry

AT = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("action", "before", "after", "what", "details"),
    [
        (AuditAction.MODEL_TRAIN, None, {"version": 2}, "Model training requested", ["v2"]),
        (
            AuditAction.MODEL_PROMOTE,
            {"version": None},
            {"version": 1},
            "Model version promoted",
            ["the base model → v1"],
        ),
        (
            AuditAction.MODEL_ROLLBACK,
            {"version": 2},
            {"version": 1},
            "Model rolled back",
            ["v2 → v1"],
        ),
        (
            AuditAction.MODEL_SHADOW_START,
            {"shadow_version": None},
            {"shadow_version": 3},
            "Model version put in shadow",
            ["v3"],
        ),
        (
            AuditAction.MODEL_SHADOW_STOP,
            {"shadow_version": 3},
            {"shadow_version": None, "why": "promoted"},
            "Model version out of shadow",
            ["v3", "promoted"],
        ),
        (
            AuditAction.MODEL_SETTINGS,
            {"auto_promote": False, "retrain_after_labels": None},
            {"auto_promote": True, "retrain_after_labels": 500},
            "Model settings changed",
            ["auto-promote on", "retrain after 500 new labels"],
        ),
        (
            AuditAction.MODEL_SETTINGS,
            {"auto_promote": True, "retrain_after_labels": 500},
            {"auto_promote": False, "retrain_after_labels": None},
            "Model settings changed",
            ["auto-promote off", "retrain only when asked"],
        ),
    ],
)
def test_model_entries_name_their_version(
    action: AuditAction, before: object, after: object, what: str, details: list[str]
) -> None:
    line = audit_line(
        AuditEntry(action, "usr_1", before=before, after=after, created_at=AT), {"usr_1": "olga"}
    )
    assert (line.who, line.what, line.details) == ("olga", what, details)
