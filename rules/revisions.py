"""Each rule's ``revision``: the number of the version in which it last changed.

Price rules of equal priority are decided by it (the most recently changed
wins, docs/semantics.md §2), so the store fills it in when it publishes: a
rule whose content is the same as the same id's rule in the version it goes
on top of keeps that rule's revision; a new or changed rule gets the new
version's number. A rollback copies the old IR as it is, revisions included.

A rule's *content* is everything in its compiled form but its revision and
its source position: moving a rule in its file (a rule inserted above it)
does not change what it does, and must not make it outrank the rule just
added. ``diff`` uses the same notion, so between a version and its parent
(a publish, not a rollback) the rules it calls changed are exactly those
whose revision moved on.
"""

from __future__ import annotations

import json
from typing import Any

from engine import RuleSet
from engine.ir import Rule

NOT_CONTENT = frozenset({"revision", "source"})


def rule_content(rule: dict[str, Any]) -> dict[str, Any]:
    """What a rule does, from its IR JSON: everything but revision and source position."""
    return {key: value for key, value in rule.items() if key not in NOT_CONTENT}


# Each rule's content and revision in the version a new one goes on top of, by id.
Previous = dict[str, tuple[dict[str, Any], int]]


def previous_rules(ir_json: str | None) -> Previous:
    """Each rule's content and revision in a stored IR, by id; none when there is no IR
    or it cannot be read.

    An unreadable previous version must not block the publish that replaces it,
    so it counts as having no rules: every rule then takes the new number.
    """
    if ir_json is None:
        return {}
    try:
        return {rule["id"]: _content_and_revision(rule) for rule in json.loads(ir_json)["rules"]}
    except (ValueError, KeyError, TypeError, AttributeError):
        return {}


def stamp_revisions(compiled: RuleSet, before: Previous, number: int) -> RuleSet:
    """``compiled`` (about to become version ``number``) with every rule's revision.

    ``before`` holds the rules of the version it goes on top of (``previous_rules``
    of its IR; empty for the first version, so every rule gets revision 1).
    """
    # Compared as the JSON the store keeps, as the diff compares them.
    after = json.loads(compiled.to_json())["rules"]
    rules = tuple(
        rule.model_copy(update={"revision": _revision(fresh, before.get(rule.id), number)})
        for rule, fresh in zip(compiled.rules, after, strict=True))
    return compiled.model_copy(update={"rules": rules})


def stamp_rule(rule: Rule, before: Previous, number: int) -> Rule:
    """One rule stamped again against ``before`` (after a change to it, e.g. its `from
    publish` windows moved to the instant its version went live)."""
    # The rule's part of RuleSet.to_json(): the JSON the store keeps.
    fresh = json.loads(rule.model_dump_json(by_alias=True, exclude_none=True))
    return rule.model_copy(update={"revision": _revision(fresh, before.get(rule.id), number)})


def _content_and_revision(rule: dict[str, Any]) -> tuple[dict[str, Any], int]:
    """A freshly parsed rule, ours to change, as its content and its revision (popping
    is cheaper than copying 10,000 rules)."""
    revision = rule.get("revision", 0)
    for key in NOT_CONTENT:
        rule.pop(key, None)
    # Versions stored before revisions were filled in carry 0: still older than
    # any rule changed since, which is all the ranking needs.
    return rule, int(revision)


def _revision(fresh: dict[str, Any], previous: tuple[dict[str, Any], int] | None,
              number: int) -> int:
    content, _ = _content_and_revision(fresh)
    if previous is not None and previous[0] == content:
        return previous[1]
    return number


__all__ = ["NOT_CONTENT", "Previous", "previous_rules", "rule_content", "stamp_revisions",
           "stamp_rule"]
