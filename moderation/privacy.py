"""Readers' personal data: how little of it is kept, and a reader's rights to see and erase it.

A reader's IP address is never stored as sent. By default it is truncated to its
network (IPv4 to /24, IPv6 to /48: enough to see that comments came from one
neighbourhood or provider, not from one household); or it is replaced by a keyed
hash, per site (the same address on one site always gives the same value, so
repeat posters can be matched, but the value means nothing on another site and
cannot be turned back into the address without the installation's secret); or it
is not kept at all.
"""

from __future__ import annotations

import enum
import hashlib
import hmac
import ipaddress
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from moderation.audit import AuditAction, AuditEntry
from moderation.comments import Revision, StoredComment
from moderation.events import WebhookEvent
from moderation.reports import Report
from moderation.standing import AuthorActionEntry

if TYPE_CHECKING:
    from moderation.repositories import Repositories

IPV4_PREFIX = 24
IPV6_PREFIX = 48


class AddressStorage(enum.StrEnum):
    """What is kept of a reader's IP address."""

    TRUNCATE = "truncate"
    HASH = "hash"
    NONE = "none"


@dataclass(frozen=True)
class AddressPolicy:
    """Turns the address a site reports into what the store keeps."""

    storage: AddressStorage = AddressStorage.TRUNCATE
    secret: str = ""  # the installation's secret: keys the per-site hashes

    def stored(self, address: str | None, site_id: str) -> str | None:
        """The form of `address` to store for `site_id` (None: nothing to store)."""
        if not address or self.storage is AddressStorage.NONE:
            return None
        try:
            parsed = ipaddress.ip_address(address)
        except ValueError:  # the API refuses these; anything else that slips by is dropped
            return None
        if isinstance(parsed, ipaddress.IPv6Address) and parsed.ipv4_mapped is not None:
            parsed = parsed.ipv4_mapped
        if self.storage is AddressStorage.HASH:
            return hmac.new(
                self._site_key(site_id), str(parsed).encode(), hashlib.sha256
            ).hexdigest()
        prefix = IPV4_PREFIX if parsed.version == 4 else IPV6_PREFIX
        return str(ipaddress.ip_network(f"{parsed}/{prefix}", strict=False))

    def _site_key(self, site_id: str) -> bytes:
        return hmac.new(
            self.secret.encode(), f"author-ip:{site_id}".encode(), hashlib.sha256
        ).digest()


@dataclass(frozen=True)
class Label:
    """A score a site suggested for a comment's text (Perspective's SuggestCommentScore)."""

    comment_id: str | None
    text: str
    attribute: str
    score: float
    source: str
    created_at: datetime


@dataclass(frozen=True)
class AuthorRecord:
    """Everything a site's store holds about one author (a reader's right of access)."""

    site_id: str
    author_id: str
    exported_at: datetime
    comments: tuple[StoredComment, ...]
    audit: tuple[AuditEntry, ...]
    webhook_events: tuple[WebhookEvent, ...]
    feedback: tuple[Label, ...]
    revisions: tuple[Revision, ...] = ()  # earlier texts of their comments
    reports: tuple[Report, ...] = ()  # reports they made as a reader
    author_actions: tuple[AuthorActionEntry, ...] = ()  # moderators' actions on them


@dataclass(frozen=True)
class Erasure:
    """What erasing an author removed (a reader's right to erasure)."""

    author_id: str
    comments: int
    labels: int
    audit_entries_scrubbed: int
    webhook_events_scrubbed: int
    revisions: int = 0
    reports: int = 0  # made by them, and made by others on their comments
    author_actions: int = 0

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def without_notes(snapshot: Any) -> Any:
    """An audit before/after without the moderator's notes, which may quote the comment."""
    if not isinstance(snapshot, dict):
        return snapshot
    notes = {k: None for k in ("decision_note", "note") if snapshot.get(k) is not None}
    return {**snapshot, **notes} if notes else snapshot


class ReadersRights:
    """A reader's rights over what a site holds about them: to see it all, to have it erased."""

    def __init__(self, repos: Repositories) -> None:
        self.repos = repos

    def export(self, site_id: str, author_id: str, actor: str) -> AuthorRecord:
        """Everything stored about the author on the site; the access itself is audited."""
        record = self.repos.authors.record(site_id, author_id)
        self.repos.audit.record(
            AuditEntry(
                AuditAction.AUTHOR_EXPORT,
                actor,
                site_id=site_id,
                after={"author_id": author_id, "comments": len(record.comments)},
            )
        )
        return record

    def erase(self, site_id: str, author_id: str, actor: str) -> Erasure:
        """Erase the author's comments and every copy of their data (idempotent, audited)."""
        return self.repos.authors.erase(site_id, author_id, actor)
