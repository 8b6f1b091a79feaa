"""``remise db``, ``remise rules`` and ``remise audit``: the rule store from a terminal.

The store is the one the environment names (``REMISE_DATABASE_URL``, else the
embedded SQLite file under ``REMISE_DATA_DIR``); with ``REMISE_REDIS_URL`` a
publish or rollback is announced to every running server at once.
Exit codes: 0 done; 1 the rules do not compile; 2 bad input; 3 the store
refused (stale parent, unknown rule set or version, schema not migrated).
"""

from __future__ import annotations

import json
import sys
import time
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from sqlalchemy.exc import DataError

import dsl
import rules
from rules.store import MAX_AUTHOR

from .cli_common import (
    EXIT_BAD_INPUT,
    EXIT_REFUSED,
    EXIT_RULE_ERRORS,
    announcing,
    cli_actor,
    cli_address,
    fail,
    parse_instant,
    write_utf8,
)
from .schemas import LINE_BREAKS_AND_TABS, control_character

db_app = typer.Typer(help="The rule store's database schema.", no_args_is_help=True)
rules_app = typer.Typer(help="Publish, roll back and read rule set versions.",
                        no_args_is_help=True)
audit_app = typer.Typer(help="The append-only audit log.", no_args_is_help=True)

RuleSetOption = Annotated[str, typer.Option("--ruleset", "-r", help="Rule set name.")]


@contextmanager
def _store() -> Iterator[rules.RuleStore]:
    """The configured store, announcing changes on Redis when there is one."""
    try:
        settings = rules.Settings.from_env()
        store = rules.open_store(settings)
    except rules.StoreError as error:
        fail(str(error), EXIT_REFUSED)
    fanout = announcing(settings, store)
    try:
        yield store
    except rules.SourceRejected as error:
        for diagnostic in error.diagnostics:
            typer.echo(diagnostic.render(), err=True)
        fail(str(error), EXIT_RULE_ERRORS)
    except rules.InvalidRequest as error:
        fail(str(error), EXIT_BAD_INPUT)
    except rules.StoreError as error:
        fail(str(error), EXIT_REFUSED)
    except DataError as error:  # a net under the checks of each option, as the API's
        reason = (str(error.orig).strip().splitlines() or ["a value is out of range"])[0]
        fail(f"the database cannot hold a value given: {reason}", EXIT_BAD_INPUT)
    finally:
        if fanout is not None:
            fanout.close()
        store.db.dispose()


def _stored_names(paths: list[Path]) -> dict[str, Path]:
    """The name each `.rules` file is stored under (relative to the folder given) -> the
    file. Two files under one name are refused: one replaced the other silently, and a
    publish of two folders with a promo.rules each lost the first one's rules."""
    files: dict[str, Path] = {}
    for entry in paths:
        for file in dsl.rule_files([entry]):
            name = file.relative_to(entry).as_posix() if entry.is_dir() else file.name
            known = files.setdefault(name, file)
            if known.resolve() != file.resolve():
                fail(f"{known} and {file} would both be stored as {name}: a rule set's files "
                     "need distinct names (publish the folder that holds both, or rename "
                     "one); nothing published", EXIT_BAD_INPUT)
    return files


def _read_sources(paths: list[Path]) -> dict[str, str]:
    """File name (relative to the folder given) -> text, for every `.rules` file."""
    sources: dict[str, str] = {}
    unreadable: list[dsl.Diagnostic] = []
    for name, file in _stored_names(paths).items():
        text, problem = dsl.read_source(file)  # a byte not UTF-8 at its line and column
        if problem is not None:
            unreadable.append(problem)
        elif text is not None:
            sources[name] = text
    if unreadable:
        for problem in unreadable:
            typer.echo(problem.render(), err=True)
        fail("; ".join(f"cannot read {problem.file}: "
                       f"{problem.message.removeprefix('cannot read this file: ')}"
                       for problem in unreadable) + "; nothing published", EXIT_BAD_INPUT)
    if not sources:
        fail(f"no .rules file in {', '.join(map(str, paths))}", EXIT_BAD_INPUT)
    return sources


def _printable(option: str, text: str | None, keep: str = "") -> None:
    """Refuse a message or author the API would refuse: control characters (a terminal
    runs ESC sequences when `remise rules versions` prints them back)."""
    problem = None if text is None else control_character(text, keep)
    if problem is not None:
        fail(f"{option}: {problem}", EXIT_BAD_INPUT)


# What a terminal acts on rather than prints: controls (an escape sequence moves the
# cursor, erases a line), format characters (U+202E reverses the text after it) and the
# Unicode line and paragraph separators. Spaces are printed: a French title has
# no-break ones before ':' and '%'.
ACTED_ON = frozenset({"Cc", "Cf", "Zl", "Zp"})


def _for_terminal(text: str, keep: str = "") -> str:
    """``text`` with every character a terminal would act on written as its escape
    (``\\x1b``, ``\\u202e``), but those in ``keep``."""
    return "".join(repr(c)[1:-1] if c not in keep and unicodedata.category(c) in ACTED_ON
                   else c for c in text)


def _describe(version: rules.VersionSummary) -> str:
    return (f"{version.ruleset} version {version.number} ({version.rule_count} rules, "
            f"hash {version.content_hash[:12]}), live from {version.live_from.isoformat()}")


# --- remise db -----------------------------------------------------------------------


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Create or migrate the schema to this version of remise."""
    settings = rules.Settings.from_env()
    try:
        # the revision before, as read under the migration's lock: with several servers
        # upgrading at once, all but one find it done
        before, after = rules.db.migrate(rules.create_db_engine(settings.database_url))
    except rules.StoreError as error:
        fail(str(error), EXIT_REFUSED)
    verb = "already at" if before == after else f"upgraded from {before or 'nothing'} to"
    typer.echo(f"database {verb} schema {after}")


@db_app.command("current")
def db_current() -> None:
    """Print the schema revision of the database and the one this remise needs; exit 3
    when a configured database must be migrated first, or a newer remise migrated it."""
    settings = rules.Settings.from_env()
    needed = rules.head_revision()
    sqlite_file = settings.data_dir / "remise.db"
    if settings.embedded and not sqlite_file.exists():  # a look changes nothing
        typer.echo(f"database schema none yet; remise needs {needed} and creates it on "
                   "first use")
        return
    try:
        db = rules.create_db_engine(settings.database_url)
        current = rules.current_revision(db)
        if not settings.embedded or current is not None:
            rules.ensure_schema(db)  # what every other command would refuse
    except rules.StoreError as error:
        fail(str(error), EXIT_REFUSED)
    if current is None:  # the embedded default, which migrates itself on first use
        typer.echo(f"database schema none yet; remise needs {needed} and creates it on "
                   "first use")
    else:
        typer.echo(f"database schema {current}, as this remise needs")


# --- remise rules ----------------------------------------------------------------------


@rules_app.command("publish")
def publish(
    paths: Annotated[list[Path], typer.Argument(help="`.rules` files or folders of them.")],
    message: Annotated[str, typer.Option("--message", "-m", help="Why: goes to the audit log.")],
    ruleset: RuleSetOption = "default",
    parent: Annotated[int | None, typer.Option(
        "--parent", help="The version this change is based on (0: a new rule set); "
        "refused if another version was published since. Default: the latest.")] = None,
    author: Annotated[str | None, typer.Option("--author", help="Default: your login.")] = None,
) -> None:
    """Compile rules and make them the live version of a rule set."""
    _printable("--message", message, LINE_BREAKS_AND_TABS)
    _printable("--author", author)
    sources = _read_sources(paths)
    with _store() as store:
        version = store.publish(ruleset, sources, message=message, author=cli_actor(author),
                                parent=parent, address=cli_address())
        typer.echo(f"published {_describe(version)}")


@rules_app.command("rollback")
def rollback(
    to: Annotated[int, typer.Option("--to", help="The version whose content goes live again.")],
    message: Annotated[str, typer.Option("--message", "-m", help="Why: goes to the audit log.")],
    ruleset: RuleSetOption = "default",
    parent: Annotated[int | None, typer.Option(
        "--parent", help="The version this rollback is based on (the one you saw live); "
        "refused if another version was published since. Default: the latest.")] = None,
    author: Annotated[str | None, typer.Option("--author", help="Default: your login.")] = None,
) -> None:
    """Make an older version's rules live again, as a new version."""
    _printable("--message", message, LINE_BREAKS_AND_TABS)
    _printable("--author", author)
    with _store() as store:
        version = store.rollback(ruleset, to, message=message, author=cli_actor(author),
                                 parent=parent, address=cli_address())
        typer.echo(f"rolled back to version {to}: {_describe(version)}")


@rules_app.command("versions")
def versions(ruleset: RuleSetOption = "default") -> None:
    """List a rule set's versions with when each was live."""
    with _store() as store:
        periods = {p.version: p for p in store.live_periods(ruleset)}
        for version in store.versions(ruleset):
            period = periods[version.number]
            until = period.end.isoformat() if period.end else "now (live)"
            # One line per version: a message's line break would start a line that
            # reads like another version's.
            typer.echo(f"{version.number:>4}  {period.start.isoformat()} -> {until}  "
                       f"{version.rule_count:>5} rules  {version.content_hash[:12]}  "
                       f"{_for_terminal(version.author)}: {_for_terminal(version.message)}")


@rules_app.command("show")
def show(
    number: Annotated[int, typer.Argument(help="Version number.")],
    ruleset: RuleSetOption = "default",
) -> None:
    """Print the source of one version, file by file."""
    with _store() as store:
        version = store.version(ruleset, number)
    # The source is data (`remise rules show 3 > restored.rules`): UTF-8, as files are read
    write_utf8([f"# {_describe(version)}\n# {_for_terminal(version.author)}: "
                f"{_for_terminal(version.message)}\n",
                *(f"\n# --- {name}\n{text}" for name, text in sorted(version.sources.items()))])


@rules_app.command("diff")
def diff(
    from_version: Annotated[int, typer.Argument(help="Older version.")],
    to_version: Annotated[int, typer.Argument(help="Newer version.")],
    ruleset: RuleSetOption = "default",
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """What changed between two versions: the rule set's settings, then rule by rule."""
    with _store() as store:
        changes = rules.diff_versions(store.version(ruleset, from_version),
                                      store.version(ruleset, to_version))
    if as_json:
        write_utf8([json.dumps(changes.as_dict(), indent=2, ensure_ascii=False), "\n"])
        return
    settings = f", {len(changes.settings)} settings changed" if changes.settings else ""
    typer.echo(f"{ruleset}: version {from_version} -> {to_version}: {len(changes.added)} added, "
               f"{len(changes.removed)} removed, {len(changes.changed)} changed, "
               f"{changes.unchanged} unchanged{settings}")
    if changes.settings:
        typer.echo("")
    for setting in changes.settings:  # first: a new currency reprices every rule
        typer.echo(f"setting {setting.setting}: {setting.before or '(none)'} -> "
                   f"{setting.after or '(none)'}")
    for label, items in (("added", changes.added), ("removed", changes.removed),
                         ("changed", changes.changed)):
        for change in items:
            typer.echo(f"\n{label}: {change.rule} \"{_shown(change.title)}\"\n"
                       f"{_shown(change.diff)}", nl=False)


def _shown(text: str) -> str:
    """``text`` for a terminal, its lines and tabs kept (``_for_terminal``): a rule's title
    or comment may hold an escape sequence, and one moving the cursor up and erasing a
    line would hide a change from the diff."""
    return _for_terminal(text, keep="\n\t")


@rules_app.command("live-at")
def live_at(
    at: Annotated[str, typer.Argument(help="An ISO-8601 instant with offset.")],
    ruleset: RuleSetOption = "default",
) -> None:
    """Which version was live at an instant."""
    instant = parse_instant(at)
    with _store() as store:
        version = store.live_at(ruleset, instant)
        if version is None:
            fail(f"no version of {ruleset!r} was live at {instant.isoformat()} (the first "
                  "went live later)", EXIT_REFUSED)
        typer.echo(_describe(version))


@rules_app.command("list")
def list_rulesets() -> None:
    """List rule sets and their live versions."""
    with _store() as store:
        for info in store.rulesets():
            typer.echo(f"{info.name}  version {info.live_version}, live from "
                       f"{info.live_from.isoformat()}")


@rules_app.command("watch")
def watch() -> None:
    """Follow live versions as a server does and print one line each time one goes live:
    `<instant> live <ruleset> <version> <hash> <rules>`. Stop with Ctrl-C."""
    settings = rules.Settings.from_env()
    with _store() as store:
        cache = rules.follow_live(settings, store)

        def report(entry: rules.LiveRuleSet) -> None:
            stamp = datetime.now(UTC).isoformat()
            typer.echo(f"{stamp} live {entry.name} {entry.version} {entry.content_hash[:12]} "
                       f"{len(entry.ruleset.rules)}")
            sys.stdout.flush()

        cache.on_reload.append(report)
        cache.start()
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass
        finally:
            cache.stop()


# --- remise audit ----------------------------------------------------------------------


def _bound(text: str | None, option: str) -> datetime | None:
    """A ``--since`` or ``--until`` as the log compares it (``rules.audit.bound_instant``)."""
    return None if text is None else rules.audit.bound_instant(text, parse_instant(text, option))


@audit_app.command("export")
def audit_export(
    output: Annotated[Path | None, typer.Option("--output", "-o",
                                                help="CSV file (default: stdout).")] = None,
    ruleset: Annotated[str | None, typer.Option("--ruleset", "-r")] = None,
    since: Annotated[str | None, typer.Option(help="From this instant (inclusive).")] = None,
    until: Annotated[str | None, typer.Option(help="Up to this instant (exclusive).")] = None,
    action: Annotated[str | None, typer.Option(
        help=f"Only this action: {', '.join(rules.audit.ACTIONS)}.")] = None,
    actor: Annotated[str | None, typer.Option(help="Only what this author did.")] = None,
) -> None:
    """Export the audit log as CSV, filtered as GET /v1/audit is."""
    for option, value in (("--ruleset", ruleset), ("--action", action), ("--actor", actor)):
        if value == "":  # an unset variable in a script: an export of nothing, exit 0
            fail(f"{option}: an empty filter matches no entry: leave it out to export every "
                 "entry")
    # Refused as GET /v1/audit refuses them: no author holds them, so the export was an
    # empty CSV, exit 0, that looked like the truth.
    _printable("--actor", actor)
    if actor is not None and len(actor) > MAX_AUTHOR:
        fail(f"--actor: longer than any author ({MAX_AUTHOR} characters): no entry can match")
    if action is not None and action not in rules.audit.ACTIONS:  # would export nothing
        fail(f"--action: {action!r} is not an action of the audit log: "
             f"{', '.join(rules.audit.ACTIONS)}")
    query = rules.AuditQuery(
        ruleset=ruleset, action=action, actor=actor,
        since=_bound(since, "--since"), until=_bound(until, "--until"))
    if query.since is not None and query.until is not None and query.until <= query.since:
        # Swapped bounds exported a CSV with no entry, exit 0.
        fail(f"--until: {until!r} is not after --since {since!r}: no entry can match")
    with _store() as store:
        unknown = None if ruleset is None else rules.audit.unknown_ruleset(store.db, ruleset)
        if unknown is not None:
            fail(unknown, EXIT_REFUSED)
        chunks = rules.audit_csv(rules.all_audit_entries(store.db, query))
        if output is None:
            write_utf8(chunks)  # UTF-8 as the API's and the -o file's, whatever the locale
            return
        try:
            with output.open("w", encoding="utf-8", newline="") as handle:
                handle.writelines(chunks)
        except OSError as error:
            fail(f"cannot write {output}: {error.strerror}", EXIT_BAD_INPUT)
        typer.echo(f"wrote {output}", err=True)


__all__ = ["audit_app", "db_app", "rules_app"]
