"""The known service with people behind its referrals (tests/support/people_records.py), and
the API over it without Temporal: the data-rights routes read and write the database only."""

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine
from sqlmodel import Session

from accounts.credentials import add_user
from tests.support.driver import ROLES, TEST_PASSWORD
from tests.support.people_records import OTHER_PRACTICE, OTHER_TEAM, KnownPeople, load_people
from tests.support.reports import add_accounts, report_api, username_of


@pytest.fixture
def known_people(engine: Engine) -> KnownPeople:
    with Session(engine, expire_on_commit=False) as session:
        people = load_people(session)
        add_accounts(session)
        for caller in (OTHER_PRACTICE, OTHER_TEAM):
            kind, _, identifier = caller.partition(":")
            add_user(session, username_of(caller), TEST_PASSWORD, ROLES[kind], identifier)
        session.commit()
    return people


@pytest.fixture
async def api(
    known_people: KnownPeople, database_url: str, tmp_path: Path
) -> AsyncIterator[httpx.AsyncClient]:
    async with report_api(database_url, tmp_path / "var") as http:
        yield http
