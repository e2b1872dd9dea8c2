"""apply_projection on its own: the notes a step carries, and what its timeline entry says."""

from datetime import UTC, datetime
from typing import Any
from uuid import UUID, uuid4

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from activities.read_model import ReadModelActivities, timeline_detail
from domain.enums import (
    ActorKind,
    ClosureReason,
    ContactMethod,
    ProjectionAction,
    ReferralStatus,
)
from domain.messages import Actor, Projection
from domain.tables import AuditEvent, Referral, ReferralNote
from socialrx.demo import load_demo_people

LINK_WORKER = Actor(kind=ActorKind.LINK_WORKER, id="lw-amira")


def new_referral(engine: Engine) -> UUID:
    with Session(engine) as session:
        load_demo_people(session)
        referral = Referral(practice_ods="A81001", link_worker_id=LINK_WORKER.id)
        session.add(referral)
        session.commit()
        return referral.id


def new_note(engine: Engine, referral_id: UUID, step_key: str | None = None) -> int:
    with Session(engine) as session:
        note = ReferralNote(
            referral_id=referral_id,
            kind="note",
            text="Tried the mobile",
            author_id=LINK_WORKER.id,
            step_key=step_key,
        )
        session.add(note)
        session.commit()
        assert note.id is not None
        return note.id


def step(referral_id: UUID, action: ProjectionAction, **fields: Any) -> Projection:
    return Projection(
        referral_id=referral_id,
        step_key=f"003-{action}",
        at=datetime.now(UTC),
        actor=LINK_WORKER,
        action=action,
        status=fields.pop("status", ReferralStatus.CONTACTING),
        link_worker_id=LINK_WORKER.id,
        **fields,
    )


def note_steps(engine: Engine, *note_ids: int) -> list[str | None]:
    with Session(engine) as session:
        notes = {
            note.id: note.step_key
            for note in session.exec(select(ReferralNote).where(col(ReferralNote.id).in_(note_ids)))
        }
    return [notes[note_id] for note_id in note_ids]


def test_a_step_shows_its_own_hidden_notes_only(engine: Engine) -> None:
    referral_id, other_referral_id = new_referral(engine), new_referral(engine)
    carried, not_carried = new_note(engine, referral_id), new_note(engine, referral_id)
    of_another_referral = new_note(engine, other_referral_id)
    of_an_earlier_step = new_note(engine, referral_id, step_key="002-contact_attempted")
    attempt = step(
        referral_id,
        ProjectionAction.CONTACT_ATTEMPTED,
        contact_method=ContactMethod.PHONE,
        reached=False,
        note_ids=[carried, of_another_referral, of_an_earlier_step],
    )

    ReadModelActivities(engine).apply_projection(attempt)
    ReadModelActivities(engine).apply_projection(attempt)  # a retry changes nothing

    assert note_steps(engine, carried, not_carried, of_another_referral, of_an_earlier_step) == [
        "003-contact_attempted",
        None,
        None,
        "002-contact_attempted",
    ]


def test_the_timeline_entry_says_what_the_step_was_about(engine: Engine) -> None:
    referral_id = new_referral(engine)
    attempt = step(
        referral_id, ProjectionAction.CONTACT_ATTEMPTED, contact_method="text", reached=True
    )

    ReadModelActivities(engine).apply_projection(attempt)

    with Session(engine) as session:
        (event,) = session.exec(select(AuditEvent).where(AuditEvent.referral_id == referral_id))
    assert (event.action, event.detail) == (
        "contact_attempted",
        {"status": "contacting", "method": "text", "reached": True},
    )


def test_timeline_words_of_each_kind_of_step() -> None:
    referral_id, service_referral_id = uuid4(), uuid4()
    cases: list[tuple[Projection, dict[str, Any]]] = [
        (
            step(referral_id, ProjectionAction.REASSIGNED, previous_link_worker_id="lw-ben"),
            {"from": "lw-ben"},
        ),
        (
            step(referral_id, ProjectionAction.ASSESSED, suggested_service_ids=["svc-a", "svc-b"]),
            {"suggested": "svc-a,svc-b"},
        ),
        (
            step(
                referral_id,
                ProjectionAction.CONNECTED,
                chosen_service_ids=["svc-b", "svc-c"],
                suggested_service_ids=["svc-a", "svc-b"],
            ),
            {"services": "svc-b,svc-c", "suggested": "svc-b"},
        ),
        (
            step(
                referral_id,
                ProjectionAction.ORGANISATION_ACCEPTED,
                service_referral_id=service_referral_id,
            ),
            {"service_referral_id": str(service_referral_id), "reason_code": None},
        ),
        (
            step(
                referral_id,
                ProjectionAction.ORGANISATION_DECLINED,
                service_referral_id=service_referral_id,
                reason_code="no_capacity",
            ),
            {"service_referral_id": str(service_referral_id), "reason_code": "no_capacity"},
        ),
        (
            step(
                referral_id,
                ProjectionAction.UPTAKE_CONFIRMED,
                service_referral_id=service_referral_id,
            ),
            {"service_referral_id": str(service_referral_id)},
        ),
        (step(referral_id, ProjectionAction.CHECKPOINT_MISSED, checkpoint=2), {"checkpoint": 2}),
        (
            step(
                referral_id,
                ProjectionAction.CLOSED,
                status=ReferralStatus.CLOSED,
                closure_reason=ClosureReason.DECLINED,
                person_accepted=False,
            ),
            {"closure_reason": "declined", "person_accepted": False},
        ),
        (step(referral_id, ProjectionAction.FIRST_CONTACT_OVERDUE), {}),
    ]
    for projection, words in cases:
        assert timeline_detail(projection) == {"status": projection.status.value, **words}
