"""Idempotency records age out: a key older than ``keep_for`` counts as new, and old records
are pruned. A claim whose lease lapsed with no answer is taken over with its referral id; a
live claim is not."""

from datetime import timedelta
from uuid import UUID

from sqlmodel import Session, col, select

from api.idempotency import StoredResponse, once, prune
from api.principal import Principal
from core.settings import IdempotencySettings
from domain.enums import OrganisationKind
from domain.tables import IdempotencyRecord, utcnow

CALLER = Principal(
    subject="practice-A81001", organisation_kind=OrganisationKind.PRACTICE, organisation_id="A81001"
)
RULES = IdempotencySettings(claim_lease=timedelta(seconds=30), keep_for=timedelta(hours=24))


class Recorder:
    def __init__(self) -> None:
        self.ids: list[UUID] = []

    async def __call__(self, referral_id: UUID) -> StoredResponse:
        self.ids.append(referral_id)
        return StoredResponse(201, {"id": str(referral_id)}, "application/json")


def age(session: Session, **moved_back: timedelta) -> None:
    """Move the one record's times into the past, as if time had passed."""
    record = session.exec(select(IdempotencyRecord)).one()
    for field, by in moved_back.items():
        setattr(record, field, getattr(record, field) - by)
    session.add(record)
    session.commit()


async def test_a_key_older_than_keep_for_counts_as_new(session: Session) -> None:
    work = Recorder()
    first = await once(session, CALLER, "key-1", "hash-a", RULES, work)
    assert await once(session, CALLER, "key-1", "hash-a", RULES, work) == first
    assert len(work.ids) == 1, "within keep_for the stored answer comes back"

    age(session, created_at=RULES.keep_for + timedelta(seconds=1))
    # Even with another request: the old one is forgotten, not compared.
    fresh = await once(session, CALLER, "key-1", "hash-b", RULES, work)

    assert len(work.ids) == 2 and work.ids[0] != work.ids[1]
    assert fresh.body == {"id": str(work.ids[1])}
    assert len(session.exec(select(IdempotencyRecord)).all()) == 1


async def test_a_lapsed_claim_is_taken_over_with_its_referral_id(session: Session) -> None:
    record = IdempotencyRecord(
        caller="practice:A81001:practice-A81001",
        key="key-2",
        request_hash="hash-a",
        claim_id=UUID(int=7),
        claimed_until=utcnow() - timedelta(seconds=1),
    )
    session.add(record)
    session.commit()
    work = Recorder()

    answer = await once(session, CALLER, "key-2", "hash-a", RULES, work)

    assert work.ids == [UUID(int=7)]
    assert answer.body == {"id": str(UUID(int=7))}
    stored = session.exec(select(IdempotencyRecord)).one()
    session.refresh(stored)
    assert (stored.status_code, stored.claimed_until) == (201, None)


def test_old_records_are_pruned_and_recent_ones_kept(session: Session) -> None:
    now = utcnow()
    for key, made in (("old", now - timedelta(days=2)), ("recent", now - timedelta(hours=1))):
        session.add(IdempotencyRecord(caller="c", key=key, request_hash="h", created_at=made))
    session.commit()

    assert prune(session, now - RULES.keep_for) == 1

    kept = session.exec(select(IdempotencyRecord.key).order_by(col(IdempotencyRecord.key))).all()
    assert kept == ["recent"]
