"""Dependencies every router shares: settings, database session, Temporal client, geocoder.

The caller is ``api.principal.CurrentPrincipal``; what it may see is ``api.access.AccessDep``.

Those that only look something up are ``async def``: FastAPI runs a plain ``def`` dependency
in a worker thread, and the hand-over there and back cost more than the lookup itself, on
every request. Only a dependency that may wait (for the database) belongs in a thread.
"""

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from sqlalchemy import Engine
from sqlmodel import Session
from temporalio.client import Client

from api.errors import RETRY_AFTER_SECONDS
from catalogue.geocode import Geocoder
from core.settings import Settings


async def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def get_engine(request: Request) -> Engine:
    engine: Engine = request.app.state.engine
    return engine


async def get_session(engine: Annotated[Engine, Depends(get_engine)]) -> AsyncIterator[Session]:
    # Making a session connects to nothing; its first query does, wherever that runs.
    session = Session(engine, expire_on_commit=False)
    try:
        yield session
    finally:
        # A transaction still open (a plain route's reads) ends with a rollback: a round trip
        # to the database, so not on the event loop. Otherwise closing never waits.
        if session.in_transaction():
            await run_in_threadpool(session.close)
        else:
            session.close()


async def get_temporal(request: Request) -> Client:
    client: Client | None = request.app.state.temporal
    if client is None:
        # The app keeps trying to connect in the background (api.main).
        raise HTTPException(
            503,
            "The workflow service is not connected yet; try again in a moment.",
            headers={"Retry-After": RETRY_AFTER_SECONDS},
        )
    return client


async def get_geocoder(request: Request) -> Geocoder:
    """The geocoder the composition root gave ``create_app``."""
    geocoder: Geocoder = request.app.state.geocoder
    return geocoder


SettingsDep = Annotated[Settings, Depends(get_settings)]
EngineDep = Annotated[Engine, Depends(get_engine)]
SessionDep = Annotated[Session, Depends(get_session)]
TemporalDep = Annotated[Client, Depends(get_temporal)]
GeocoderDep = Annotated[Geocoder, Depends(get_geocoder)]
