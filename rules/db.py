"""Database engines and schema migrations (Alembic).

SQLite runs in WAL mode with a generous busy timeout so that concurrent
publishers wait for each other instead of failing; the versions table's
unique (rule set, number) constraint then decides who wins. PostgreSQL
connections are checked before use so a restarted server costs one retry,
not an error.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, create_engine, event, make_url, text
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, OperationalError

from .errors import InvalidRequest, SchemaNotReady

MIGRATIONS = Path(__file__).with_name("migrations")
SQLITE_BUSY_SECONDS = 30
CONNECT_TIMEOUT_SECONDS = 10  # a PostgreSQL that has not answered by then is down
# The key of the advisory lock that makes migrations of one PostgreSQL database wait
# for each other: "remise:m" (the audit log's is "remise:a").
MIGRATION_LOCK = 0x72656D6973653A6D


def create_db_engine(url: str) -> Engine:
    """An engine for a SQLAlchemy URL; SQLite files get their folder created. Its errors
    leave out the statement's parameters (hide_parameters): they hold whole rule
    sources and messages, which have no place in a server's log."""
    try:
        if url.startswith("sqlite"):
            return _sqlite_engine(url)
        return create_engine(url, pool_pre_ping=True, hide_parameters=True,
                             connect_args=_connect_timeout(url))
    except NoSuchModuleError:
        raise InvalidRequest(f"cannot use database URL {redact_url(url)!r}: SQLAlchemy knows no "
                             f"database {url.split(':', 1)[0]!r}; for PostgreSQL write "
                             "postgresql+psycopg://user@host/database") from None
    except ArgumentError as error:
        raise InvalidRequest(f"cannot use database URL {redact_url(url)!r}: {error}") from None
    except ValueError:  # the one part SQLAlchemy converts as it parses: the port
        raise InvalidRequest(f"cannot use database URL {redact_url(url)!r}: its port is not a "
                             "number") from None
    except ImportError as error:
        raise InvalidRequest(f"cannot use database URL {redact_url(url)!r}: its driver is not "
                             f"installed ({error.name}); for PostgreSQL use "
                             "postgresql+psycopg://... with `pip install remise[postgresql]`"
                             ) from None


def _connect_timeout(url: str) -> dict[str, Any]:
    """PostgreSQL's connect_timeout, unless the URL sets its own: without one, a server
    that accepts the connection and never answers (hung, or a pooler in front of a dead
    one) held every command, and a server's checks and requests, for ever."""
    parsed = make_url(url)
    if not parsed.get_backend_name().startswith("postgresql"):
        return {}
    if "connect_timeout" in parsed.query:
        return {}
    return {"connect_timeout": CONNECT_TIMEOUT_SECONDS}


def _sqlite_engine(url: str) -> Engine:
    path = url.split(":///", 1)[1] if ":///" in url else ""
    if path and path != ":memory:":
        _make_folder(Path(path).parent)
    engine = create_engine(url, connect_args={"timeout": SQLITE_BUSY_SECONDS},
                           hide_parameters=True)

    @event.listens_for(engine, "connect")
    def _pragmas(connection: Any, _record: Any) -> None:
        cursor = connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    return engine


def _make_folder(folder: Path) -> None:
    """The SQLite file's folder (the data folder), made if missing. A folder it makes is
    its owner's alone: the database holds every rule source (coupon codes with them) and
    the API keys' hashes. One that exists is kept as the operator set it."""
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError as error:
        file = next((p for p in (folder, *folder.parents) if p.exists() and not p.is_dir()),
                    None)
        reason = f"{file} is a file" if file is not None else error.strerror or str(error)
        raise InvalidRequest(f"cannot make the folder {folder} for the SQLite database: "
                             f"{reason} (REMISE_DATA_DIR names the data folder)") from None


def redact_url(url: str) -> str:
    """A URL fit for an error message: no password, neither before the host nor as a
    query parameter (libpq reads ``?password=`` too)."""
    url = re.sub(r"([?&]password=)[^&]*", r"\1***", url, flags=re.IGNORECASE)
    if "@" not in url or "://" not in url:
        return url
    scheme, rest = url.split("://", 1)
    credentials, host = rest.rsplit("@", 1)
    user, has_password, _ = credentials.partition(":")
    return f"{scheme}://{user}{':***' if has_password else ''}@{host}"


def _config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def head_revision() -> str:
    """The schema revision this code needs."""
    head = ScriptDirectory.from_config(_config()).get_current_head()
    assert head is not None
    return head


def current_revision(engine: Engine) -> str | None:
    """The database's schema revision (None: no schema yet)."""
    try:
        with engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()
    except OperationalError as error:
        # one line: libpq adds a second, indented, to its own ("Is the server running...")
        reason = "; ".join(line.strip() for line in str(error.orig).splitlines() if line.strip())
        raise SchemaNotReady(f"cannot reach the database {redact_url(str(engine.url))}: "
                             f"{reason}") from None


def _refuse_newer(current: str | None) -> None:
    """Refuse a schema revision this code does not know: a newer remise migrated the
    database. `remise db upgrade` cannot help (Alembic cannot find the revision);
    upgrading remise does."""
    script = ScriptDirectory.from_config(_config())
    if current is not None and current not in {s.revision for s in script.walk_revisions()}:
        raise SchemaNotReady(f"the database's schema ({current}) is newer than this remise "
                             f"({head_revision()}): upgrade remise")


def upgrade(engine: Engine) -> str:
    """Bring the schema to this code's revision; returns it. Safe to run twice."""
    return migrate(engine)[1]


def migrate(engine: Engine) -> tuple[str | None, str]:
    """Bring the schema to this code's revision; returns the revision it was at (None:
    no schema) and the one it is at now. Safe to run twice, and at once: every server
    of a deployment may run it as it starts, and the embedded default runs it on each
    command. Each waits for the one before it, then finds the schema made (two at once
    both created the tables, and all but one failed on "already exists")."""
    current = current_revision(engine)  # an unreachable database, said in one line
    _refuse_newer(current)
    if current == head_revision():  # every command of the embedded default: no lock
        return current, current
    config = _config()
    with engine.begin() as connection:
        _one_migration_at_a_time(connection)
        before = MigrationContext.configure(connection).get_current_revision()
        _refuse_newer(before)
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
    return before, head_revision()


def _one_migration_at_a_time(connection: Connection) -> None:
    """Hold, until the migration commits, what makes another one wait: PostgreSQL's
    transaction-scoped advisory lock, SQLite's write lock taken at once (it would
    otherwise be taken at the first write, after the schema was read as missing)."""
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"),
                           {"key": MIGRATION_LOCK})
    elif connection.dialect.name == "sqlite":
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def downgrade(engine: Engine, revision: str = "base") -> None:
    """Take the schema back to ``revision`` (``base``: drop everything remise made)."""
    config = _config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, revision)


def ensure_schema(engine: Engine) -> None:
    """Refuse to work on a database whose schema is missing, out of date or newer."""
    current, needed = current_revision(engine), head_revision()
    _refuse_newer(current)
    if current != needed:
        state = "has no remise schema" if current is None else f"is at schema {current}"
        raise SchemaNotReady(f"the database {redact_url(str(engine.url))} {state}; this remise "
                             f"needs {needed}: run `remise db upgrade`")


__all__ = [
    "create_db_engine",
    "current_revision",
    "downgrade",
    "ensure_schema",
    "head_revision",
    "migrate",
    "upgrade",
]
