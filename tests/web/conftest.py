"""A running app per test, a Chromium page pointed at it, and people to sign in as.

A new page test takes ``page`` (already at the app, other sites blocked) and ``people``
(one account per role, see ``PEOPLE``), signs in with ``sign_in`` and ends each page it
shows with ``check_page`` (axe, screenshot). See api/web/README.md.
"""

from collections.abc import AsyncIterator, Iterator

import pytest
from playwright.async_api import BrowserContext, Page
from sqlalchemy import Engine

from core.settings import Settings
from tests.support.browser import block_other_sites, launch_options, running_app
from tests.support.web_people import People


@pytest.fixture(scope="session")
def browser_type_launch_args() -> dict[str, object]:
    return launch_options()


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
