"""``/service-referrals``: a referral to one community service, as its organisation sees
it, and the organisation's steps (accept or decline, confirm uptake)."""

from functools import partial
from uuid import UUID

from fastapi import APIRouter

from api.access import AccessDep
from api.consent import organisation_view
from api.deps import SessionDep
from api.errors import STEP, VISIBLE
from api.schemas import (
    OrganisationResponseIn,
    ReferralStateForOrganisation,
    ServiceReferralForOrganisation,
    UptakeIn,
)
from api.steps import StepsDep

router = APIRouter(prefix="/service-referrals", tags=["service referrals"])
step = partial(router.post, response_model=ReferralStateForOrganisation, responses=STEP)


@router.get(
    "/{service_referral_id}",
    response_model=ServiceReferralForOrganisation,
    responses=VISIBLE,
    summary="A referral to one of your services: how to reach the person, and what consent allows",
)
def get_service_referral(
    service_referral_id: UUID, session: SessionDep, access: AccessDep
) -> ServiceReferralForOrganisation:
    # Someone else's referral answers 404, as if it did not exist; the read is logged.
    service_referral = access.own_service_referral_or_404(service_referral_id)
    return organisation_view(session, service_referral)


@step(
    "/{service_referral_id}/response",
    summary="Accept or decline a referral to one of your services",
)
async def respond(
    service_referral_id: UUID, response: OrganisationResponseIn, steps: StepsDep
) -> ReferralStateForOrganisation:
    return await steps.respond(service_referral_id, response)


@step("/{service_referral_id}/uptake", summary="Confirm that the person started, or did not attend")
async def confirm_uptake(
    service_referral_id: UUID, uptake: UptakeIn, steps: StepsDep
) -> ReferralStateForOrganisation:
    return await steps.confirm_uptake(service_referral_id, uptake)
