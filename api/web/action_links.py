"""``/act/{token}``: the signed action link in an organisation's email answers one service
referral without signing in (issue 11).

The session cookie is SameSite=Strict, so a link followed from webmail arrives without it:
the token carries the authority (``domain.action_links``), checked here on every request.
A token that is not ours answers 403; one that expired, was revoked or is used up answers
410; each says what happened and who to ask. The page is the organisation's own page of the
referral (``api.web.organisation.service_referral_page``), its answers the same step service
as the organisation's, performed as that organisation (a principal of it, subject the
organisation's id), and every use is in the access log. Each answer is a single use: the
link is claimed before the step and given back if the step is refused. The forms carry a
token bound to the link, as there is no cookie to bind one to.
"""

import secrets
from collections.abc import Callable, Coroutine
from datetime import UTC, datetime
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Form, HTTPException, Request, Response, status
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse
from fastapi.routing import APIRoute
from sqlalchemy import update
from sqlmodel import Session, col

from api.access import Access
from api.deps import SessionDep
from api.errors import Refused
from api.principal import Principal
from api.steps import Steps
from api.web.organisation import (
    ANSWER_BANNERS,
    AnswerProblem,
    give_answer,
    problem_field,
    service_referral_page,
)
from api.web.pages import error_page
from api.web.security import add_page_headers
from api.web.templating import render
from core.settings import Settings
from domain.accounts import ActionLink
from domain.action_links import form_token_for, link_id_of
from domain.enums import OrganisationKind

TAMPERED = "This link is not one we sent. Check that you copied all of it from the email."
EXPIRED = "This link has expired."
REVOKED = "This link has been cancelled."
USED = "This link has already been used for this answer."
WHO_TO_ASK = (
    "Sign in to answer the referral, or contact the link worker team that sent it: their "
    "number is in your emails from them."
)


class LinkRefused(Exception):
    def __init__(self, status_code: int, what: str) -> None:
        super().__init__(what)
        self.status_code = status_code
        self.what = what


class ActionLinkRoute(APIRoute):
    """A page without a session: the nonce and headers of every page, and its refusals as
    pages, but no cookie-bound CSRF check (the form token is bound to the link instead)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handle = super().get_route_handler()

        async def handle_page(request: Request) -> Response:
            nonce = request.state.csp_nonce = secrets.token_urlsafe(16)
            try:
                response = await handle(request)
            except LinkRefused as refused:
                response = render(
                    request,
                    "organisation/action_link_refused.html",
                    status_code=refused.status_code,
                    title="You cannot use this link",
                    what=refused.what,
                    who_to_ask=WHO_TO_ASK,
                )
            except HTTPException as error:
                response = error_page(request, error.status_code, error.detail)
            add_page_headers(response, nonce)
            return response

        return handle_page


router = APIRouter(route_class=ActionLinkRoute, include_in_schema=False)


def _secret(request: Request) -> str:
    settings: Settings = request.app.state.settings
    return settings.action_links.secret.get_secret_value()


def _as_organisation(session: Session, link: ActionLink, request: Request) -> Access:
    """The link's organisation as the caller: the access rules and log of its own users."""
    principal = Principal(
        subject=link.organisation_id,
        organisation_kind=OrganisationKind.ORGANISATION,
        organisation_id=link.organisation_id,
    )
    return Access(session, principal, request)


def _live_link(session: Session, request: Request, token: str) -> ActionLink:
    """The link ``token`` names, if it may still be used; refusals are logged as uses."""
    link_id = link_id_of(_secret(request), token)
    link = session.get(ActionLink, link_id) if link_id is not None else None
    if link is None:
        raise LinkRefused(status.HTTP_403_FORBIDDEN, TAMPERED)
    refusal = (
        REVOKED
        if link.revoked_at is not None
        else USED
        if link.used_at is not None
        else EXPIRED
        if link.expires_at <= datetime.now(UTC)
        else None
    )
    if refusal is not None:
        access = _as_organisation(session, link, request)
        access.own_service_referral_or_404(link.service_referral_id)  # logs the attempt
        raise LinkRefused(status.HTTP_410_GONE, refusal)
    return link


@router.get("/act/{token}")
def action_link_page(
    request: Request, session: SessionDep, token: str, answered: str | None = None
) -> Response:
    link = _live_link(session, request, token)
    return service_referral_page(
        request,
        _as_organisation(session, link, request),
        link.service_referral_id,
        action_base=f"/act/{token}",
        form_token=form_token_for(_secret(request), link.id),
        banner=ANSWER_BANNERS.get(answered or ""),
    )


@router.get("/act/{token}/done")
def action_link_done(request: Request, token: str, answered: str | None = None) -> Response:
    """After the link's last use: what was done, and nothing of the person."""
    if link_id_of(_secret(request), token) is None or answered not in ANSWER_BANNERS:
        raise LinkRefused(status.HTTP_403_FORBIDDEN, TAMPERED)
    return render(
        request,
        "organisation/action_link_done.html",
        title=ANSWER_BANNERS[answered],
        who_to_ask=WHO_TO_ASK,
    )


def _claim(session: Session, request: Request, token: str, action: str, sent: str) -> ActionLink:
    """The live link, with this action's use spent, atomically: two clicks cannot both
    answer. 403 for a form without the link's own token."""
    link = _live_link(session, request, token)
    if sent != form_token_for(_secret(request), link.id):
        raise LinkRefused(
            status.HTTP_403_FORBIDDEN, "Your form could not be sent. Open the link again."
        )
    now = datetime.now(UTC)
    spent = "responded_at" if action == "response" else "used_at"
    claimed = session.execute(
        update(ActionLink)
        .where(col(ActionLink.id) == link.id)
        .where(col(getattr(ActionLink, spent)).is_(None))
        .where(col(ActionLink.used_at).is_(None))
        .values({spent: now})
    )
    session.commit()
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        raise LinkRefused(status.HTTP_410_GONE, USED)
    return link


def _give_back(session: Session, link: ActionLink, action: str) -> None:
    spent = "responded_at" if action == "response" else "used_at"
    session.execute(update(ActionLink).where(col(ActionLink.id) == link.id).values({spent: None}))
    session.commit()


def _finish(session: Session, link: ActionLink) -> None:
    """Declined: nothing is left to do with the link."""
    session.execute(
        update(ActionLink).where(col(ActionLink.id) == link.id).values(used_at=datetime.now(UTC))
    )
    session.commit()


@router.post("/act/{token}/{action}")
async def answer_by_link(
    request: Request,
    session: SessionDep,
    token: str,
    action: str,
    csrf_token: Annotated[str, Form()] = "",
    answer: Annotated[str | None, Form()] = None,
    reason_code: Annotated[str | None, Form()] = None,
    started: Annotated[str | None, Form()] = None,
) -> Response:
    if action not in ("response", "uptake"):
        raise HTTPException(status.HTTP_404_NOT_FOUND, "Not Found")
    link = await run_in_threadpool(_claim, session, request, token, action, csrf_token)
    access = _as_organisation(session, link, request)
    form = {"answer": answer, "reason_code": reason_code, "started": started}
    try:
        done = await give_answer(
            Steps(access, request.app.state.temporal), link.service_referral_id, action, form
        )
    except (AnswerProblem, Refused) as error:
        await run_in_threadpool(_give_back, session, link, action)
        if isinstance(error, Refused) and error.status_code == status.HTTP_404_NOT_FOUND:
            raise HTTPException(status.HTTP_404_NOT_FOUND, "Not Found") from None
        return await run_in_threadpool(
            service_referral_page,
            request,
            access,
            link.service_referral_id,
            action_base=f"/act/{token}",
            form_token=form_token_for(_secret(request), link.id),
            errors={problem_field(error, action): error.message},
            status_code=422 if isinstance(error, AnswerProblem) else error.status_code,
        )
    except BaseException:
        await run_in_threadpool(_give_back, session, link, action)
        raise
    if done == "declined":
        await run_in_threadpool(_finish, session, link)
    if done in ("declined", "started", "did_not_attend"):
        return RedirectResponse(f"/act/{token}/done?answered={done}", status.HTTP_303_SEE_OTHER)
    return RedirectResponse(f"/act/{token}?answered={done}", status.HTTP_303_SEE_OTHER)


def revoke_action_links(session: Session, service_referral_id: UUID) -> int:
    """Cancel every live link of a service referral (the caller commits); how many."""
    result = session.execute(
        update(ActionLink)
        .where(col(ActionLink.service_referral_id) == service_referral_id)
        .where(col(ActionLink.revoked_at).is_(None))
        .values(revoked_at=datetime.now(UTC))
    )
    return int(result.rowcount)  # type: ignore[attr-defined]
