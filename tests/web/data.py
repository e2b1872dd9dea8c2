"""Rows the read-only pages show, written straight to the database (no Temporal needed)."""

from datetime import UTC, date, datetime, timedelta
from uuid import UUID, uuid4

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from catalogue.demo import load_demo_directory
from catalogue.tables import Service
from domain.enums import AssigneeKind, ReferralStatus, ServiceReferralStatus, TaskKind
from domain.tables import Person, Referral, ServiceReferral, Task


def a_referral(
    engine: Engine,
    practice_ods: str,
    given_name: str,
    family_name: str,
    link_worker_id: str | None = "lw-amira",
) -> UUID:
    referral_id = uuid4()
    with Session(engine) as session:
        session.add(
            Referral(
                id=referral_id,
                practice_ods=practice_ods,
                status=ReferralStatus.CONTACTING if link_worker_id else ReferralStatus.RECEIVED,
                link_worker_id=link_worker_id,
                need_codes=["loneliness"],
            )
        )
        session.flush()
        session.add(
            Person(
                referral_id=referral_id,
                nhs_number="9434765919",
                given_name=given_name,
                family_name=family_name,
                birth_date=date(1950, 3, 14),
                postcode="MB1 2AB",
                reason="Lives alone since her husband died and rarely goes out.",
            )
        )
        session.commit()
    return referral_id


def a_task(engine: Engine, referral_id: UUID, kind: TaskKind, due_in: timedelta) -> None:
    with Session(engine) as session:
        session.add(
            Task(
                referral_id=referral_id,
                step_key=f"test-{uuid4()}",
                kind=kind,
                assignee_kind=AssigneeKind.LINK_WORKER,
                assignee_id="lw-amira",
                due_at=datetime.now(UTC) + due_in,
            )
        )
        session.commit()


def a_service_referral(
    engine: Engine,
    referral_id: UUID,
    organisation_id: str,
    status: ServiceReferralStatus = ServiceReferralStatus.PENDING,
    sent_ago: timedelta = timedelta(days=1),
    respond_in: timedelta = timedelta(days=13),
) -> UUID:
    """A referral to the first of the organisation's demo services, sent ``sent_ago``, to be
    answered within ``respond_in`` from now."""
    service_referral_id = uuid4()
    with Session(engine) as session:
        load_demo_directory(session)
        service_id = session.exec(
            select(Service.id)
            .where(col(Service.organization_id) == organisation_id)
            .order_by(col(Service.id))
        ).first()
        assert service_id is not None, f"no service of {organisation_id} in the demo directory"
        now = datetime.now(UTC)
        session.add(
            ServiceReferral(
                id=service_referral_id,
                referral_id=referral_id,
                service_id=service_id,
                organisation_id=organisation_id,
                status=status,
                sent_at=now - sent_ago,
                respond_by=now + respond_in,
            )
        )
        session.commit()
    return service_referral_id
