"""A running app per test, a Chromium page pointed at it, and people to sign in as.

A new page test takes ``page`` (already at the app, other sites blocked) and ``people``
(one account per role, see ``PEOPLE``), signs in with ``sign_in`` and ends each page it
shows with ``check_page`` (axe, screenshot). See api/web/README.md.
"""

from collections.abc import AsyncIterator, Iterator
from typing import NamedTuple

import pytest
from playwright.async_api import BrowserContext, Page
from sqlalchemy import Engine
from sqlmodel import Session

from accounts.credentials import Role, add_user
from catalogue.demo import load_demo_directory
from core.settings import Settings
from socialrx.demo import load_demo_people
from tests.support.browser import block_other_sites, launch_options, running_app

PASSWORD = "a long test password"


class Person(NamedTuple):
    username: str
    role: Role
    organisation_id: str


PEOPLE = {
    "practice": Person("millbrook-gp", Role.PRACTICE, "A81001"),
    "other_practice": Person("riverside-gp", Role.PRACTICE, "A81002"),
    "link_worker": Person("amira", Role.LINK_WORKER, "lw-amira"),
    "organisation": Person("arts-collective", Role.ORGANISATION, "org-millbrook-arts-collective"),
    "commissioner": Person("icb-analyst", Role.COMMISSIONER, "millbrook-icb"),
}


@pytest.fixture(scope="session")
def browser_type_launch_args() -> dict[str, object]:
    return launch_options()


class People:
    """``people["practice"]``: that account (password ``PASSWORD``), made on first use.

    Hashing a password and loading the directory take seconds on a busy machine, so a test
    pays only for the accounts it signs in with."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._made: set[str] = set()
        with Session(engine) as session:
            load_demo_people(session)

    def __getitem__(self, key: str) -> Person:
        person = PEOPLE[key]
        if key not in self._made:
            with Session(self._engine) as session:
                if person.role is Role.ORGANISATION:
                    load_demo_directory(session)
                add_user(session, person.username, PASSWORD, person.role, person.organisation_id)
            self._made.add(key)
        return person


@pytest.fixture
def people(engine: Engine) -> People:
    """The demo practices and team, and an account per role when a test asks for it."""
    return People(engine)


@pytest.fixture
def app_url(engine: Engine, settings: Settings) -> Iterator[str]:
    with running_app(settings) as base_url:
        yield base_url


@pytest.fixture
async def context(new_context, app_url: str) -> AsyncIterator[BrowserContext]:
    context = await new_context(base_url=app_url)
    await block_other_sites(context, app_url)
    yield context


@pytest.fixture
async def page(context: BrowserContext) -> Page:
    return await context.new_page()
