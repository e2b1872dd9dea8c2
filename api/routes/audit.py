"""The access log: who read or changed which referral, when. For commissioners and admins."""

from datetime import UTC, datetime
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query
from pydantic import BaseModel
from sqlmodel import col, func, select

from api.access import COMMISSIONER, Access, AccessDep
from api.errors import SIGNED_IN, problem
from domain.accounts import AccessLog, AccessOutcome
from domain.enums import OrganisationKind

router = APIRouter(tags=["audit"])


class AccessLogEntry(BaseModel):
    id: int
    at: datetime
    subject: str
    organisation_kind: OrganisationKind
    organisation_id: str
    action: str
    referral_id: UUID | None
    outcome: AccessOutcome
    """What the permission check decided: allowed, or refused as not found (404) or
    forbidden (403)."""


class AccessLogPage(BaseModel):
    total_items: int
    page: int
    per_page: int
    items: list[AccessLogEntry]


@router.get(
    "/audit",
    response_model=AccessLogPage,
    responses={**SIGNED_IN, 403: problem("Only a commissioner may read the access log.")},
    summary="Every access to patient data, newest first (commissioners only)",
)
def query_access_log(
    access: AccessDep,
    referral_id: UUID | None = None,
    subject: Annotated[str | None, Query(max_length=64)] = None,
    since: Annotated[datetime | None, Query(description="ISO 8601; on or after.")] = None,
    page: Annotated[int, Query(ge=1, le=1_000_000)] = 1,
    per_page: Annotated[int, Query(ge=1, le=500)] = 50,
) -> AccessLogPage:
    access.require(COMMISSIONER, to="read the access log")
    return access_log_page(access, referral_id, subject, since, page, per_page)


def access_log_page(
    access: Access,
    referral_id: UUID | None,
    subject: str | None,
    since: datetime | None,
    page: int,
    per_page: int,
    before: datetime | None = None,
) -> AccessLogPage:
    """The access log's entries that match, newest first, one page of them: the query of
    ``GET /audit`` and of the access-log page. ``before`` bounds a period's end. The read
    is itself logged, against no referral: who looked at the log is part of the trail."""
    session = access.session
    query = select(AccessLog)
    if referral_id is not None:
        query = query.where(AccessLog.referral_id == referral_id)
    if subject is not None:
        query = query.where(AccessLog.subject == subject)
    if since is not None:
        # Stored in UTC; a time without a zone is taken as UTC too.
        moment = since.astimezone(UTC) if since.tzinfo else since.replace(tzinfo=UTC)
        query = query.where(col(AccessLog.at) >= moment)
    if before is not None:
        query = query.where(col(AccessLog.at) < before)
    total = session.exec(select(func.count()).select_from(query.subquery())).one()
    rows = session.exec(
        query.order_by(col(AccessLog.at).desc(), col(AccessLog.id).desc())
        .offset((page - 1) * per_page)
        .limit(per_page)
    ).all()
    found = AccessLogPage(
        total_items=total,
        page=page,
        per_page=per_page,
        items=[AccessLogEntry.model_validate(row, from_attributes=True) for row in rows],
    )
    access.log()
    return found
