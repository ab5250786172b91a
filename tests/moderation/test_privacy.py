"""What is kept of a reader's IP address: a truncated network, a keyed per-site hash, or nothing."""

from __future__ import annotations

import pytest

from moderation.privacy import AddressPolicy, AddressStorage


@pytest.mark.parametrize(
    ("address", "kept"),
    [
        ("203.0.113.9", "203.0.113.0/24"),
        ("203.0.113.250", "203.0.113.0/24"),
        ("2001:db8:1234:5678::1", "2001:db8:1234::/48"),
        ("2001:DB8:1234:ffff:1:2:3:4", "2001:db8:1234::/48"),
        ("::ffff:198.51.100.7", "198.51.100.0/24"),  # an IPv4 address written as IPv6
        ("fe80::1%eth0", "fe80::/48"),
    ],
)
def test_truncated_to_the_network(address: str, kept: str) -> None:
    assert AddressPolicy().stored(address, "site_a") == kept


def test_keyed_hash_per_site() -> None:
    policy = AddressPolicy(AddressStorage.HASH, secret="installation secret")
    a = policy.stored("203.0.113.9", "site_a")
    assert a is not None and len(a) == 64 and "203" not in a
    assert policy.stored("203.0.113.9", "site_a") == a  # repeat posters still match
    assert policy.stored("::ffff:203.0.113.9", "site_a") == a  # however the address is written
    assert policy.stored("203.0.113.10", "site_a") != a
    assert policy.stored("203.0.113.9", "site_b") != a  # meaningless on another site
    other_install = AddressPolicy(AddressStorage.HASH, secret="another secret")
    assert other_install.stored("203.0.113.9", "site_a") != a


def test_nothing_kept() -> None:
    assert AddressPolicy(AddressStorage.NONE).stored("203.0.113.9", "site_a") is None
    assert AddressPolicy().stored(None, "site_a") is None
    assert AddressPolicy().stored("not an address", "site_a") is None


def test_an_erasure_keeps_every_field_a_webhook_event_is_made_of() -> None:
    """A field added to events must be added here on purpose (and carry nothing personal)."""
    from datetime import UTC, datetime

    from moderation.comments import Reason, Status
    from moderation.events import EVENT_FIELDS, EventName
    from moderation.policy import Policy
    from moderation.sites import Site
    from moderation.webhooks import event_for

    site = Site(
        "site_a", "a", Policy(), None, "https://example.org/hook", "whsec", 1, datetime.now(UTC)
    )
    event = event_for(
        site,
        EventName.COMMENT_HELD,
        "cmt_1",
        "ext-1",
        Status.HELD,
        [Reason("premoderation")],
        datetime.now(UTC),
    )
    assert event is not None
    assert set(event.payload) == EVENT_FIELDS
