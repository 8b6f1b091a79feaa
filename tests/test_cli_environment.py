"""`remise` when the environment is wrong: one line and an exit code, never a traceback
(the operators' review, 2026-11-29)."""

from __future__ import annotations

import socket
import sys
from pathlib import Path

import pytest

import rules
from api import cli_serve
from api.auth import KeyStore
from api.cli import main
from tests.store.processes import free_port


def _remise(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
            *args: str) -> tuple[int, list[str]]:
    """Run the `remise` command as its console script does: (exit code, stderr lines)."""
    monkeypatch.setattr(sys, "argv", ["remise", *args])
    with pytest.raises(SystemExit) as ended:
        main()
    code = ended.value.code
    return (code if isinstance(code, int) else 1), capsys.readouterr().err.splitlines()


@pytest.fixture(autouse=True)
def _embedded(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ("REMISE_DATABASE_URL", "REMISE_REDIS_URL", "PROMETHEUS_MULTIPROC_DIR"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("REMISE_DATA_DIR", str(tmp_path / "data"))


@pytest.mark.parametrize(("setting", "value", "command", "code", "words"), [
    ("REMISE_POLL_SECONDS", "abc", "db current", 3,
     "REMISE_POLL_SECONDS='abc' is not a number of seconds"),
    ("REMISE_REDIS_URL", "notaurl", "rules list", 3,
     "REMISE_REDIS_URL='notaurl': Redis URL must specify"),
    ("REMISE_REDIS_URL", "redis://:secret@127.0.0.1:notaport/0", "rules list", 3,
     "REMISE_REDIS_URL='redis://:***@127.0.0.1:notaport/0': Port could not be cast"),
    ("REMISE_DATABASE_URL", "postgresql+psycopg://u@127.0.0.1:notaport/x", "db current", 3,
     "cannot use database URL 'postgresql+psycopg://u@127.0.0.1:notaport/x': its port is "
     "not a number"),
    ("REMISE_DATABASE_URL", "postgres://u:secret@127.0.0.1/x", "rules list", 3,
     "SQLAlchemy knows no database 'postgres'; for PostgreSQL write postgresql+psycopg://"),
])
def test_a_setting_that_cannot_be_read_is_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], setting: str,
    value: str, command: str, code: int, words: str
) -> None:
    monkeypatch.setenv(setting, value)

    exit_code, lines = _remise(monkeypatch, capsys, *command.split())

    assert exit_code == code
    assert len(lines) == 1 and lines[0].startswith("error: ") and words in lines[0]


def test_a_data_folder_that_is_a_file_is_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    a_file = tmp_path / "not-a-folder"
    a_file.write_text("x")
    monkeypatch.setenv("REMISE_DATA_DIR", str(a_file))

    exit_code, lines = _remise(monkeypatch, capsys, "rules", "list")

    assert exit_code == 3
    assert lines == [f"error: cannot make the folder {a_file} for the SQLite database: "
                     f"{a_file} is a file (REMISE_DATA_DIR names the data folder)"]


def test_serve_refuses_a_metrics_folder_that_does_not_exist_before_starting(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path / "missing"))

    exit_code, lines = _remise(monkeypatch, capsys, "serve", "--port", "8851")

    assert exit_code == 3  # a setting that cannot be used, as a REMISE_... one (README)
    assert lines == [f"error: PROMETHEUS_MULTIPROC_DIR '{tmp_path / 'missing'}' is not a "
                     "folder: create it, or unset it and remise makes one"]
    assert not (tmp_path / "data").exists()  # refused before the store was opened


def test_serve_refuses_a_port_beyond_65535(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    exit_code, _ = _remise(monkeypatch, capsys, "serve", "--port", "74367")

    assert exit_code == 2


def test_serve_refuses_a_port_in_use_before_publishing_or_making_a_key(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    # Given another program listening on the port
    with socket.socket() as other:
        other.bind(("127.0.0.1", 0))
        other.listen()
        port = other.getsockname()[1]

        # When serve is asked to listen there
        exit_code, lines = _remise(monkeypatch, capsys, "serve", "--port", str(port))

    # Then it stops at once, in one line, before the store was opened
    assert exit_code == 3
    assert lines == [f"error: cannot listen on 127.0.0.1:{port}: Address already in use "
                     "(another server there? choose another --port)"]
    assert not (tmp_path / "data").exists()


def test_serve_refuses_a_host_that_does_not_resolve(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    exit_code, lines = _remise(monkeypatch, capsys, "serve", "--host", "no such host")

    assert exit_code == 2
    assert len(lines) == 1 and lines[0].startswith("error: cannot listen on 'no such host'")
    assert not (tmp_path / "data").exists()


def test_a_server_starting_after_another_published_the_demo_goes_on(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    # Given a store where another server published the demo between this one's look
    # at the store (empty) and its own publish
    store = rules.open_store(rules.Settings.from_env())
    cli_serve._publish_demo(store, cli_serve.DEMO_RULES)
    monkeypatch.setattr(store, "rulesets", lambda: [])  # what this server saw first

    # When this server publishes the demo in turn
    cli_serve._publish_demo(store, cli_serve.DEMO_RULES)

    # Then it says so and goes on, the demo at version 1
    assert "published by another server" in capsys.readouterr().out
    latest = store.latest("default")
    assert latest is not None and latest.number == 1


def test_a_server_starting_after_another_made_the_admin_key_goes_on(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a store where another server made the admin key between this one's look at
    # the keys (none) and its own
    keys = KeyStore(rules.open_store(rules.Settings.from_env()))
    cli_serve._first_admin_key(keys)
    capsys.readouterr()
    monkeypatch.setattr(keys, "has_active_admin", lambda: False)  # what this server saw
    monkeypatch.setattr(keys, "list_keys", lambda: [])

    # When this server makes the admin key in turn
    cli_serve._first_admin_key(keys)

    # Then it says so and goes on, without a traceback: the other server printed the key
    assert capsys.readouterr().out == ("admin key: 'admin' was created by another server "
                                       "starting meanwhile (its output shows it)\n")


def test_a_store_whose_admin_key_was_revoked_gets_a_new_one_under_a_free_name(
    capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a store whose first admin key, "admin", was revoked (names are not reused)
    keys = KeyStore(rules.open_store(rules.Settings.from_env()))
    cli_serve._first_admin_key(keys)
    keys.revoke("admin", revoked_by="test")
    capsys.readouterr()

    # When a server starts on it
    cli_serve._first_admin_key(keys)

    # Then it prints a new admin key, "admin-2", which works
    printed = capsys.readouterr().out
    key = printed.rsplit(" ", 1)[-1].strip()
    assert printed.startswith("admin key 'admin-2' (shown once, keep it): rk_")
    principal = keys.lookup(key)
    assert principal is not None and (principal.name, principal.role) == ("admin-2", "admin")


def test_a_password_in_the_database_urls_query_is_not_printed(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a database URL whose password is a query parameter (libpq reads it there),
    # on a port where nothing listens
    monkeypatch.setenv("REMISE_DATABASE_URL",
                       "postgresql+psycopg://postgres@127.0.0.1:5999/x?password=leak")

    exit_code, lines = _remise(monkeypatch, capsys, "db", "current")

    assert exit_code == 3
    assert "leak" not in "\n".join(lines) and "password=***" in lines[0]


def test_a_database_that_does_not_answer_is_said_in_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # given a PostgreSQL URL on a port where nothing listens
    monkeypatch.setenv("REMISE_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:1/x")

    # when a command opens the store
    exit_code, lines = _remise(monkeypatch, capsys, "rules", "list")

    # then libpq's hint is on the same line as its reason
    assert exit_code == 3
    assert lines == ["error: cannot reach the database postgresql+psycopg://postgres@127.0.0.1:1/x"
                     ": connection failed: connection to server at \"127.0.0.1\", port 1 failed: "
                     "Connection refused; Is the server running on that host and accepting "
                     "TCP/IP connections?"]


@pytest.fixture
def keys_folder_a_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """REMISE_BUNDLE_KEYS_DIR naming a file."""
    a_file = tmp_path / "keys.txt"
    a_file.write_text("x")
    monkeypatch.setenv("REMISE_BUNDLE_KEYS_DIR", str(a_file))
    return a_file


def _keys_folder_refused(a_file: Path) -> list[str]:
    return [f"error: cannot use {a_file} as the bundle keys folder: {a_file} is a file "
            "(REMISE_BUNDLE_KEYS_DIR, or bundle-keys in REMISE_DATA_DIR)"]


def test_serve_refuses_a_bundle_keys_folder_that_is_a_file_before_publishing(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], keys_folder_a_file: Path
) -> None:
    # given REMISE_BUNDLE_KEYS_DIR naming a file
    # when serve starts on an empty store
    exit_code, lines = _remise(monkeypatch, capsys, "serve", "--port", str(free_port()))

    # then it stops in one line, before publishing the demo or making an admin key
    assert (exit_code, lines) == (3, _keys_folder_refused(keys_folder_a_file))
    store = rules.open_store(rules.Settings.from_env())
    assert store.rulesets() == [] and KeyStore(store).list_keys() == []


def test_bundle_keys_refuses_a_keys_folder_that_is_a_file_in_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], keys_folder_a_file: Path
) -> None:
    # given REMISE_BUNDLE_KEYS_DIR naming a file
    # when an operator lists the keys
    exit_code, lines = _remise(monkeypatch, capsys, "bundle-keys", "list")

    # then the setting is named, as serve names it, not "[Errno 17] File exists"
    assert (exit_code, lines) == (3, _keys_folder_refused(keys_folder_a_file))


def test_serve_says_which_database_and_redis_prefix_it_serves_from() -> None:
    # given a production configuration, with a database password
    settings = rules.Settings.from_env({
        "REMISE_DATABASE_URL": "postgresql+psycopg://remise:s3cret@db:5432/remise",
        "REMISE_REDIS_URL": "redis://:s3cret@cache:6379/0",
        "REMISE_REDIS_PREFIX": "remise-prod"})

    # when serve says where it serves from
    line = cli_serve.start_line(settings, "0.0.0.0", 8000)

    # then the operator reads the database and the Redis prefix, never the passwords
    assert line == ("remise on http://0.0.0.0:8000 (API docs: http://0.0.0.0:8000/docs), rules "
                    "in postgresql+psycopg://remise:***@db:5432/remise, Redis fan-out on "
                    "redis://:***@cache:6379/0, prefix 'remise-prod'")


def test_serve_writes_an_ipv6_address_in_brackets_in_its_url() -> None:
    # given the embedded default, served on the IPv6 loopback
    settings = rules.Settings.from_env({"REMISE_DATA_DIR": "data"})

    # when serve says where it listens
    line = cli_serve.start_line(settings, "::1", 8000)

    # then its URLs can be pasted in a browser or curl (http://::1:8000 cannot)
    assert line.startswith("remise on http://[::1]:8000 (API docs: http://[::1]:8000/docs),")


def test_db_current_on_the_embedded_default_not_yet_used_creates_nothing(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    # given the embedded default in a data folder that does not exist (a mistyped one)
    # when an operator looks at its schema
    monkeypatch.setattr(sys, "argv", ["remise", "db", "current"])
    with pytest.raises(SystemExit) as ended:
        main()

    # then they read that there is none yet, and the look made no folder or file
    assert ended.value.code == 0
    assert capsys.readouterr().out == (f"database schema none yet; remise needs "
                                       f"{rules.head_revision()} and creates it on first use\n")
    assert not (tmp_path / "data").exists()
