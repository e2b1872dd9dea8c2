"""GP practices' pages. For now: "Your referrals" and a referral, read only."""

from uuid import UUID

from fastapi import APIRouter, Request, Response
from sqlmodel import col, select

from api.access import PRACTICE
from api.web.pages import PageAccess, PageRoute, role_or_404
from api.web.templating import render
from api.web.words import REFERRAL_STATUS
from domain.tables import LinkWorker, Person, Referral

router = APIRouter(route_class=PageRoute, include_in_schema=False)

LATEST = 50


@router.get("/practice/referrals")
def your_referrals(request: Request, access: PageAccess) -> Response:
    role_or_404(access, PRACTICE)
    found = access.session.exec(
        select(Referral, Person.given_name, Person.family_name, LinkWorker.name)
        .join(Person, col(Person.referral_id) == col(Referral.id))
        .outerjoin(LinkWorker, col(LinkWorker.id) == col(Referral.link_worker_id))
        .where(Referral.practice_ods == access.principal.organisation_id)
        .order_by(col(Referral.created_at).desc(), col(Referral.id))
        .limit(LATEST)
    ).all()
    access.log_all(referral.id for referral, *_ in found)
    rows = [
        {
            "referral": referral,
            "person": f"{given} {family}",
            "link_worker": link_worker or "",
            "status": REFERRAL_STATUS[referral.status],
        }
        for referral, given, family, link_worker in found
    ]
    return render(
        request, "practice/referrals.html", title="Your referrals", rows=rows, latest=LATEST
    )


@router.get("/practice/referrals/{referral_id}")
def referral_page(request: Request, referral_id: UUID, access: PageAccess) -> Response:
    role_or_404(access, PRACTICE)
    # Another practice's referral answers 404, as in GET /referrals/{id}; the read is logged.
    referral = access.visible_referral_or_404(referral_id)
    person = access.session.get(Person, referral_id)
    link_worker = (
        access.session.get(LinkWorker, referral.link_worker_id) if referral.link_worker_id else None
    )
    return render(
        request,
        "practice/referral.html",
        title=f"Referral for {person.given_name} {person.family_name}" if person else "Referral",
        referral=referral,
        person=person,
        link_worker=link_worker,
        status=REFERRAL_STATUS[referral.status],
    )
