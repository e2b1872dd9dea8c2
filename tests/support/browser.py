"""Running the real app for a real browser, and what every page test checks.

- ``running_app``: the app served by uvicorn on a free loopback port, in a thread.
- ``launch_options``: Debian's Chromium, headless.
- ``block_other_sites``: a browser context that can reach only the app (the NHS font CDN
  included), so a test never waits on the network and the pages fall back to Arial.
- ``sign_in``: through the sign-in page, as a person would.
- ``check_page``: axe at WCAG 2.2 AA with no violations, and a screenshot kept as an artefact
  in ``$SOCIALRX_SCREENSHOT_DIR`` (``var/screenshots`` unless set).
"""

import os
import socket
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import uvicorn
from axe_playwright_python.async_playwright import Axe
from playwright.async_api import BrowserContext, Page, Route
from sqlalchemy import event
from starlette.types import ASGIApp
from temporalio.client import Client

from api.main import create_app
from core.settings import Settings
from tests.support.event_loop_db import DatabaseOnEventLoop, guarded
from tests.support.web_people import PASSWORD

CHROMIUM = "/usr/bin/chromium"
WCAG_22_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
SCREENSHOT_DIR = Path(os.environ.get("SOCIALRX_SCREENSHOT_DIR", "var/screenshots"))


def launch_options() -> dict[str, object]:
    # As root (in CI containers) Chromium refuses to start inside its own sandbox.
    args = ["--no-sandbox"] if os.geteuid() == 0 else []
    return {"executable_path": CHROMIUM, "headless": True, "args": args}


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextmanager
def running_app(
    settings: Settings,
    temporal: Client | None = None,
    on_event_loop: DatabaseOnEventLoop | None = None,
) -> Iterator[str]:
    """The app, served until the block ends; yields its base URL.

    Without ``temporal`` there is no Temporal at all: pages that only read the database work,
    a step answers 503. The database must be migrated already (the ``database_url`` fixture
    does it), so the app's start-up (migrate, connect to Temporal) is skipped.

    With ``on_event_loop``, every statement a request runs on the event loop is recorded
    there (``tests.support.event_loop_db``): pages with ``async def`` routes assert none.
    """
    port = _free_port()
    app = create_app(settings, temporal)
    served: ASGIApp = app
    if on_event_loop is not None:
        served = guarded(app)
        event.listen(app.state.engine, "before_cursor_execute", on_event_loop.record)
    server = uvicorn.Server(
        # log_config=None: uvicorn leaves the test run's logging as it is.
        uvicorn.Config(served, host="127.0.0.1", port=port, lifespan="off", log_config=None)
    )
    thread = threading.Thread(target=server.run, name=f"uvicorn-{port}", daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the app did not start")
        time.sleep(0.02)
    try:
        # 127.0.0.1 and localhost both count as secure to Chromium, so the Secure session
        # cookie is sent over plain HTTP here, as it would be over HTTPS in service.
        yield f"http://localhost:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=15)
        # Its pool's connections end with it: on PostgreSQL, each test's would add up.
        app.state.engine.dispose()


async def block_other_sites(context: BrowserContext, base_url: str) -> None:
    async def only_the_app(route: Route) -> None:
        if route.request.url.startswith(base_url):
            await route.continue_()
        else:
            await route.abort()

    await context.route("**/*", only_the_app)


async def sign_in(page: Page, username: str, password: str, path: str = "/sign-in") -> None:
    await page.goto(path)
    await page.get_by_label("User name").fill(username)
    await page.get_by_label("Password", exact=True).fill(password)
    await page.get_by_role("button", name="Sign in").click()
    await page.wait_for_load_state()


async def signed_in_page(
    new_context: Callable[..., Awaitable[BrowserContext]], base_url: str, username: str
) -> Page:
    """A browser of that person's own (pytest-playwright's ``new_context``), at the app only,
    signed in with ``PASSWORD``."""
    context = await new_context(base_url=base_url)
    await block_other_sites(context, base_url)
    page = await context.new_page()
    await sign_in(page, username, PASSWORD)
    return page


async def check_page(page: Page, name: str) -> None:
    """No axe violations at WCAG 2.2 AA, at this width; and a full-page screenshot."""
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=SCREENSHOT_DIR / f"{name}.png", full_page=True)
    results = await Axe().run(page, options={"runOnly": {"type": "tag", "values": WCAG_22_AA}})
    assert results.violations_count == 0, f"{name}: {results.generate_report()}"
