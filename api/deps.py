"""Dependencies every router shares: settings, database session, Temporal client, caller."""

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Header, HTTPException, Request
from sqlalchemy import Engine
from sqlmodel import Session
from temporalio.client import Client

from catalogue.geocode import Geocoder, demo_town_geocoder
from domain.enums import ActorKind
from domain.messages import Actor
from socialrx.settings import Settings


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_engine(request: Request) -> Engine:
    engine: Engine = request.app.state.engine
    return engine


def get_session(engine: Annotated[Engine, Depends(get_engine)]) -> Iterator[Session]:
    with Session(engine, expire_on_commit=False) as session:
        yield session


def get_temporal(request: Request) -> Client:
    client: Client | None = request.app.state.temporal
    if client is None:
        raise HTTPException(503, "Temporal is not connected yet; try again in a moment")
    return client


def get_current_actor(
    x_actor: Annotated[
        str | None,
        Header(
            description="Who is calling, as kind:id (e.g. link_worker:lw-amira). A stand-in "
            "until accounts arrive; omitted means the system itself.",
        ),
    ] = None,
) -> Actor:
    if not x_actor:
        return Actor(kind=ActorKind.SYSTEM, id="api")
    kind, _, actor_id = x_actor.partition(":")
    try:
        return Actor(kind=ActorKind(kind), id=actor_id)
    except ValueError as error:
        kinds = ", ".join(k.value for k in ActorKind)
        raise HTTPException(
            400, f"X-Actor must be kind:id with kind one of {kinds}; got {x_actor!r}"
        ) from error


def get_geocoder(request: Request) -> Geocoder:
    """The app's geocoder (``app.state.geocoder``), else the demo town's district centroids."""
    geocoder: Geocoder | None = getattr(request.app.state, "geocoder", None)
    return geocoder or demo_town_geocoder()


SettingsDep = Annotated[Settings, Depends(get_settings)]
SessionDep = Annotated[Session, Depends(get_session)]
TemporalDep = Annotated[Client, Depends(get_temporal)]
CurrentActor = Annotated[Actor, Depends(get_current_actor)]
GeocoderDep = Annotated[Geocoder, Depends(get_geocoder)]
