"""Signed action links: an organisation answers a referral from its email, without an
account, once; a link that expired, was used, revoked or altered is refused clearly."""

import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from uuid import UUID, uuid4

import pytest
from playwright.async_api import BrowserContext, Page, expect
from sqlalchemy import Engine
from sqlmodel import Session, select
from temporalio.testing import WorkflowEnvironment

from activities.channels.email import EmailChannel
from activities.relay import OutboxRelay
from api.web.action_links import revoke_action_links
from catalogue.tables import Service
from core.settings import Settings, SmtpSettings
from domain.accounts import AccessLog, ActionLink
from domain.action_links import link_id_of, token_for
from domain.enums import MessageKind, OutboxStatus, RecipientKind
from domain.tables import OutboxMessage
from tests.messages.smtp_server import Inbox, smtp_server
from tests.support.browser import block_other_sites, check_page, launch_options
from tests.support.organisation_flow import ConnectedSystem, connected_system, service_referral_to
from tests.support.outbox import FAST
from tests.support.web_people import PEOPLE

pytestmark = pytest.mark.system

ORGANISATION = PEOPLE["organisation"].organisation_id
LINK = re.compile(r"(http://\S+/act/(\S+))")


@pytest.fixture(scope="session")
def browser_type_launch_args() -> dict[str, object]:
    return launch_options()


@pytest.fixture
async def system(
    time_skipping_env: WorkflowEnvironment, engine: Engine, settings: Settings
) -> AsyncIterator[ConnectedSystem]:
    async with connected_system(time_skipping_env, engine, settings) as running:
        yield running


@pytest.fixture
async def browser_page(new_context, system: ConnectedSystem) -> Page:
    # No one signed in: the link alone is the way in.
    context: BrowserContext = await new_context(base_url=system.app_url)
    await block_other_sites(context, system.app_url)
    return await context.new_page()


def send_the_emails(engine: Engine, settings: Settings, inbox: Inbox, public_url: str) -> None:
    smtp = SmtpSettings(host=inbox.host, port=inbox.port, security="none")
    email = EmailChannel(engine, smtp, public_url, settings.action_links)
    OutboxRelay(engine, {RecipientKind.ORGANISATION: email}, FAST).drain()


def uses_logged(engine: Engine) -> list[AccessLog]:
    with Session(engine) as session:
        return list(
            session.exec(select(AccessLog).where(AccessLog.action.startswith("GET /act/"))).all()
        )


async def test_an_emailed_link_accepts_then_confirms_the_start_once_without_signing_in(
    system: ConnectedSystem, browser_page: Page, engine: Engine, settings: Settings
) -> None:
    page = browser_page
    service_referral_id = await service_referral_to(system.driver, ORGANISATION)
    with smtp_server() as inbox:
        send_the_emails(engine, settings, inbox, system.app_url)
    with Session(engine) as session:
        (sent,) = [
            message
            for message in session.exec(select(OutboxMessage)).all()
            if message.kind == MessageKind.ORGANISATION_REFERRAL
        ]
        assert sent.recipient_id == ORGANISATION
        assert sent.status == OutboxStatus.SENT

    # The mail arrived, to the organisation, with nothing about the person in it.
    with Session(engine) as session:
        service = session.get(Service, sent.payload["service_id"])
        assert service is not None and service.email
    (mail,) = inbox.mails
    assert mail.rcpt_tos == [service.email]
    parsed = message_from_bytes(mail.raw, policy=policy.default)
    body = parsed.get_body().get_content()  # type: ignore[union-attr]
    text = mail.raw.decode() + str(parsed["Subject"]) + body
    personal = [str(value) for value in system.driver.personal_details() if value]
    assert [value for value in personal if value.lower() in text.lower()] == []
    found = LINK.search(body)
    assert found is not None, body
    url, token = found.group(1), found.group(2)
    link_id = link_id_of(settings.action_links.secret.get_secret_value(), token)
    with Session(engine) as session:
        link = session.get(ActionLink, link_id)
        assert link is not None
        assert (link.service_referral_id, link.organisation_id) == (
            service_referral_id,
            ORGANISATION,
        )
        assert link.expires_at - link.issued_at == settings.action_links.lifetime

    # A tampered link is not ours.
    altered = url[:-1] + ("A" if url[-1] != "A" else "B")
    answer = await page.goto(altered)
    assert answer is not None and answer.status == 403
    await expect(page.get_by_role("heading", level=1)).to_have_text("You cannot use this link")
    await check_page(page, "action-link-tampered")

    # The link itself: accept, then say the person started.
    answer = await page.goto(url)
    assert answer is not None and answer.status == 200
    await expect(page.get_by_role("heading", level=1)).to_contain_text("Referral for")
    await check_page(page, "action-link")
    stale = await page.context.new_page()
    await stale.goto(url)
    await page.get_by_label("Yes, accept the referral").check()
    await page.get_by_role("button", name="Send your answer").click()
    await expect(page.locator(".nhsuk-notification-banner")).to_contain_text(
        "You accepted the referral"
    )
    await check_page(page, "action-link-accepted")
    # The accept form of the page as first shown cannot be sent twice.
    await stale.get_by_label("Yes, accept the referral").check()
    await stale.get_by_role("button", name="Send your answer").click()
    await expect(stale.locator("main")).to_contain_text("already been used")

    await page.goto(url)
    await page.get_by_label("Yes, they started").check()
    await page.get_by_role("button", name="Send your answer").click()
    await expect(page.locator(".nhsuk-panel")).to_contain_text("You said the person started")
    await check_page(page, "action-link-done")
    state = await system.driver.get(
        f"/service-referrals/{service_referral_id}", actor=f"organisation:{ORGANISATION}"
    )
    assert state["status"] == "started"

    # Used up: the link says so, and the attempt is logged as the organisation.
    answer = await page.goto(url)
    assert answer is not None and answer.status == 410
    await expect(page.locator("main")).to_contain_text("already been used")
    await check_page(page, "action-link-used")
    logged = uses_logged(engine)
    assert len(logged) >= 2
    assert {(row.subject, row.organisation_id) for row in logged} == {(ORGANISATION, ORGANISATION)}
    assert all(token not in row.action for row in logged)


def a_link(engine: Engine, service_referral_id: UUID, **overrides: object) -> UUID:
    now = datetime.now(UTC)
    row = ActionLink(
        id=uuid4(),
        service_referral_id=service_referral_id,
        organisation_id=ORGANISATION,
        issued_at=now - timedelta(days=15),
        expires_at=now + timedelta(days=1),
    )
    for name, value in overrides.items():
        setattr(row, name, value)
    link_id = row.id
    with Session(engine) as session:
        session.add(row)
        session.commit()
    return link_id


async def test_an_expired_or_revoked_link_is_refused_and_says_who_to_ask(
    system: ConnectedSystem, browser_page: Page, engine: Engine, settings: Settings
) -> None:
    page = browser_page
    secret = settings.action_links.secret.get_secret_value()
    service_referral_id = await service_referral_to(system.driver, ORGANISATION)
    expired = a_link(engine, service_referral_id, expires_at=datetime.now(UTC) - timedelta(1))
    answer = await page.goto(f"/act/{token_for(secret, expired)}")
    assert answer is not None and answer.status == 410
    await expect(page.locator("main")).to_contain_text("This link has expired")
    await expect(page.locator("main")).to_contain_text("contact the link worker team")
    await check_page(page, "action-link-expired")

    live = token_for(secret, a_link(engine, service_referral_id))
    answer = await page.goto(f"/act/{live}")
    assert answer is not None and answer.status == 200
    # A form without the link's own token is refused, and the answer not given.
    refused = await page.request.post(f"/act/{live}/response", form={"answer": "accept"})
    assert refused.status == 403
    with Session(engine) as session:
        assert revoke_action_links(session, service_referral_id) == 2
        session.commit()
    answer = await page.goto(f"/act/{live}")
    assert answer is not None and answer.status == 410
    await expect(page.locator("main")).to_contain_text("cancelled")
    state = await system.driver.get(
        f"/service-referrals/{service_referral_id}", actor=f"organisation:{ORGANISATION}"
    )
    assert state["status"] == "pending"
