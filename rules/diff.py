"""Rule-by-rule differences between two versions of a rule set.

Rules are matched by id. A rule is *changed* when its compiled form differs
(its source position aside), so moving a rule, reformatting it or editing a
comment is not a change; the text diff shown for a changed rule is of its
source block as the marketer wrote it.

The compiled form includes the rule's revision (the version in which it last
changed, which decides ties between price rules): it moves with every change
of content, so it is listed as a changed part only when nothing else differs,
as for a rule edited and then edited back, compared across both edits.

The rule set's own settings (its currency, its default time zone: every
top-level field of the IR but the rules) are compared too: a currency that
changes reprices every rule (5.00 EUR off becomes 5.00 USD off) and refuses
every basket in the old one, though no rule changed.
"""

from __future__ import annotations

import difflib
import json
from dataclasses import dataclass, field
from typing import Any

import dsl

from .errors import UnreadableVersion
from .revisions import rule_content
from .store import Version


@dataclass(frozen=True)
class RuleChange:
    rule: str
    title: str
    diff: str  # unified diff of the rule's source; the whole block for added/removed
    fields: tuple[str, ...] = ()  # for a changed rule: which parts of its compiled form


@dataclass(frozen=True)
class SettingChange:
    setting: str  # a top-level field of the IR: "currency", "timezone"
    before: str | None  # None: the version does not have it
    after: str | None


@dataclass(frozen=True)
class RuleSetDiff:
    ruleset: str
    from_version: int
    to_version: int
    added: list[RuleChange]
    removed: list[RuleChange]
    changed: list[RuleChange]
    unchanged: int
    settings: list[SettingChange] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        def changes(items: list[RuleChange]) -> list[dict[str, str]]:
            return [{"rule": c.rule, "title": c.title, "diff": c.diff, "fields": list(c.fields)}
                    for c in items]

        return {"ruleset": self.ruleset, "from": self.from_version, "to": self.to_version,
                "settings": [{"setting": c.setting, "from": c.before, "to": c.after}
                             for c in self.settings],
                "added": changes(self.added), "removed": changes(self.removed),
                "changed": changes(self.changed), "unchanged": self.unchanged}


# Top-level IR fields that are not settings: the rules, compared one by one, and the
# version's own stamps (number, hash), which differ between any two versions.
NOT_SETTINGS = frozenset({"rules", "version", "content_hash"})


def _rules(ir: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Each rule's compiled form without its source position, by id."""
    return {rule["id"]: {k: v for k, v in rule.items() if k != "source"}
            for rule in ir["rules"]}


def _settings(old: dict[str, Any], new: dict[str, Any]) -> list[SettingChange]:
    """The rule set's settings that differ, by name."""
    def text(value: Any) -> str | None:
        return value if value is None or isinstance(value, str) else json.dumps(value)

    names = sorted((old.keys() | new.keys()) - NOT_SETTINGS)
    return [SettingChange(name, text(old.get(name)), text(new.get(name)))
            for name in names if old.get(name) != new.get(name)]


def _differing(before: dict[str, Any], after: dict[str, Any]) -> tuple[str, ...]:
    """Which parts of a changed rule's compiled form differ."""
    old, new = rule_content(before), rule_content(after)
    fields = tuple(sorted(k for k in old.keys() | new.keys() if old.get(k) != new.get(k)))
    return fields or ("revision",)


def _unchanged_source(before: dict[str, Any], after: dict[str, Any],
                      fields: tuple[str, ...]) -> str:
    """What a changed rule's diff says when its source block reads the same."""
    if fields == ("revision",):
        return (f"(same rule, last changed in version {before.get('revision', 0)} before "
                f"and {after.get('revision', 0)} after: this decides ties between price "
                "rules of equal priority)\n")
    # Same words, different instants: a `from publish` window starts when its
    # version was published.
    return f"(source unchanged; compiled {', '.join(fields)} differ)\n"


# difflib's time grows with the product of the two texts' lines where they change: a rule
# listing 20,000 SKUs, every other one renamed, took 22 s of a server's CPU to diff. Past
# this many pairs of changed lines, the changed middle is shown removed, then added.
MAX_LINE_PAIRS = 4_000_000
CONTEXT = 3  # lines of context around a change, as difflib writes them


def _text_diff(old: str, new: str, rule: str, a: int, b: int) -> str:
    before, after = old.splitlines(keepends=True), new.splitlines(keepends=True)
    first = _common_start(before, after)
    last = _common_start(before[first:][::-1], after[first:][::-1])
    changed_before, changed_after = len(before) - first - last, len(after) - first - last
    if changed_before * changed_after <= MAX_LINE_PAIRS:
        return "".join(difflib.unified_diff(before, after, fromfile=f"version {a}: {rule}",
                                            tofile=f"version {b}: {rule}"))
    start = max(0, first - CONTEXT)
    end_before, end_after = len(before) - last, len(after) - last
    stop_before = min(len(before), end_before + CONTEXT)
    stop_after = min(len(after), end_after + CONTEXT)
    return "".join([
        f"--- version {a}: {rule}\n", f"+++ version {b}: {rule}\n",
        f"@@ -{_span(start, stop_before)} +{_span(start, stop_after)} @@\n",
        *(" " + line for line in before[start:first]),
        *("-" + line for line in before[first:end_before]),
        *("+" + line for line in after[first:end_after]),
        *(" " + line for line in before[end_before:stop_before])])


def _common_start(one: list[str], other: list[str]) -> int:
    """How many lines the two lists start with in common."""
    count = 0
    for mine, theirs in zip(one, other, strict=False):  # the shorter one ends it
        if mine != theirs:
            break
        count += 1
    return count


def _span(start: int, stop: int) -> str:
    """Lines ``start`` to ``stop`` (excluded) as a unified diff's hunk header writes them."""
    length = stop - start
    if length == 1:
        return f"{start + 1}"
    return f"{start + 1 if length else start},{length}"


def _compiled(version: Version) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    """A version's IR and its rules by id; ``UnreadableVersion`` when this remise cannot
    read them (an older release stored such a version)."""
    try:
        ir = json.loads(version.ir_json)
        return ir, _rules(ir)
    except (ValueError, KeyError, TypeError):
        version.ruleset_ir()  # the engine's reason, in an UnreadableVersion
        raise UnreadableVersion(version.ruleset, version.number, "no rules in it") from None


def diff_versions(old: Version, new: Version) -> RuleSetDiff:
    """What changed from ``old`` to ``new``: the settings, then rule by rule, sorted by
    rule id."""
    (old_ir, old_rules), (new_ir, new_rules) = _compiled(old), _compiled(new)
    old_text, new_text = dsl.rule_sources(old.sources), dsl.rule_sources(new.sources)
    a, b = old.number, new.number

    def change(rule: str, before: str, after: str, title: str) -> RuleChange:
        return RuleChange(rule, title, _text_diff(before, after, rule, a, b))

    def changed_rule(rule: str) -> RuleChange:
        before, after = old_rules[rule], new_rules[rule]
        fields = _differing(before, after)
        # A stored source this remise's language no longer parses has no block: a text
        # diff would show the rule deleted, or its source "unchanged".
        unread = [str(n) for n, texts in ((a, old_text), (b, new_text)) if rule not in texts]
        if unread:
            return RuleChange(rule, after["title"], (
                f"(the source of this rule in version {' and '.join(unread)} cannot be read "
                f"by this remise; compiled {', '.join(fields)} differ)\n"), fields)
        text = _text_diff(old_text[rule], new_text[rule], rule, a, b)
        return RuleChange(rule, after["title"], text or _unchanged_source(before, after, fields),
                          fields)

    added = [change(r, "", new_text.get(r, ""), new_rules[r]["title"])
             for r in sorted(new_rules.keys() - old_rules.keys())]
    removed = [change(r, old_text.get(r, ""), "", old_rules[r]["title"])
               for r in sorted(old_rules.keys() - new_rules.keys())]
    common = sorted(old_rules.keys() & new_rules.keys())
    changed = [changed_rule(r) for r in common if old_rules[r] != new_rules[r]]
    return RuleSetDiff(new.ruleset, a, b, added, removed, changed,
                       unchanged=len(common) - len(changed),
                       settings=_settings(old_ir, new_ir))


__all__ = ["RuleChange", "RuleSetDiff", "SettingChange", "diff_versions"]
