"""The match request for a referral: its needs, and the person's age and postcode.

Read from the database where personal details live, so that only service ids ever reach
the workflow.
"""

from datetime import date
from uuid import UUID

from sqlmodel import Session

from catalogue.geocode import Geocoder, postcode_district
from catalogue.matching import MatchRequest, MatchResult, suggest
from domain.tables import Person, Referral


def age_on(birth_date: date, day: date) -> int:
    return day.year - birth_date.year - ((day.month, day.day) < (birth_date.month, birth_date.day))


def suggest_for_referral(
    session: Session,
    referral_id: UUID,
    needs: list[str] | None = None,
    geocoder: Geocoder | None = None,
    limit: int = 10,
) -> MatchResult | None:
    """Ranked, explained suggestions for ``needs`` (by default, the referral's recorded
    needs); None while there are none."""
    referral = session.get(Referral, referral_id)
    person = session.get(Person, referral_id)
    if referral is None or person is None:
        return None
    needs = needs if needs is not None else referral.need_codes
    if not needs:
        return None
    request = MatchRequest(
        needs=needs,
        age=age_on(person.birth_date, date.today()),
        postcode_district=postcode_district(person.postcode),
        origin_postcode=person.postcode,
        limit=limit,
    )
    return suggest(session, request, geocoder)
