"""The HSDS 3.0 API of the community-service directory (Open Referral UK), plus the route
organisations use to keep their own services' capacity and status up to date."""

from datetime import datetime
from typing import Annotated, Any, NoReturn

from fastapi import APIRouter, HTTPException, Query

from api.access import ORGANISATION, forbidden
from api.deps import GeocoderDep, SessionDep
from api.errors import ACTIONABLE, PUBLIC, invalid, problem
from api.principal import CurrentPrincipal
from catalogue.documents import DocumentBuilder, one_to_one
from catalogue.search import (
    PageRequest,
    ServiceFilter,
    organizations_page,
    services_at_locations_page,
    services_page,
    taxonomy_terms_page,
)
from catalogue.tables import Organization, Service, ServiceAtLocation, TaxonomyTerm
from catalogue.updates import CapacityStatusUpdate, update_capacity_and_status

router = APIRouter(tags=["catalogue"])
FOUND = {**PUBLIC, 404: problem("No such entry in the directory.")}

MAX_PER_PAGE = 100
MAX_PROXIMITY_M = 200_000

Document = dict[str, Any]
MAX_PAGE = 100_000
PageNumber = Annotated[
    int, Query(ge=1, le=MAX_PAGE, description=f"Page number, from 1 to {MAX_PAGE}.")
]
PerPage = Annotated[
    int, Query(ge=1, le=MAX_PER_PAGE, description=f"Items per page, 1 to {MAX_PER_PAGE}.")
]
Search = Annotated[str | None, Query(max_length=200, description="Words to look for.")]
ModifiedAfter = Annotated[
    datetime | None, Query(description="Only entries modified on or after this ISO 8601 time.")
]
Full = Annotated[bool, Query(description="Fully nested documents instead of the list form.")]


@router.get(
    "/services", response_model=Document, responses=PUBLIC, summary="Services, one page at a time"
)
def list_services(
    session: SessionDep,
    search: Search = None,
    page: PageNumber = 1,
    per_page: PerPage = 20,
    taxonomy_term_id: str | None = None,
    organization_id: str | None = None,
    modified_after: ModifiedAfter = None,
    full: Full = False,
) -> Document:
    where = ServiceFilter(search, taxonomy_term_id, organization_id, modified_after)
    found = services_page(session, where, PageRequest(page, per_page))
    builder = DocumentBuilder(session)
    if full:
        contents = [builder.service(service) for service in found.items]
    else:
        contents = [
            builder.service_list_item(service, session.get(Organization, service.organization_id))
            for service in found.items
        ]
    return found.envelope(contents)


@router.get(
    "/services/{service_id}",
    response_model=Document,
    responses=FOUND,
    summary="One service, fully nested",
)
def get_service(session: SessionDep, service_id: str) -> Document:
    service = session.get(Service, service_id)
    if service is None:
        raise HTTPException(404, f"no service with id {service_id!r}")
    return DocumentBuilder(session).service(service)


@router.patch(
    "/services/{service_id}/capacity-status",
    response_model=Document,
    responses=ACTIONABLE,
    summary="An organisation updates its service's capacity or status",
)
def update_service_capacity_status(
    session: SessionDep,
    service_id: str,
    update: CapacityStatusUpdate,
    principal: CurrentPrincipal,
) -> Document:
    service = session.get(Service, service_id)
    if service is None:
        raise HTTPException(404, f"no service with id {service_id!r}")
    # The directory is public, so a service of someone else is no secret: 403, not 404.
    if not (principal.is_a(ORGANISATION) and principal.organisation_id == service.organization_id):
        raise forbidden(f"Only the organisation that runs {service_id!r} may update it.")
    update_capacity_and_status(session, service_id, update, principal.actor)
    session.commit()
    return DocumentBuilder(session).service(service)


@router.get(
    "/taxonomy_terms",
    response_model=Document,
    responses=PUBLIC,
    summary="Taxonomy terms, one page at a time",
)
def list_taxonomy_terms(
    session: SessionDep,
    search: Search = None,
    page: PageNumber = 1,
    per_page: PerPage = 20,
    taxonomy_id: str | None = None,
    parent_id: str | None = None,
    top_only: bool = False,
) -> Document:
    found = taxonomy_terms_page(
        session, search, taxonomy_id, parent_id, top_only, PageRequest(page, per_page)
    )
    builder = DocumentBuilder(session)
    return found.envelope([builder.taxonomy_term(term) for term in found.items])


@router.get(
    "/taxonomy_terms/{term_id}",
    response_model=Document,
    responses=FOUND,
    summary="One taxonomy term",
)
def get_taxonomy_term(session: SessionDep, term_id: str) -> Document:
    term = session.get(TaxonomyTerm, term_id)
    if term is None:
        raise HTTPException(404, f"no taxonomy term with id {term_id!r}")
    return DocumentBuilder(session).taxonomy_term(term)


@router.get(
    "/organizations",
    response_model=Document,
    responses=PUBLIC,
    summary="Organizations, one page at a time",
)
def list_organizations(
    session: SessionDep,
    search: Search = None,
    page: PageNumber = 1,
    per_page: PerPage = 20,
    full: Full = False,
) -> Document:
    found = organizations_page(session, search, PageRequest(page, per_page))
    builder = DocumentBuilder(session)
    documents = [builder.organization(organization) for organization in found.items]
    if not full:
        documents = [one_to_one(document) for document in documents]
    return found.envelope(documents)


@router.get(
    "/organizations/{organization_id}",
    response_model=Document,
    responses=FOUND,
    summary="One organization",
)
def get_organization(
    session: SessionDep,
    organization_id: str,
    full_service: Annotated[bool, Query(description="Nest its services in full.")] = True,
) -> Document:
    organization = session.get(Organization, organization_id)
    if organization is None:
        raise HTTPException(404, f"no organization with id {organization_id!r}")
    return DocumentBuilder(session).organization(organization, with_services=full_service)


@router.get(
    "/service_at_locations",
    response_model=Document,
    responses=PUBLIC,
    summary="Services at locations, one page at a time",
)
def list_service_at_locations(
    session: SessionDep,
    geocoder: GeocoderDep,
    search: Search = None,
    page: PageNumber = 1,
    per_page: PerPage = 20,
    taxonomy_term_id: str | None = None,
    organization_id: str | None = None,
    modified_after: ModifiedAfter = None,
    postcode: Annotated[
        str | None,
        Query(max_length=10, description="Only services whose areas cover its district."),
    ] = None,
    proximity: Annotated[
        float | None,
        Query(
            gt=0,
            le=MAX_PROXIMITY_M,
            description="Metres from the postcode's centroid; needs postcode.",
        ),
    ] = None,
    full: Full = False,
) -> Document:
    near = None
    if proximity is not None:
        if not postcode:
            _invalid("proximity", "proximity needs a postcode to measure from")
        near = geocoder.locate(postcode or "")
        if near is None:
            _invalid("postcode", f"cannot locate postcode {postcode!r} to measure proximity")
    where = ServiceFilter(search, taxonomy_term_id, organization_id, modified_after)
    found = services_at_locations_page(
        session, where, PageRequest(page, per_page), postcode, near, proximity
    )
    builder = DocumentBuilder(session)
    return found.envelope([builder.service_at_location(link, full=full) for link in found.items])


@router.get(
    "/service_at_locations/{link_id}",
    response_model=Document,
    responses=FOUND,
    summary="One service at a location",
)
def get_service_at_location(session: SessionDep, link_id: str) -> Document:
    link = session.get(ServiceAtLocation, link_id)
    if link is None:
        raise HTTPException(404, f"no service_at_location with id {link_id!r}")
    return DocumentBuilder(session).service_at_location(link)


def _invalid(parameter: str, message: str) -> NoReturn:
    invalid(("query", parameter), message)
