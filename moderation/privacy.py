"""Readers' personal data: how little of it is kept.

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
