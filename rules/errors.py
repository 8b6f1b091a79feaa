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
        super().__init__(_conflict_reason(ruleset, parent, head))


def _conflict_reason(ruleset: str, parent: int | None, head: int) -> str:
    """What to do about it. A parent beyond the latest version is not stale but unknown:
    usually a mistyped rule set name, which "publish again on top of version 0" would
    have created."""
    if parent is not None and parent > head:
        if head == 0:
            return (f"rule set {ruleset!r} has no version yet, but this change was based on "
                    f"version {parent}: check the rule set's name (parent 0 creates a new "
                    "rule set)")
        return (f"rule set {ruleset!r} has no version {parent}, but this change was based on "
                f"it: the latest is version {head}; review it and publish again on top of it")
    based = f"version {parent}" if parent else "an empty rule set"
    return (f"rule set {ruleset!r} is at version {head}, but this change was based on {based}: "
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


class UnreadableVersion(StoreError):
    """A stored version whose compiled rules this remise cannot read (an older release
    stored one: a window dated 9999 compiled, then failed to load): it cannot be
    diffed or replayed, and saying which one beats a traceback."""

    def __init__(self, ruleset: str, number: int, reason: str) -> None:
        super().__init__(f"version {number} of {ruleset!r} cannot be read by this remise: "
                         f"{reason}")


class SchemaNotReady(StoreError):
    """The database schema is missing or older than this code."""


__all__ = [
    "Conflict",
    "InvalidRequest",
    "NotFound",
    "SchemaNotReady",
    "SourceRejected",
    "StoreError",
    "UnreadableVersion",
]
