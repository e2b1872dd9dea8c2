"""The "Correct contact details" page of the practice and of the link worker, without a
browser: the form shows the current details, saves through the same correction as the JSON
route (CSRF-checked), says what to fix, and is not found by anyone else."""

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlmodel import Session, select

from activities.records import erase_person
from api.main import create_app
from api.records import CORRECTED_ACTION
from core.settings import Settings
from domain.messages import SYSTEM
from domain.tables import AuditEvent, Person
from tests.support.driver import TEST_PASSWORD
from tests.support.people_records import (
    MESSAGE_PHONE,
    OTHER_PRACTICE,
    OTHER_TEAM,
    ZOFIA,
    KnownPeople,
)
from tests.support.reports import username_of

PRACTICE_PAGE = "/practice/referrals/{}/contact-details"
TEAM_PAGE = "/caseload/referrals/{}/contact-details"


def token_in(html: str) -> str:
    return html.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]


def signed_in(settings: Settings, caller: str) -> TestClient:
    # Secure cookies go back over https://localhost, as in a browser.
    client = TestClient(create_app(settings, temporal=None), base_url="https://localhost")
    token = token_in(client.get("/sign-in").text)
    answer = client.post(
        "/sign-in",
        data={"username": username_of(caller), "password": TEST_PASSWORD, "csrf_token": token},
        follow_redirects=False,
    )
    assert answer.status_code == 303, answer.text
    return client


def form(page_html: str, **answers: str) -> dict[str, str]:
    return {
        "csrf_token": token_in(page_html),
        "phone": MESSAGE_PHONE,
        "email": "",
        "address": "1 High Street, Millbrook",
        "preferred_contact": "phone",
        **answers,
    }


@pytest.mark.parametrize(
    ("caller", "page", "referral_page"),
    [
        ("practice:A81001", PRACTICE_PAGE, "/practice/referrals/{}"),
        ("link_worker:lw-ben", TEAM_PAGE, "/caseload/referrals/{}"),
    ],
)
def test_the_form_shows_the_details_and_saves_the_correction(
    known_people: KnownPeople,
    settings: Settings,
    engine: Engine,
    caller: str,
    page: str,
    referral_page: str,
) -> None:
    referral_id = known_people.zofia[0]
    client = signed_in(settings, caller)
    shown = client.get(page.format(referral_id))
    assert shown.status_code == 200, shown.text
    assert MESSAGE_PHONE in shown.text and "Correct contact details" in shown.text
    saved = client.post(
        page.format(referral_id),
        data=form(shown.text, phone="07700 900555", email="zofia@example.org"),
        follow_redirects=False,
    )
    assert saved.status_code == 303, saved.text
    back = referral_page.format(referral_id)
    assert saved.headers["location"] == f"{back}?done=contact-corrected"
    assert "Contact details corrected" in client.get(saved.headers["location"]).text
    with Session(engine) as session:
        person = session.get(Person, referral_id)
        assert person is not None
        # The emptied email box of the first form would have removed it; this one set it.
        assert (person.phone, person.email) == ("07700 900555", "zofia@example.org")
        audit = session.exec(select(AuditEvent).where(AuditEvent.action == CORRECTED_ACTION)).one()
        assert audit.detail == {"fields": ["email", "phone"]}


def test_a_bad_answer_is_shown_with_what_to_fix_and_nothing_is_saved(
    known_people: KnownPeople, settings: Settings, engine: Engine
) -> None:
    referral_id = known_people.zofia[0]
    client = signed_in(settings, "practice:A81001")
    shown = client.get(PRACTICE_PAGE.format(referral_id))
    bad_email = client.post(PRACTICE_PAGE.format(referral_id), data=form(shown.text, email="nope"))
    assert bad_email.status_code == 422
    assert "Enter an email address in the correct format" in bad_email.text
    no_phone = client.post(
        PRACTICE_PAGE.format(referral_id), data=form(shown.text, phone="", preferred_contact="text")
    )
    assert no_phone.status_code == 422
    assert "Text needs a mobile phone number" in no_phone.text
    with Session(engine) as session:
        person = session.get(Person, referral_id)
        assert person is not None and person.phone == MESSAGE_PHONE


def test_a_form_without_its_csrf_token_is_refused(
    known_people: KnownPeople, settings: Settings
) -> None:
    referral_id = known_people.zofia[0]
    client = signed_in(settings, "practice:A81001")
    shown = client.get(PRACTICE_PAGE.format(referral_id))
    answers = form(shown.text)
    del answers["csrf_token"]
    assert client.post(PRACTICE_PAGE.format(referral_id), data=answers).status_code == 403


# A page of each caller's own, whose form gives their CSRF token.
HOME = {
    "practice": "/practice/referrals",
    "link_worker": "/tasks",
    "organisation": "/organisation/referrals",
}


@pytest.mark.parametrize(
    ("caller", "page"),
    [
        (OTHER_PRACTICE, PRACTICE_PAGE),
        (OTHER_TEAM, TEAM_PAGE),
        ("practice:A81001", TEAM_PAGE),
        ("link_worker:lw-ben", PRACTICE_PAGE),
        ("organisation:org-millbrook-leisure-trust", PRACTICE_PAGE),
    ],
)
def test_anyone_else_finds_no_such_page(
    known_people: KnownPeople, settings: Settings, engine: Engine, caller: str, page: str
) -> None:
    referral_id = known_people.zofia[0]
    client = signed_in(settings, caller)
    assert client.get(page.format(referral_id)).status_code == 404
    own_page = client.get(HOME[caller.split(":")[0]])
    assert own_page.status_code == 200, own_page.text
    answered = client.post(page.format(referral_id), data=form(own_page.text, phone="0"))
    assert answered.status_code == 404
    with Session(engine) as session:
        person = session.get(Person, referral_id)
        assert person is not None and person.phone == MESSAGE_PHONE


def test_a_redacted_referral_still_shows_its_pages_without_the_person(
    known_people: KnownPeople, settings: Settings, engine: Engine
) -> None:
    referral_id = known_people.zofia[0]
    with Session(engine) as session:
        erase_person(session, ZOFIA, SYSTEM)
    practice = signed_in(settings, "practice:A81001")
    page = practice.get(f"/practice/referrals/{referral_id}")
    assert page.status_code == 200, page.text
    assert "Zofia" not in page.text and ZOFIA not in page.text
    team = signed_in(settings, "link_worker:lw-ben")
    page = team.get(f"/caseload/referrals/{referral_id}")
    assert page.status_code == 200, page.text
    assert MESSAGE_PHONE not in page.text and "Zofia" not in page.text
    # Nothing is left to correct.
    assert practice.get(PRACTICE_PAGE.format(referral_id)).status_code == 404
