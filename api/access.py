"""Who may see and change what: the one place every router asks, and the access log.

- A practice sees the referrals it made; of the steps it may only cancel them and record a
  withdrawal of consent.
- A link worker (or their team's system) sees and acts on the referrals of the practices
  their team covers.
- An organisation sees only the service referrals sent to its own services and answers them.
- A commissioner sees no referral; reports and the access log are theirs. A commissioning
  body scoped to the practices of its area (``socialrx users area``) sees reports of those
  practices only; one not scoped sees every practice, as an admin would.

Something the caller may not see answers 404, exactly as if it did not exist, so its
existence is not leaked. Something they may see but not do answers 403. Every read and
write of patient data is appended to ``access_log``, and so is every refused attempt at it:
the row is written after the permission decision and records it (``AccessOutcome``).
"""

from collections.abc import Iterable
from typing import Annotated, NamedTuple
from uuid import UUID

from fastapi import Depends, HTTPException, Request, status
from sqlalchemy import bindparam, insert, select
from sqlmodel import Session

from accounts.credentials import commissioner_practices
from api.deps import SessionDep
from api.principal import BrowserPrincipal, CurrentPrincipal, Principal
from domain.accounts import AccessLog, AccessOutcome
from domain.enums import OrganisationKind
from domain.tables import LinkWorker, Practice, Referral, ServiceReferral, table_of, utcnow
from reports.filters import ReportFilter

ACCESS_LOG = table_of(AccessLog)
_REFERRAL = table_of(Referral)
_PRACTICE = table_of(Practice)
_PRACTICE_OF_REFERRAL = (
    select(_REFERRAL.c.practice_ods, _PRACTICE.c.team_id)
    .select_from(_REFERRAL.outerjoin(_PRACTICE, _PRACTICE.c.ods_code == _REFERRAL.c.practice_ods))
    .where(_REFERRAL.c.id == bindparam("id"))
)
PRACTICE = OrganisationKind.PRACTICE
LINK_WORKER_TEAM = OrganisationKind.LINK_WORKER_TEAM
ORGANISATION = OrganisationKind.ORGANISATION
COMMISSIONER = OrganisationKind.COMMISSIONER
ALLOWED = AccessOutcome.ALLOWED
NOT_FOUND = AccessOutcome.NOT_FOUND
WHO = {
    PRACTICE: "practice",
    LINK_WORKER_TEAM: "link worker",
    ORGANISATION: "organisation",
    COMMISSIONER: "commissioner",
}


def not_found(what: str, identifier: object) -> HTTPException:
    return HTTPException(status.HTTP_404_NOT_FOUND, f"No {what} {identifier}.")


def forbidden(detail: str) -> HTTPException:
    return HTTPException(status.HTTP_403_FORBIDDEN, detail)


class ReferralOfPractice(NamedTuple):
    id: UUID
    practice_ods: str


class Access:
    """The caller of one request, with the checks and the log that routes need."""

    def __init__(self, session: Session, principal: Principal, request: Request) -> None:
        self.session = session
        self.principal = principal
        self._request = request

    # --- roles --------------------------------------------------------------------------

    def require(self, *kinds: OrganisationKind, to: str, referral_id: UUID | None = None) -> None:
        """403 unless the caller is one of ``kinds``; ``to`` says what they tried to do. A
        refusal is logged, against ``referral_id`` when it was about one."""
        if not self.principal.is_a(*kinds):
            self.log(referral_id, outcome=AccessOutcome.FORBIDDEN)
            allowed = " or ".join(WHO[kind] for kind in kinds)
            raise forbidden(f"Only a {allowed} may {to}.")

    # --- referrals ----------------------------------------------------------------------

    def can_see(self, referral: Referral) -> bool:
        team_id = None
        if self.principal.is_a(LINK_WORKER_TEAM):
            practice = self.session.get(Practice, referral.practice_ods)
            team_id = practice.team_id if practice is not None else None
        return self._may_see(referral.practice_ods, team_id)

    def _may_see(self, practice_ods: str, team_id: str | None) -> bool:
        """Whether this caller may see a referral of ``practice_ods``, whose team is
        ``team_id``: the one statement of the rule, for a loaded referral or a bare query."""
        principal = self.principal
        if principal.is_a(PRACTICE):
            return practice_ods == principal.organisation_id
        if principal.is_a(LINK_WORKER_TEAM):
            return team_id is not None and team_id == principal.organisation_id
        return False

    def visible_referral_or_404(self, referral_id: UUID) -> Referral:
        """The referral, if this caller may see it; the access is logged."""
        referral = self.session.get(Referral, referral_id)
        if referral is None or not self.can_see(referral):
            raise self._refused_as_not_found(
                "referral", referral_id, referral_id if referral is not None else None
            )
        self.log(referral_id)
        return referral

    def actionable_referral_or_404(
        self, referral_id: UUID, *kinds: OrganisationKind, to: str
    ) -> ReferralOfPractice:
        """The referral's practice, if this caller may see the referral (else 404) and is one
        of ``kinds`` (else 403); the access is logged."""
        # Every step asks this before anything else: one query for the referral's practice
        # and its team, rather than loading the whole referral and then the practice.
        found = self.session.execute(_PRACTICE_OF_REFERRAL, {"id": referral_id}).first()
        if found is None or not self._may_see(found.practice_ods, found.team_id):
            raise self._refused_as_not_found(
                "referral", referral_id, referral_id if found is not None else None
            )
        self.require(*kinds, to=to, referral_id=referral_id)
        self.log(referral_id)
        return ReferralOfPractice(referral_id, found.practice_ods)

    def own_service_referral_or_404(self, service_referral_id: UUID) -> ServiceReferral:
        """A service referral to one of the calling organisation's services."""
        found = self.session.get(ServiceReferral, service_referral_id)
        if (
            found is None
            or not self.principal.is_a(ORGANISATION)
            or found.organisation_id != self.principal.organisation_id
        ):
            raise self._refused_as_not_found(
                "service referral",
                service_referral_id,
                found.referral_id if found is not None else None,
            )
        self.log(found.referral_id)
        return found

    # --- lists keyed by whose they are --------------------------------------------------

    def own_organisation_or_404(self, organisation_id: str) -> None:
        if not (
            self.principal.is_a(ORGANISATION) and self.principal.organisation_id == organisation_id
        ):
            raise self._refused_as_not_found("organisation", organisation_id, None)

    def team_link_worker_or_404(self, link_worker_id: str) -> LinkWorker:
        """A link worker of the caller's own team: colleagues cover each other's lists."""
        worker = self.session.get(LinkWorker, link_worker_id)
        if (
            worker is None
            or not self.principal.is_a(LINK_WORKER_TEAM)
            or worker.team_id != self.principal.organisation_id
        ):
            raise self._refused_as_not_found("link worker", link_worker_id, None)
        return worker

    # --- reports ------------------------------------------------------------------------

    def practices_in_area(self) -> frozenset[str] | None:
        """The practices whose figures this commissioner may see; None: every practice."""
        return commissioner_practices(self.session, self.principal.organisation_id)

    def reports_in_area(self, filters: ReportFilter) -> ReportFilter:
        """``filters`` limited to the commissioner's area; a practice outside it answers 404,
        as if it did not exist."""
        area = self.practices_in_area()
        if area is not None and filters.practice is not None and filters.practice not in area:
            raise not_found("practice", filters.practice)
        return filters.within(area)

    # --- refusals -----------------------------------------------------------------------

    def _refused_as_not_found(
        self, what: str, identifier: object, referral_id: UUID | None
    ) -> HTTPException:
        """Log a refused look at something that holds patient data, then the 404 to raise.
        ``referral_id``: the referral it was about, only if that exists; an id the caller made
        up is no one's (the route in the row still says what was tried)."""
        self.log(referral_id, outcome=NOT_FOUND)
        return not_found(what, identifier)

    # --- the access log -----------------------------------------------------------------

    def log(self, *referral_ids: UUID | None, outcome: AccessOutcome = ALLOWED) -> None:
        """Append who read or changed which referral, by which route, now, and whether the
        permission check allowed it."""
        self.log_all(referral_ids or [None], outcome)

    def log_all(
        self, referral_ids: Iterable[UUID | None], outcome: AccessOutcome = ALLOWED
    ) -> None:
        """One row per referral shown (a list with nothing in it is logged once, as None)."""
        # The route's template, e.g. GET /referrals/{referral_id}: what was done, not to whom.
        route = getattr(self._request.scope.get("route"), "path", "")
        action = f"{self._request.method} {route}"
        principal = self.principal
        at = utcnow()
        rows = [
            {
                "at": at,
                "subject": principal.subject,
                "organisation_kind": principal.organisation_kind,
                "organisation_id": principal.organisation_id,
                "action": action,
                "referral_id": referral_id,
                "outcome": outcome,
            }
            for referral_id in dict.fromkeys(referral_ids) or [None]
        ]
        # A plain INSERT: the log is only appended to, so the ORM's unit of work (which was
        # a good part of each request's time) has nothing to track.
        self.session.execute(insert(ACCESS_LOG), rows)
        self.session.commit()


async def get_access(session: SessionDep, principal: CurrentPrincipal, request: Request) -> Access:
    # async: it only wraps what it is given (see api.deps on thread hand-overs).
    return Access(session, principal, request)


AccessDep = Annotated[Access, Depends(get_access)]


async def get_browser_access(
    session: SessionDep, principal: BrowserPrincipal, request: Request
) -> Access:
    """``get_access`` for the downloads a page links to, which the session cookie may sign in."""
    return Access(session, principal, request)


BrowserAccessDep = Annotated[Access, Depends(get_browser_access)]


async def commissioner_only(principal: CurrentPrincipal) -> None:
    """For a route's ``dependencies``: anyone but a commissioner gets 404, as if the routes
    did not exist. (async: it reads only the principal, already loaded.)"""
    _commissioner_or_404(principal)


async def commissioner_in_browser(principal: BrowserPrincipal) -> None:
    """``commissioner_only`` for the downloads the commissioner's pages link to, which the
    session cookie may also sign in (``api.principal.get_browser_principal``)."""
    _commissioner_or_404(principal)


def admin_only(access: AccessDep) -> None:
    """For the admin routes (a person's records): a commissioner with no area, the service's
    own administrators; anyone else gets 404. A plain ``def``: the area is read from the
    database, so not on the event loop."""
    _commissioner_or_404(access.principal)
    if access.practices_in_area() is not None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "Not Found")


def _commissioner_or_404(principal: Principal) -> None:
    if not principal.is_a(COMMISSIONER):
        raise HTTPException(status.HTTP_404_NOT_FOUND, "Not Found")
