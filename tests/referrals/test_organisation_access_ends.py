"""An organisation sees how to reach the person only while its service referral is live
(pending, accepted or started) and the person has not withdrawn consent; otherwise the
status only. The JSON view and the organisation's page apply the one rule (api.consent)."""

from datetime import date
from uuid import UUID, uuid4

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlmodel import Session

from api.main import create_app
from core.settings import Settings
from domain.enums import (
    ClosureReason,
    GpOutcomeSharing,
    OrganisationSharing,
    ReferralStatus,
    ServiceReferralStatus,
)
from domain.tables import Consent, Person, Referral
from tests.support.web_people import PASSWORD, People
from tests.web.data import a_service_referral as a_service_referral_of

NAME, PHONE, EMAIL = "Marguerite", "07700 900461", "marguerite@example.org"
ADDRESS, REASON = "12 Quarry Lane, Millbrook", "Low mood since losing her job; money worries."
NEEDS = ["sp-social-groups", "sp-money-advice"]
DETAILS = [NAME, PHONE, EMAIL, ADDRESS, REASON, *NEEDS]

S = ServiceReferralStatus
CASES = [
    # (service referral status, referral's closure reason, details shown)
    (S.PENDING, None, True),
    (S.ACCEPTED, None, True),
    (S.STARTED, None, True),
    (S.DECLINED, None, False),
    (S.AUTO_DECLINED, None, False),
    (S.DID_NOT_ATTEND, None, False),
    (S.WITHDRAWN, ClosureReason.CONSENT_WITHDRAWN, False),
    # The person had started, then withdrew consent: that ends the organisation's access too.
    (S.STARTED, ClosureReason.CONSENT_WITHDRAWN, False),
    (S.WITHDRAWN, ClosureReason.CANCELLED_BY_REFERRER, False),
    # Closed as completed, the service taken up: the organisation still works with them.
    (S.STARTED, ClosureReason.COMPLETED, True),
]


def a_service_referral(
    engine: Engine,
    organisation_id: str,
    status: ServiceReferralStatus,
    closure_reason: ClosureReason | None,
    sharing: OrganisationSharing = OrganisationSharing.CONTACT_AND_REASON,
) -> UUID:
    referral_id = uuid4()
    with Session(engine) as session:
        session.add(
            Referral(
                id=referral_id,
                practice_ods="A81001",
                status=ReferralStatus.CLOSED if closure_reason else ReferralStatus.CONNECTING,
                closure_reason=closure_reason,
                need_codes=NEEDS,
            )
        )
        session.flush()
        session.add(
            Person(
                referral_id=referral_id,
                nhs_number="9434765919",
                given_name=NAME,
                family_name="Okafor",
                birth_date=date(1961, 5, 2),
                postcode="MB1 2AB",
                phone=PHONE,
                email=EMAIL,
                address=ADDRESS,
                reason=REASON,
            )
        )
        session.add(
            Consent(
                referral_id=referral_id,
                share_with_organisations=sharing,
                outcome_to_gp=GpOutcomeSharing.DETAILS,
            )
        )
        session.commit()
    return a_service_referral_of(engine, referral_id, organisation_id, status)


@pytest.fixture
def organisation(engine: Engine, settings: Settings) -> tuple[TestClient, dict[str, str], str]:
    """A client signed in as an organisation (its cookie kept, for the pages), the bearer
    header for the JSON API, and the organisation's id."""
    person = People(engine)["organisation"]
    client = TestClient(create_app(settings, temporal=None), base_url="https://localhost")
    signed_in = client.post("/auth/token", data={"username": person.username, "password": PASSWORD})
    assert signed_in.status_code == 200
    bearer = {"Authorization": f"Bearer {signed_in.json()['access_token']}"}
    return client, bearer, person.organisation_id


@pytest.mark.parametrize(("status", "closure_reason", "shown"), CASES)
def test_contact_details_only_while_the_service_referral_is_live(
    organisation: tuple[TestClient, dict[str, str], str],
    engine: Engine,
    status: ServiceReferralStatus,
    closure_reason: ClosureReason | None,
    shown: bool,
) -> None:
    client, bearer, organisation_id = organisation
    service_referral_id = a_service_referral(engine, organisation_id, status, closure_reason)

    view = client.get(f"/service-referrals/{service_referral_id}", headers=bearer).json()
    assert view["status"] == status.value
    page = client.get(f"/organisation/service-referrals/{service_referral_id}")
    assert page.status_code == 200
    if shown:
        assert view["person"]["phone"] == PHONE and view["person"]["email"] == EMAIL
        assert view["reason"] == REASON and view["need_codes"] == NEEDS
        assert all(detail in page.text for detail in DETAILS)
    else:
        assert (view["person"], view["reason"], view["need_codes"]) == (None, None, [])
        assert [detail for detail in DETAILS if detail in page.text] == []
        assert "You no longer see the person" in page.text


def test_contact_only_consent_withholds_the_need_codes_too(
    organisation: tuple[TestClient, dict[str, str], str], engine: Engine
) -> None:
    client, bearer, organisation_id = organisation
    service_referral_id = a_service_referral(
        engine, organisation_id, S.PENDING, None, OrganisationSharing.CONTACT_ONLY
    )
    view = client.get(f"/service-referrals/{service_referral_id}", headers=bearer).json()
    assert view["person"]["phone"] == PHONE
    assert (view["reason"], view["need_codes"]) == (None, [])
    page = client.get(f"/organisation/service-referrals/{service_referral_id}").text
    assert PHONE in page
    assert [detail for detail in [REASON, *NEEDS] if detail in page] == []
    assert "The person did not agree to share these" in page


def test_the_consent_question_says_contact_only_withholds_the_reason_and_needs(
    engine: Engine, settings: Settings
) -> None:
    practice = People(engine)["practice"]
    client = TestClient(create_app(settings, temporal=None), base_url="https://localhost")
    client.post("/auth/token", data={"username": practice.username, "password": PASSWORD})
    page = client.get("/practice/refer")
    assert page.status_code == 200
    assert "With contact details only, they are not told why you referred the person" in page.text
    assert "nor the kinds of need you chose" in page.text
