"""Voluntary organisations' pages: "Referrals to you", one referral to a service with its
answers (accept or decline, then started or did not attend), and "Your services" with their
capacity.

The answers call the one step service (``api.steps.Steps``) as the JSON routes
``POST /service-referrals/{id}/response`` and ``.../uptake`` do; the page of a referral shows
``api.consent.organisation_view``, the data of ``GET /service-referrals/{id}``. The same
forms serve the signed action links of organisation emails (``api.web.action_links``).
"""

import math
from datetime import datetime
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Form, HTTPException, Query, Request, Response, status
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse
from pydantic import ValidationError
from sqlmodel import Session, col, select

from api.access import ORGANISATION, Access, forbidden
from api.consent import organisation_view
from api.errors import Refused
from api.paging import Window
from api.routes.organisations import service_referrals_of
from api.schemas import OrganisationResponseIn, UptakeIn
from api.steps import Steps
from api.web.pages import PageAccess, PageRoute, role_or_404
from api.web.templating import render
from api.web.words import LONDON, SERVICE_REFERRAL_STATUS, due_tag
from catalogue.tables import Service, ServiceCapacity
from catalogue.updates import CapacityStatusUpdate, ServiceStatus, update_capacity_and_status
from domain.enums import ServiceReferralStatus

router = APIRouter(route_class=PageRoute, include_in_schema=False)

PER_PAGE = 25
DUE_SOON_DAYS = 2

DECLINE_REASONS: dict[str, str] = {
    "no_capacity": "We have no places free",
    "not_eligible": "The person is not eligible for this service",
    "not_suitable": "The service is not suitable for what the person needs",
    "cannot_contact": "We could not reach the person",
    "other": "Another reason",
}
"""The reason codes an organisation declines with (``OrganisationResponseIn.reason_code``),
each with the words the page shows. The workflow records the code only."""

ANSWER_BANNERS = {
    "accepted": "You accepted the referral",
    "declined": "You declined the referral",
    "started": "You said the person started",
    "did_not_attend": "You said the person did not attend",
}

SERVICE_STATUS_WORDS = {
    ServiceStatus.ACTIVE: "Open",
    ServiceStatus.TEMPORARILY_CLOSED: "Closed for now",
    ServiceStatus.INACTIVE: "Not running",
    ServiceStatus.DEFUNCT: "Closed for good",
}


def reply_tag(respond_by: datetime, now: datetime) -> dict[str, str] | None:
    """Overdue, due today, or due soon (within two days): what a pending referral's reply
    date needs to say at a glance."""
    tag = due_tag(respond_by, now, now.date())
    if tag is not None:
        return {"text": tag.text, "classes": tag.classes}
    if (respond_by - now).total_seconds() < DUE_SOON_DAYS * 86400:
        return {"text": "Due soon", "classes": "nhsuk-tag--yellow"}
    return None


@router.get("/organisation/referrals")
def referrals_to_you(
    request: Request, access: PageAccess, page: Annotated[int, Query(ge=1)] = 1
) -> Response:
    role_or_404(access, ORGANISATION)
    session = access.session
    organisation_id = access.principal.organisation_id
    # Asked first: the list's access log commits, which gives the connection back to the
    # pool, and a query after it would take one again (a ping and a round trip more).
    service_names = _service_names(session, organisation_id)
    # The JSON API's own list (GET /organisations/{id}/service-referrals): the same rows in
    # the same order, a page at a time, with the same access log.
    listed = service_referrals_of(
        session, access, organisation_id, None, Window(PER_PAGE, (page - 1) * PER_PAGE)
    )
    pages = max(1, math.ceil(listed.total / PER_PAGE))
    if page > pages:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "Not Found")
    shown = listed.items
    now = datetime.now(LONDON)
    rows = [
        {
            "referral": row,
            "service": service_names.get(row.service_id, row.service_id),
            "status": SERVICE_REFERRAL_STATUS[row.status],
            "reply_tag": reply_tag(row.respond_by, now)
            if row.status is ServiceReferralStatus.PENDING
            else None,
        }
        for row in shown
    ]
    return render(
        request,
        "organisation/referrals.html",
        title="Referrals to you",
        rows=rows,
        page=page,
        pages=pages,
    )


def _service_names(session: Session, organisation_id: str) -> dict[str, str]:
    """The names of the organisation's services (a handful), by id."""
    return dict(
        session.exec(
            select(Service.id, Service.name).where(Service.organization_id == organisation_id)
        ).all()
    )


def service_referral_page(
    request: Request,
    access: Access,
    service_referral_id: UUID,
    *,
    action_base: str,
    form_token: str | None = None,
    errors: dict[str, str] | None = None,
    banner: str | None = None,
    status_code: int = 200,
) -> Response:
    """One referral to a service as its organisation sees it, with the answers possible now.
    A foreign one answers 404 (``Access``), as ``GET /service-referrals/{id}`` does. The
    forms post to ``action_base``, with ``form_token`` for a page reached without a cookie."""
    session = access.session
    service_referral = access.own_service_referral_or_404(service_referral_id)
    view = organisation_view(session, service_referral)
    session.commit()  # the access log entry
    service = session.get(Service, view.service_id)
    return render(
        request,
        "organisation/service_referral.html",
        status_code=status_code,
        title=f"Referral for {service.name if service else view.service_id}",
        view=view,
        status=SERVICE_REFERRAL_STATUS[view.status],
        reply_tag=reply_tag(view.respond_by, datetime.now(LONDON))
        if view.status is ServiceReferralStatus.PENDING
        else None,
        action_base=action_base,
        decline_reasons=DECLINE_REASONS,
        errors=errors,
        banner=banner,
        form_token=form_token,
    )


@router.get("/organisation/service-referrals/{service_referral_id}")
def service_referral(
    request: Request,
    access: PageAccess,
    service_referral_id: UUID,
    answered: str | None = None,
) -> Response:
    role_or_404(access, ORGANISATION)
    return service_referral_page(
        request,
        access,
        service_referral_id,
        action_base=f"/organisation/service-referrals/{service_referral_id}",
        banner=ANSWER_BANNERS.get(answered or ""),
    )


class AnswerProblem(Exception):
    """A form that cannot be sent as it is: the field at fault and what to do."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


def response_from_form(answer: str | None, reason_code: str | None) -> OrganisationResponseIn:
    if answer not in ("accept", "decline"):
        raise AnswerProblem("answer", "Select whether you accept or decline the referral")
    if answer == "accept":
        return OrganisationResponseIn(accepted=True)
    if reason_code not in DECLINE_REASONS:
        raise AnswerProblem("reason_code", "Select why you are declining the referral")
    return OrganisationResponseIn(accepted=False, reason_code=reason_code)


def uptake_from_form(started: str | None) -> UptakeIn:
    if started not in ("yes", "no"):
        raise AnswerProblem("started", "Select whether the person started")
    return UptakeIn(started=started == "yes")


async def give_answer(
    steps: Steps, service_referral_id: UUID, action: str, form: dict[str, str | None]
) -> str:
    """Perform the answer ``action`` ("response" or "uptake") from the form's fields; the
    banner key of what was done. Raises ``AnswerProblem`` or ``Refused``."""
    if action == "response":
        response = response_from_form(form.get("answer"), form.get("reason_code"))
        await steps.respond(service_referral_id, response)
        return "accepted" if response.accepted else "declined"
    if action == "uptake":
        uptake = uptake_from_form(form.get("started"))
        await steps.confirm_uptake(service_referral_id, uptake)
        return "started" if uptake.started else "did_not_attend"
    raise HTTPException(status.HTTP_404_NOT_FOUND, "Not Found")


def problem_field(error: Refused | AnswerProblem, action: str) -> str:
    """The id of the field the error summary links to: the form's first field, unless the
    refusal names one of ours."""
    field = getattr(error, "field", None)
    if field in ("answer", "reason_code", "started"):
        return str(field)
    return "answer" if action == "response" else "started"


@router.post("/organisation/service-referrals/{service_referral_id}/{action}")
async def answer_service_referral(
    request: Request,
    access: PageAccess,
    service_referral_id: UUID,
    action: str,
    answer: Annotated[str | None, Form()] = None,
    reason_code: Annotated[str | None, Form()] = None,
    started: Annotated[str | None, Form()] = None,
) -> Response:
    role_or_404(access, ORGANISATION)
    steps = Steps(access, request.app.state.temporal)
    form = {"answer": answer, "reason_code": reason_code, "started": started}
    try:
        done = await give_answer(steps, service_referral_id, action, form)
    except (AnswerProblem, Refused) as error:
        if isinstance(error, Refused) and error.status_code == status.HTTP_404_NOT_FOUND:
            raise HTTPException(status.HTTP_404_NOT_FOUND, "Not Found") from None
        message = error.message
        code = 422 if isinstance(error, AnswerProblem) else error.status_code
        return await run_in_threadpool(
            service_referral_page,
            request,
            access,
            service_referral_id,
            action_base=f"/organisation/service-referrals/{service_referral_id}",
            errors={problem_field(error, action): message},
            status_code=code,
        )
    return RedirectResponse(
        f"/organisation/service-referrals/{service_referral_id}?answered={done}",
        status.HTTP_303_SEE_OTHER,
    )


# --- your services ----------------------------------------------------------------------


def _services_of(session: Session, organisation_id: str) -> list[dict[str, object]]:
    services = session.exec(
        select(Service).where(Service.organization_id == organisation_id).order_by(Service.name)
    ).all()
    capacities: dict[str, ServiceCapacity] = {}
    for capacity in session.exec(
        select(ServiceCapacity)
        .where(col(ServiceCapacity.service_id).in_([service.id for service in services]))
        .order_by(col(ServiceCapacity.position).desc())
    ).all():
        capacities[capacity.service_id] = capacity  # the first by position wins, as updates
    return [
        {
            "service": service,
            "capacity": capacities.get(service.id),
            "status_words": SERVICE_STATUS_WORDS.get(
                ServiceStatus(service.status)
                if service.status in set(ServiceStatus)
                else ServiceStatus.ACTIVE,
                service.status,
            ),
        }
        for service in services
    ]


def services_page(
    request: Request,
    access: Access,
    *,
    errors: dict[str, str] | None = None,
    entered: dict[str, str] | None = None,
    banner: str | None = None,
    status_code: int = 200,
) -> Response:
    return render(
        request,
        "organisation/services.html",
        status_code=status_code,
        title="Your services",
        services=_services_of(access.session, access.principal.organisation_id),
        statuses=SERVICE_STATUS_WORDS,
        errors=errors,
        entered=entered or {},
        banner=banner,
    )


@router.get("/organisation/services")
def your_services(request: Request, access: PageAccess, saved: str | None = None) -> Response:
    role_or_404(access, ORGANISATION)
    return services_page(
        request, access, banner="Your service was updated" if saved is not None else None
    )


CAPACITY_FIELDS = {"available": "places free", "maximum": "places in all"}


@router.post("/organisation/services/{service_id}")
def update_service(
    request: Request,
    access: PageAccess,
    service_id: str,
    service_status: Annotated[str | None, Form(alias="status")] = None,
    available: Annotated[str | None, Form()] = None,
    maximum: Annotated[str | None, Form()] = None,
    waiting_list: Annotated[str | None, Form()] = None,
) -> Response:
    """The capacity update of ``PATCH /services/{id}/capacity-status``: the same model, the
    same rule (only the organisation that runs the service), the same audit."""
    role_or_404(access, ORGANISATION)
    session = access.session
    service = session.get(Service, service_id)
    if service is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "Not Found")
    if service.organization_id != access.principal.organisation_id:
        raise forbidden("Only the organisation that runs this service may update it.")
    entered = {
        "status": service_status or "",
        "available": (available or "").strip(),
        "maximum": (maximum or "").strip(),
        "waiting_list": waiting_list or "",
    }
    fields: dict[str, object] = {
        name: value for name, value in entered.items() if value and name != "waiting_list"
    }
    if waiting_list in ("yes", "no"):
        fields["waiting_list"] = waiting_list == "yes"
    errors: dict[str, str] = {}
    try:
        update = CapacityStatusUpdate.model_validate(fields)
    except ValidationError as error:
        for issue in error.errors():
            if not issue["loc"]:
                errors[f"status-{service_id}"] = "Change at least one thing about the service"
                continue
            name = str(issue["loc"][0])
            words = CAPACITY_FIELDS.get(name, name.replace("_", " "))
            errors.setdefault(
                f"{name}-{service_id}",
                f"Enter the number of {words} as a whole number, 0 or more"
                if name in CAPACITY_FIELDS
                else f"Enter a valid {words}",
            )
    if errors:
        session.rollback()
        return services_page(
            request,
            access,
            errors=errors,
            entered={f"{name}-{service_id}": value for name, value in entered.items()},
            status_code=status.HTTP_422_UNPROCESSABLE_ENTITY,
        )
    update_capacity_and_status(session, service_id, update, access.principal.actor)
    session.commit()
    return RedirectResponse("/organisation/services?saved", status.HTTP_303_SEE_OTHER)
