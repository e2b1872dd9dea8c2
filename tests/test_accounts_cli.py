"""``socialrx users`` and ``socialrx keys`` on the real command line parser and database."""

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine
from sqlmodel import Session
from typer.testing import CliRunner

from accounts.credentials import api_key_for, check_password, commissioner_practices
from core.settings import get_settings
from domain.tables import utcnow
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


@pytest.mark.parametrize("common", ["qwertyuiop", "QwertyUIOP", "1q2w3e4r5t", "basketball"])
def test_a_common_password_is_refused_when_adding_or_changing_it(
    cli_database: None, common: str
) -> None:
    code, _, errors = run("users", "add", "x", "practice", "A81001", "--password", common)
    assert code == 1 and "most common passwords" in errors and common not in errors
    assert run("users", "add", "x", "practice", "A81001", "--password", "long password")[0] == 0
    code, _, errors = run("users", "set-password", "x", "--password", common)
    assert code == 1 and "most common passwords" in errors


def test_a_key_with_an_expiry_is_refused_from_that_day_and_its_last_use_is_listed(
    cli_database: None, engine: Engine
) -> None:
    code, key, _ = run(
        "keys", "create", "practice", "A81001", "--label", "EMIS", "--expires", "2999-01-31"
    )
    assert code == 0
    with Session(engine) as session:
        found = api_key_for(session, key.strip())
        assert found is not None and f"{found.expires_at:%Y-%m-%d %H:%M}" == "2999-01-31 00:00"
        session.commit()
    listing = run("keys", "list")[1]
    assert "2999-01-31 00:00" in listing
    assert f"{utcnow():%Y-%m-%d}" in listing.split("2999-01-31 00:00", 1)[1]  # last used
    code, _, errors = run(
        "keys", "create", "practice", "A81001", "--label", "old", "--expires", "2001-01-01"
    )
    assert code == 1 and "in the future" in errors


def test_a_commissioning_body_is_scoped_to_its_practices_and_unscoped_again(
    cli_database: None, engine: Engine
) -> None:
    assert run("users", "area", "millbrook-icb", "A81002", "A81001") == (
        0,
        "millbrook-icb sees the practices A81001, A81002\n",
        "",
    )
    with Session(engine) as session:
        assert commissioner_practices(session, "millbrook-icb") == {"A81001", "A81002"}
        assert commissioner_practices(session, "another-icb") is None
    code, _, errors = run("users", "area", "millbrook-icb", "Z99999")
    assert code == 1 and "no practice 'Z99999'" in errors
    with Session(engine) as session:  # a refused change leaves the area as it was
        assert commissioner_practices(session, "millbrook-icb") == {"A81001", "A81002"}
    assert run("users", "area", "millbrook-icb")[1] == "millbrook-icb sees every practice\n"
    with Session(engine) as session:
        assert commissioner_practices(session, "millbrook-icb") is None
