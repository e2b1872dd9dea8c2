"""Who is calling: one user or API key, and the one organisation it belongs to.

Every route takes ``CurrentPrincipal`` and decides from it what this caller may see or
change. How the caller proved who they are (password session, API key) is the concern of
``get_current_principal`` alone.
"""

from typing import Annotated

from fastapi import Depends, Header, HTTPException
from pydantic import BaseModel
from sqlmodel import Session

from api.deps import SessionDep
from domain.enums import ActorKind, OrganisationKind
from domain.messages import Actor
from domain.tables import LinkWorker


class Principal(BaseModel):
    subject: str
    """The user name or API key id, as recorded in the audit trail."""
    organisation_kind: OrganisationKind
    organisation_id: str
    """ODS code, link-worker team id, catalogue organisation id, or commissioning body id."""
    link_worker_id: str | None = None
    """Set for a link worker signed in as themselves."""

    @property
    def actor(self) -> Actor:
        """The actor that workflow steps record: no names, only ids and kinds."""
        if self.link_worker_id is not None:
            return Actor(kind=ActorKind.LINK_WORKER, id=self.link_worker_id)
        kind = {
            OrganisationKind.PRACTICE: ActorKind.PRACTICE,
            OrganisationKind.ORGANISATION: ActorKind.ORGANISATION,
            OrganisationKind.LINK_WORKER_TEAM: ActorKind.LINK_WORKER,
            OrganisationKind.COMMISSIONER: ActorKind.ADMIN,
        }[self.organisation_kind]
        return Actor(kind=kind, id=self.organisation_id)


def get_current_principal(
    session: SessionDep,
    x_actor: Annotated[
        str | None,
        Header(description="Placeholder until accounts arrive: kind:id, e.g. practice:A81001."),
    ] = None,
) -> Principal:
    # Placeholder: trusts the X-Actor header. Replaced by sessions and API keys (issue 4).
    if not x_actor:
        raise HTTPException(401, "Sign in first: send X-Actor: kind:id")
    kind, _, subject = x_actor.partition(":")
    if kind == ActorKind.LINK_WORKER:
        return _link_worker(session, subject)
    organisation_kind = {
        ActorKind.PRACTICE.value: OrganisationKind.PRACTICE,
        ActorKind.ORGANISATION.value: OrganisationKind.ORGANISATION,
        ActorKind.ADMIN.value: OrganisationKind.COMMISSIONER,
    }.get(kind)
    if organisation_kind is None:
        raise HTTPException(400, "X-Actor must be practice:, link_worker:, organisation: or admin:")
    return Principal(subject=subject, organisation_kind=organisation_kind, organisation_id=subject)


def _link_worker(session: Session, link_worker_id: str) -> Principal:
    link_worker = session.get(LinkWorker, link_worker_id)
    if link_worker is None:
        raise HTTPException(401, f"Unknown link worker {link_worker_id}")
    return Principal(
        subject=link_worker_id,
        organisation_kind=OrganisationKind.LINK_WORKER_TEAM,
        organisation_id=link_worker.team_id,
        link_worker_id=link_worker_id,
    )


CurrentPrincipal = Annotated[Principal, Depends(get_current_principal)]
