"""What consent lets a caller see of a referral: the organisation's views of a referral to one
of its services (and of the state its own steps answer with), and the practice's view when
only codes may go back to the GP."""

from uuid import UUID

from sqlmodel import Session

from api.access import PRACTICE, Access
from api.schemas import (
    ContactDetails,
    ReferralDetail,
    ReferralProgress,
    ReferralStateForOrganisation,
    ServiceReferralForOrganisation,
)
from domain.consent import (
    WITHHELD,
    codes_only_detail,
    for_organisation,
    organisation_may_reach,
    outcome_details_for_gp,
    shares_reason_with_organisations,
)
from domain.enums import ActorKind, AssigneeKind
from domain.messages import ReferralState
from domain.tables import Consent, Person, Referral, ServiceReferral

ORGANISATION_ACTOR = ActorKind.ORGANISATION.value


def organisation_view(
    session: Session, service_referral: ServiceReferral
) -> ServiceReferralForOrganisation:
    """``GET /service-referrals/{id}`` and the organisation's page of it: how to reach the
    person while the organisation may (``organisation_may_reach``), else the status only."""
    referral = session.get(Referral, service_referral.referral_id)
    assert referral is not None, "service referrals follow their referral"
    view = ServiceReferralForOrganisation(
        id=service_referral.id,
        service_id=service_referral.service_id,
        organisation_id=service_referral.organisation_id,
        status=service_referral.status,
        sent_at=service_referral.sent_at,
        respond_by=service_referral.respond_by,
        person=None,
        reason=None,
        need_codes=[],
    )
    if not organisation_may_reach(service_referral.status, referral.closure_reason):
        return view
    person = session.get(Person, service_referral.referral_id)
    assert person is not None, "a referral's person is written with it"
    shared = for_organisation(person, session.get(Consent, referral.id), referral.need_codes)
    return view.model_copy(
        update={
            "person": ContactDetails.model_validate(shared["person"]),
            "reason": shared["reason"],
            "need_codes": shared["need_codes"],
        }
    )


def state_for_organisation(access: Access, state: ReferralState) -> ReferralStateForOrganisation:
    """The state an organisation's own step answers with: the minimum it needs (a database
    read, for the consent: call it in a worker thread).

    Its own service referrals only (the person may have been referred to other organisations
    too, which it must not learn), and none of the link worker's work: no contact attempts,
    no services suggested, no link worker or team lead, no first-contact deadline. The need
    codes are there as in ``GET /service-referrals/{id}``: only while the organisation may
    reach the person and if the person agreed to share the reason; the GP's reason in words
    is never in the state.
    """
    organisation_id = access.principal.organisation_id
    own = [s for s in state.service_referrals if s.organisation_id == organisation_id]
    reachable = any(organisation_may_reach(s.status, state.closure_reason) for s in own)
    shared = reachable and shares_reason_with_organisations(
        access.session.get(Consent, state.referral_id)
    )
    return ReferralStateForOrganisation(
        referral_id=state.referral_id,
        status=state.status,
        closure_reason=state.closure_reason,
        need_codes=state.need_codes if shared else [],
        service_referrals=own,
        first_uptake_at=state.first_uptake_at,
        checkpoints=state.checkpoints,
    )


# --- the practice's view ----------------------------------------------------------------
#
# A person may agree that only codes go back to their GP (``outcome_to_gp=codes_only``). The
# practice then sees the status, the closure reason and the codes of its referral, in every
# view it gets (``GET /referrals/{id}``, the state a step answers, the FHIR Task), but not
# which services or organisations were involved, nor the measures. Link workers, who run the
# referral, always see everything.


def withholds_outcome_details(access: Access, referral_id: UUID) -> bool:
    """Whether this caller is a practice that may see only the codes of this referral."""
    if not access.principal.is_a(PRACTICE):
        return False
    return not outcome_details_for_gp(access.session.get(Consent, referral_id))


def progress_of(state: ReferralState) -> ReferralProgress:
    """The workflow's state as the public API shows it."""
    return ReferralProgress.model_validate(state, from_attributes=True)


def state_for(access: Access, state: ReferralState) -> ReferralProgress:
    """The workflow's state, as this caller may see it (a database read for a practice)."""
    progress = progress_of(state)
    if not withholds_outcome_details(access, state.referral_id):
        return progress
    return _codes_only_state(progress)


def detail_for(access: Access, detail: ReferralDetail) -> ReferralDetail:
    """``GET /referrals/{id}``, as this caller may see it."""
    if not withholds_outcome_details(access, detail.id):
        return detail
    service_referral_ids = {str(s.id) for s in detail.service_referrals}
    tasks = [
        # A link worker's task about a service referral (choose another service) stays, but
        # not which service referral it was about.
        task.model_copy(update={"subject_id": None})
        if task.subject_id in service_referral_ids
        else task
        for task in detail.tasks
        if task.assignee_kind != AssigneeKind.ORGANISATION
    ]
    timeline = [
        entry.model_copy(
            update={
                "actor_id": WITHHELD if entry.actor_kind == ORGANISATION_ACTOR else entry.actor_id,
                "detail": codes_only_detail(entry.detail),
            }
        )
        for entry in detail.timeline
    ]
    return detail.model_copy(
        update={
            "state": _codes_only_state(detail.state) if detail.state is not None else None,
            "tasks": tasks,
            "service_referrals": [],
            "timeline": timeline,
            "outcome": None,
        }
    )


def _codes_only_state(state: ReferralProgress) -> ReferralProgress:
    return state.model_copy(update={"service_referrals": [], "suggested_service_ids": []})
