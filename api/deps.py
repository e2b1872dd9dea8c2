"""Dependencies every router shares: settings, database session, Temporal client, geocoder.

The caller is ``api.principal.CurrentPrincipal``; what it may see is ``api.access.AccessDep``.
"""

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from sqlalchemy import Engine
from sqlmodel import Session
from temporalio.client import Client

from catalogue.geocode import Geocoder, demo_town_geocoder
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


def get_geocoder(request: Request) -> Geocoder:
    """The app's geocoder (``app.state.geocoder``), else the demo town's district centroids."""
    geocoder: Geocoder | None = getattr(request.app.state, "geocoder", None)
    return geocoder or demo_town_geocoder()


SettingsDep = Annotated[Settings, Depends(get_settings)]
SessionDep = Annotated[Session, Depends(get_session)]
TemporalDep = Annotated[Client, Depends(get_temporal)]
GeocoderDep = Annotated[Geocoder, Depends(get_geocoder)]
