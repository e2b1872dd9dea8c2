"""``socialrx seed`` makes demo accounts (published password, well-known key) only where they
can open nothing: never in production, and not over real referrals unless --demo is given."""

from collections.abc import Iterator
from datetime import date

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, select
from typer.testing import CliRunner

from core.settings import Settings, get_settings
from domain.accounts import UserAccount
from domain.tables import Person, Referral
from socialrx.cli import app
from socialrx.demo import load_demo_people
from socialrx.seed import demo_refusal

runner = CliRunner()
REAL_NHS_NUMBER = "4010232137"  # valid check digit, outside the 999 test range
TEST_NHS_NUMBER = "9990000026"


@pytest.fixture
def cli_database(
    engine: Engine, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> Iterator[None]:
    monkeypatch.setenv("SOCIALRX_DATABASE_URL", database_url)
    monkeypatch.delenv("SOCIALRX_ENV", raising=False)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def seed(*options: str) -> tuple[int, str]:
    result = runner.invoke(app, ["seed", *options], env={"COLUMNS": "200"})
    return result.exit_code, result.stderr


def refer(engine: Engine, nhs_number: str) -> None:
    with Session(engine) as session:
        load_demo_people(session)
        referral = Referral(practice_ods="A81001")
        session.add(referral)
        session.flush()
        session.add(
            Person(
                referral_id=referral.id,
                nhs_number=nhs_number,
                given_name="Given",
                family_name="Family",
                birth_date=date(1960, 1, 1),
                postcode="MB1 1AA",
                reason="reason",
            )
        )
        session.commit()


def accounts(engine: Engine) -> list[str]:
    with Session(engine) as session:
        return list(session.exec(select(UserAccount.username)).all())


def test_an_empty_database_gets_the_demo_accounts(cli_database: None, engine: Engine) -> None:
    assert seed()[0] == 0
    assert "gp-a81001" in accounts(engine)


def test_demo_and_synthetic_referrals_are_not_real(cli_database: None, engine: Engine) -> None:
    refer(engine, TEST_NHS_NUMBER)
    assert seed()[0] == 0
    assert "gp-a81001" in accounts(engine)


def test_real_referrals_refuse_demo_accounts_unless_demo_is_given(
    cli_database: None, engine: Engine
) -> None:
    refer(engine, REAL_NHS_NUMBER)
    code, errors = seed()
    assert code == 1 and "holds real referrals" in errors and "--demo" in errors
    assert REAL_NHS_NUMBER not in errors
    assert accounts(engine) == []
    assert seed("--demo")[0] == 0
    assert "gp-a81001" in accounts(engine)


def test_production_never_gets_demo_accounts(
    cli_database: None, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SOCIALRX_ENV", "production")
    get_settings.cache_clear()
    for options in ((), ("--demo",)):
        code, errors = seed(*options)
        assert code == 1 and "production" in errors
    assert accounts(engine) == []


def test_socialrx_devs_check_refuses_production_only(engine: Engine) -> None:
    """``socialrx dev`` asks with demo=True: its own referrals are a developer's test data."""
    refer(engine, REAL_NHS_NUMBER)
    with Session(engine) as session:
        assert demo_refusal(session, Settings(env="dev"), demo=True) is None
        refusal = demo_refusal(session, Settings(env="production"), demo=True)
    assert refusal is not None and "production" in refusal
