"""The names of the people referred, for lists that would otherwise show only references."""

from collections.abc import Iterable
from uuid import UUID

from sqlmodel import Session, col, select

from domain.tables import Person


def names_of(session: Session, referral_ids: Iterable[UUID]) -> dict[UUID, str]:
    """``{referral id: "Given Family"}`` in one query. Only for referrals the caller was
    already allowed to list (and whose reading is logged)."""
    wanted = list(referral_ids)
    if not wanted:
        return {}
    rows = session.exec(
        select(Person.referral_id, Person.given_name, Person.family_name).where(
            col(Person.referral_id).in_(wanted)
        )
    ).all()
    return {referral_id: f"{given} {family}" for referral_id, given, family in rows}
