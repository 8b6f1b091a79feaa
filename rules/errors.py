"""What the rule store refuses, and why, in words a marketer or operator can act on."""

from __future__ import annotations

from dsl import Diagnostic
from engine import RemiseError


class StoreError(RemiseError):
    """The rule store refused an operation; nothing was written."""


class NotFound(StoreError):
    """No such rule set or version."""


class Conflict(StoreError):
    """The publish was based on a version that is no longer the latest."""

    def __init__(self, ruleset: str, parent: int | None, head: int) -> None:
        self.ruleset = ruleset
        self.parent = parent
        self.head = head
        based = f"version {parent}" if parent else "an empty rule set"
        super().__init__(
            f"rule set {ruleset!r} is at version {head}, but this change was based on {based}: "
            f"review version {head} and publish again on top of it")


class SourceRejected(StoreError):
    """The source does not compile; ``diagnostics`` says where and why."""

    def __init__(self, diagnostics: list[Diagnostic]) -> None:
        self.diagnostics = diagnostics
        noun = "error" if len(diagnostics) == 1 else "errors"
        super().__init__(f"the rules do not compile ({len(diagnostics)} {noun}); nothing published")


class InvalidRequest(StoreError):
    """A name, message or instant that cannot be used; ``argument`` names the store
    operation's argument at fault (``ruleset``, ``to``...), so that an interface can
    name its own field for it."""

    def __init__(self, message: str, argument: str | None = None) -> None:
        super().__init__(message)
        self.argument = argument


class SchemaNotReady(StoreError):
    """The database schema is missing or older than this code."""


__all__ = [
    "Conflict",
    "InvalidRequest",
    "NotFound",
    "SchemaNotReady",
    "SourceRejected",
    "StoreError",
]
