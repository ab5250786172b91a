"""What the domain refuses, by kind; the API maps each kind to an HTTP status in one place."""

from __future__ import annotations


class DomainError(Exception):
    """A request the domain cannot carry out; `message` is written for the person who asked."""

    def __init__(self, message: str = "") -> None:
        super().__init__(message)
        self.message = message


class NotFound(DomainError):
    """No such object, or one the caller may not see (both look the same from outside)."""


class Conflict(DomainError):
    """The request clashes with what is stored: a taken name, a claim, a decision made first."""


class Stale(Conflict):
    """The caller acted on a version of an object that has changed since."""


class Invalid(DomainError):
    """The request is well-formed but breaks a domain rule (a rejection without a reason)."""
