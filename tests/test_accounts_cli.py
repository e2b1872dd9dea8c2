"""``socialrx users`` and ``socialrx keys`` on the real command line parser and database."""

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine
from sqlmodel import Session
from typer.testing import CliRunner

from accounts.credentials import api_key_for, check_password
from core.settings import get_settings
from socialrx.cli import app
from socialrx.demo import load_demo_people

runner = CliRunner()


@pytest.fixture
def cli_database(
    engine: Engine, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> Iterator[None]:
    with Session(engine) as session:
        load_demo_people(session)
    monkeypatch.setenv("SOCIALRX_DATABASE_URL", database_url)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args), env={"COLUMNS": "200"})
    return result.exit_code, result.stdout, result.stderr


def test_users_add_list_set_password_and_deactivate(cli_database: None, engine: Engine) -> None:
    assert run("users", "add", "amira", "link_worker", "lw-amira", "--password", "first password")[
        :2
    ] == (0, "user amira added\n")
    code, listing, _ = run("users", "list")
    assert code == 0
    assert "amira" in listing and "millbrook-pcn" in listing and "lw-amira" in listing
    assert "first password" not in listing

    assert run("users", "set-password", "amira", "--password", "second password")[0] == 0
    with Session(engine) as session:
        assert check_password(session, "amira", "first password") is None
        assert check_password(session, "amira", "second password") is not None

    assert run("users", "deactivate", "amira")[0] == 0
    with Session(engine) as session:
        assert check_password(session, "amira", "second password") is None
    assert "no" in run("users", "list")[1].splitlines()[-2]


def test_the_password_is_asked_for_twice_when_not_given(cli_database: None) -> None:
    result = runner.invoke(
        app, ["users", "add", "reception", "practice", "A81002"], input="long password\n" * 2
    )
    assert result.exit_code == 0, result.output
    assert "long password" not in result.output


def test_users_errors_say_what_to_fix(cli_database: None) -> None:
    code, _, errors = run("users", "add", "x", "practice", "Z99999", "--password", "long password")
    assert (code, "no practice 'Z99999'") == (1, errors.strip().removeprefix("error: "))
    code, _, errors = run("users", "add", "x", "practice", "A81001", "--password", "short")
    assert code == 1 and "at least 10 characters" in errors
    assert run("users", "add", "x", "astronaut", "A81001", "--password", "long password")[0] == 2
    code, _, errors = run("users", "deactivate", "nobody")
    assert code == 1 and "no user 'nobody'" in errors


def test_keys_create_prints_the_key_once_then_list_and_revoke(
    cli_database: None, engine: Engine
) -> None:
    code, key, notice = run("keys", "create", "practice", "A81001", "--label", "EMIS")
    assert code == 0
    key = key.strip()
    assert key.startswith("srx_") and "shown only this once" in notice
    with Session(engine) as session:
        found = api_key_for(session, key)
        assert found is not None and found.organisation_id == "A81001"
        key_id = found.id
    code, listing, _ = run("keys", "list")
    assert key_id in listing and "EMIS" in listing and key.split("_", 2)[2] not in listing

    assert run("keys", "revoke", key_id) == (0, f"API key {key_id} revoked\n", "")
    with Session(engine) as session:
        assert api_key_for(session, key) is None
    code, _, errors = run("keys", "revoke", "nope")
    assert code == 1 and "no API key 'nope'" in errors
    code, _, errors = run("keys", "create", "link_worker", "lw-amira", "--label", "phone")
    assert code == 1 and "link_worker_team" in errors
