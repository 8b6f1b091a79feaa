"""The ``remise`` command line.

Exit codes: 0 success; 1 the rules have located errors (``check``, ``fmt``,
``rules publish``); 2 the input could not be used (bad basket, bad rules
given to ``evaluate``, unreadable file); 3 the rule store refused (stale
parent, unknown rule set or version, database not migrated). Errors go to
stderr as plain sentences, never a traceback.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer

import dsl
import engine

from .cli_bundle_keys import bundle_keys_app
from .cli_common import (
    EXIT_BAD_INPUT,
    EXIT_REFUSED,
    EXIT_RULE_ERRORS,
    fail,
    parse_instant,
    print_whatever_the_locale,
    read_basket,
    write_utf8,
)
from .cli_device import device_app
from .cli_serve import keys_app, serve
from .cli_store import audit_app, db_app, rules_app

app = typer.Typer(
    name="remise",
    help="remise: promotion and pricing rules, exact to the cent, on every channel.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode="markdown",
)

def _print_version(asked: bool) -> None:
    """What an operator compares with a database's schema (`remise db current`) and a
    server's /healthz: this remise's release, the schema it needs, its engine's build."""
    if not asked:
        return
    from importlib.metadata import PackageNotFoundError, version

    from rules.db import head_revision  # Alembic, only when asked

    try:
        release = version("remise")
    except PackageNotFoundError:  # run from a source tree that was never installed
        release = "(not installed)"
    typer.echo(f"remise {release} (database schema {head_revision()}, engine build "
               f"{engine.BUILD})")
    raise typer.Exit()


@app.callback()
def _common_options(
    version: Annotated[bool, typer.Option(
        "--version", help="Print the release, the database schema it needs and the engine's "
        "build, and exit.", is_eager=True, callback=_print_version)] = False,
) -> None:
    print_whatever_the_locale()


app.add_typer(db_app, name="db")
app.add_typer(rules_app, name="rules")
app.add_typer(audit_app, name="audit")
app.add_typer(keys_app, name="keys")
app.add_typer(device_app, name="device")
app.add_typer(bundle_keys_app, name="bundle-keys")
app.command()(serve)

def _print_diagnostics(diagnostics: list[dsl.Diagnostic]) -> None:
    for diagnostic in diagnostics:
        typer.echo(diagnostic.render(), err=True)
    noun = "error" if len(diagnostics) == 1 else "errors"
    typer.echo(f"{len(diagnostics)} {noun}", err=True)


@app.command()
def check(
    paths: Annotated[list[Path], typer.Argument(help="`.rules` files or folders of them.")],
) -> None:
    """Check rule sources; print every located error. Exit 0 when clean, 1 otherwise."""
    diagnostics = dsl.check_paths(paths)
    if diagnostics:
        _print_diagnostics(diagnostics)
        raise typer.Exit(EXIT_RULE_ERRORS)
    ruleset = dsl.compile_paths(paths, publish_at=datetime.now(UTC))
    typer.echo(f"ok: {len(ruleset.rules)} rules, currency {ruleset.currency}")


@app.command()
def fmt(
    paths: Annotated[list[Path], typer.Argument(help="`.rules` files or folders of them.")],
    check_only: Annotated[
        bool, typer.Option("--check", help="Change nothing; exit 1 if a file is not formatted.")
    ] = False,
) -> None:
    """Rewrite rule files in the canonical form."""
    unformatted: list[Path] = []
    diagnostics: list[dsl.Diagnostic] = []
    for file in dsl.rule_files(paths):
        source, problem = dsl.read_source(file)
        if source is None:  # unreadable, or not UTF-8: located like any other error
            assert problem is not None
            diagnostics.append(problem)
            continue
        try:
            formatted = dsl.format_source(source, str(file))
        except dsl.DslError as error:
            diagnostics.extend(error.diagnostics)
            continue
        if formatted != source:
            unformatted.append(file)
            if not check_only:
                file.write_text(formatted, encoding="utf-8")
    if diagnostics:
        _print_diagnostics(diagnostics)
        raise typer.Exit(EXIT_RULE_ERRORS)
    verb = "would reformat" if check_only else "reformatted"
    for file in unformatted:
        typer.echo(f"{verb} {file}")
    if check_only and unformatted:
        raise typer.Exit(EXIT_RULE_ERRORS)


def _ruleset_from_files(paths: list[Path], publish_at: str | None, now: datetime
                        ) -> engine.RuleSet:
    published = parse_instant(publish_at, "--publish-at") if publish_at else now
    try:
        return dsl.compile_paths(paths, publish_at=published)
    except dsl.DslError as error:
        _print_diagnostics(error.diagnostics)
        raise typer.Exit(EXIT_BAD_INPUT) from None


def _ruleset_from_store(name: str, number: int | None, replay_at: datetime | None = None
                        ) -> engine.RuleSet:
    """A published version (default: the live one; with ``replay_at``, the one live
    then), exactly as the server holds it."""
    import rules  # the store is only needed here; `evaluate --rules` works without it

    try:
        store = rules.open_store(rules.Settings.from_env())
        if replay_at is not None:
            version = store.live_at(name, replay_at)
            if version is None:
                fail(f"no version of {name!r} was live at {replay_at.isoformat()}",
                     EXIT_REFUSED)
        else:
            version = store.version(name, number) if number is not None else store.latest(name)
        if version is None:
            fail(f"no rule set named {name!r} is published", EXIT_REFUSED)
        return version.ruleset_ir()
    except rules.StoreError as error:
        fail(str(error), EXIT_REFUSED)


def _pinned_version(request: engine.BasketRequest, ruleset: str, version: int | None,
                    where: str) -> int | None:
    """The version to price on with --ruleset: the option's or the basket's, which must
    not disagree, as the server reads them (its rule set named in the basket too)."""
    if request.ruleset is not None and request.ruleset != ruleset:
        fail(f"{where}: the basket names rule set {request.ruleset!r}, --ruleset {ruleset!r}")
    if version is not None and request.version is not None and version != request.version:
        fail(f"{where}: the basket names version {request.version}, --version {version}")
    return version if version is not None else request.version


@app.command()
def evaluate(
    basket: Annotated[Path, typer.Option("--basket", help="Basket JSON file, or - for stdin.")],
    rules: Annotated[list[Path] | None, typer.Option(
        "--rules", help="A `.rules` file or a folder (or use --ruleset).")] = None,
    ruleset: Annotated[str | None, typer.Option(
        "--ruleset", help="A published rule set from the rule store instead of files.")] = None,
    version: Annotated[int | None, typer.Option(
        "--version", help="With --ruleset: that version (default: the live one).")] = None,
    at: Annotated[
        str | None, typer.Option("--at", help="Instant to price at (ISO-8601 with offset).")
    ] = None,
    explain: Annotated[
        bool, typer.Option("--explain", help="Say for every rule that concerns the basket why it "
                                             "applied or not.")
    ] = False,
    publish_at: Annotated[
        str | None,
        typer.Option("--publish-at", help="With --rules: start of `from publish` windows "
                                          "(default: now)."),
    ] = None,
) -> None:
    """Price a basket with rule files or a published rule set; print the response JSON."""
    now = datetime.now(UTC)
    if (rules is None) == (ruleset is None):
        fail("give either --rules PATH (rule files) or --ruleset NAME (the rule store)")
    if rules is not None and version is not None:
        fail("--version names a version of the rule store: use it with --ruleset NAME, not "
             "--rules (rule files have no versions)")
    if ruleset is not None and publish_at is not None:
        fail("--publish-at is for rule files (--rules): a published version's `from "
             "publish` windows start when it went live")
    data = read_basket(basket)
    if at is not None:
        data["at"] = parse_instant(at, "--at").isoformat()
    explain = explain or data.get("explain") is True
    replay = data.pop("replay", False)
    where = f"basket {basket}"
    if not isinstance(replay, bool):
        fail(f"{where}: replay: expected true or false")
    try:
        request = engine.parse_request(data, now=now)
    except engine.BasketError as error:
        fail(f"{where}: {error}")
    if rules is not None:
        if request.version is not None or replay:
            fail(f"{where}: a basket that names a version or asks for a replay is priced on "
                 "the rule store's versions: use --ruleset NAME, not --rules")
        compiled = _ruleset_from_files(rules, publish_at, now)
    else:
        name = ruleset or ""
        pinned = _pinned_version(request, name, version, where)
        if replay and pinned is not None:
            fail(f"{where}: ask for either a version or a replay, not both")
        compiled = _ruleset_from_store(name, pinned, request.at if replay else None)
    try:
        response = engine.Evaluator(compiled).evaluate(request, explain=explain)
    except engine.BasketError as error:
        fail(f"{where}: {error}")
    # The bytes the API answers (UTF-8 JSON), whatever the locale: a replay kept as a file.
    write_utf8([engine.dumps(response), "\n"])


DEMO_PUBLISH_AT = "2026-11-23T13:00:00+00:00"  # the demo's convention, examples/README.md
# The demo retailer shipped with remise, the one `remise serve` publishes: found from any
# working directory, as `serve` finds it.
DEMO_EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


@app.command()
def demo(
    folder: Annotated[
        Path | None, typer.Option("--examples", help="Folder with rules/ and baskets/ "
                                                     "(default: remise's own demo).")
    ] = None,
) -> None:
    """Price every demo basket with the demo rules and print a summary."""
    folder = DEMO_EXAMPLES if folder is None else folder
    try:
        ruleset = dsl.compile_paths(
            [folder / "rules"], publish_at=datetime.fromisoformat(DEMO_PUBLISH_AT)
        )
    except dsl.DslError as error:
        _print_diagnostics(error.diagnostics)
        raise typer.Exit(EXIT_BAD_INPUT) from None
    evaluator = engine.Evaluator(ruleset)
    baskets = sorted((folder / "baskets").glob("*.json"))
    if not baskets:
        fail(f"no baskets in {folder / 'baskets'}")
    typer.echo(f"{len(ruleset.rules)} rules, {len(baskets)} baskets ({ruleset.currency})\n")
    for path in baskets:
        try:
            response = evaluator.evaluate(engine.parse_request(read_basket(path)))
        except engine.BasketError as error:
            fail(f"basket {path}: {error}")
        rules_applied = ", ".join(item["rule"] for item in response["applied"]) or "-"
        typer.echo(
            f"{path.stem:<40} subtotal {response['subtotal']:>8}  discount "
            f"{response['discount']:>7}  total {response['total']:>8}  "
            f"points {response['points']['total']:>4}  {rules_applied}"
        )


def main() -> None:
    """The ``remise`` command, with one last net under every command: what the store,
    the database or the environment raise where no command caught it (a read-only data
    folder, a database user that cannot write, a settings value or URL that is not one)
    is one line and an exit code, never a traceback."""
    try:
        app()
    except Exception as error:  # the net itself: anything else is a defect, re-raised
        code = _environment_failure(error)
        if code is None:
            raise
        typer.echo(f"error: {_first_line(error)}", err=True)
        raise SystemExit(code) from None


def _environment_failure(error: Exception) -> int | None:
    """The exit code for a failure of the store or the environment (None: a defect)."""
    from alembic.util import CommandError
    from sqlalchemy.exc import SQLAlchemyError

    import rules  # the store is not loaded for `check`, `fmt` or `evaluate --rules`

    if isinstance(error, rules.StoreError | SQLAlchemyError | CommandError | OSError):
        return EXIT_REFUSED
    if isinstance(error, ValueError):  # a URL or a setting that cannot be read
        return EXIT_BAD_INPUT
    return None


def _first_line(error: Exception) -> str:
    """What went wrong, in one line: a database error's own message without the SQL and
    parameters SQLAlchemy appends (they can hold a whole rule source)."""
    original = getattr(error, "orig", None) or error
    lines = str(original).strip().splitlines()
    return lines[0] if lines else type(error).__name__


if __name__ == "__main__":
    main()
