"""What community organisations do: answer referrals to their services, confirm uptake."""

from uuid import UUID

from fastapi import APIRouter, Query
from sqlmodel import col, select

from api.access import AccessDep
from api.consent import organisation_view, state_for_organisation
from api.deps import SessionDep, TemporalDep
from api.schemas import (
    OrganisationResponseIn,
    ReferralStateForOrganisation,
    ServiceReferralForOrganisation,
    ServiceReferralOut,
    TaskOut,
    UptakeIn,
)
from api.steps import run_step
from domain.enums import AssigneeKind, ReferralUpdate, ServiceReferralStatus, TaskStatus
from domain.messages import OrganisationResponse, UptakeConfirmation
from domain.tables import ServiceReferral, Task

router = APIRouter(tags=["organisations"])


@router.get(
    "/organisations/{organisation_id}/service-referrals",
    response_model=list[ServiceReferralOut],
    summary="Referrals sent to this organisation's services",
)
def list_service_referrals(
    organisation_id: str,
    session: SessionDep,
    access: AccessDep,
    referral_status: ServiceReferralStatus | None = Query(default=None, alias="status"),
) -> list[ServiceReferralOut]:
    access.own_organisation_or_404(organisation_id)
    query = select(ServiceReferral).where(ServiceReferral.organisation_id == organisation_id)
    if referral_status is not None:
        query = query.where(ServiceReferral.status == referral_status)
    rows = session.exec(query.order_by(col(ServiceReferral.sent_at))).all()
    access.log_all(row.referral_id for row in rows)
    return [ServiceReferralOut.model_validate(row, from_attributes=True) for row in rows]


@router.get(
    "/organisations/{organisation_id}/tasks",
    response_model=list[TaskOut],
    summary="This organisation's open tasks, soonest due first",
)
def list_organisation_tasks(
    organisation_id: str, session: SessionDep, access: AccessDep
) -> list[TaskOut]:
    access.own_organisation_or_404(organisation_id)
    tasks = session.exec(
        select(Task)
        .where(Task.assignee_kind == AssigneeKind.ORGANISATION)
        .where(Task.assignee_id == organisation_id)
        .where(Task.status == TaskStatus.OPEN)
        .order_by(col(Task.due_at).is_(None), col(Task.due_at), col(Task.id))
    ).all()
    access.log_all(task.referral_id for task in tasks)
    return [TaskOut.model_validate(task, from_attributes=True) for task in tasks]


@router.get(
    "/service-referrals/{service_referral_id}",
    response_model=ServiceReferralForOrganisation,
    summary="A referral to one of your services: how to reach the person, and what consent allows",
)
def get_service_referral(
    service_referral_id: UUID, session: SessionDep, access: AccessDep
) -> ServiceReferralForOrganisation:
    # Someone else's referral answers 404, as if it did not exist; the read is logged.
    service_referral = access.own_service_referral_or_404(service_referral_id)
    return organisation_view(session, service_referral)


@router.post(
    "/service-referrals/{service_referral_id}/response",
    response_model=ReferralStateForOrganisation,
    summary="Accept or decline a referral to one of your services",
)
async def respond(
    service_referral_id: UUID,
    response: OrganisationResponseIn,
    session: SessionDep,
    temporal: TemporalDep,
    access: AccessDep,
) -> ReferralStateForOrganisation:
    service_referral = await access.own_service_referral(service_referral_id)
    state = await run_step(
        temporal,
        session,
        service_referral.referral_id,
        ReferralUpdate.RESPOND_TO_REFERRAL,
        OrganisationResponse(
            actor=access.principal.actor,
            service_referral_id=service_referral_id,
            accepted=response.accepted,
            reason_code=response.reason_code,
        ),
    )
    # Its own service referrals only, none of the link worker's work: see the consent module.
    return state_for_organisation(access, state)


@router.post(
    "/service-referrals/{service_referral_id}/uptake",
    response_model=ReferralStateForOrganisation,
    summary="Confirm that the person started, or did not attend",
)
async def confirm_uptake(
    service_referral_id: UUID,
    uptake: UptakeIn,
    session: SessionDep,
    temporal: TemporalDep,
    access: AccessDep,
) -> ReferralStateForOrganisation:
    service_referral = await access.own_service_referral(service_referral_id)
    state = await run_step(
        temporal,
        session,
        service_referral.referral_id,
        ReferralUpdate.CONFIRM_UPTAKE,
        UptakeConfirmation(
            actor=access.principal.actor,
            service_referral_id=service_referral_id,
            started=uptake.started,
        ),
    )
    return state_for_organisation(access, state)
