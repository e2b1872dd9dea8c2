"""Suggesting community services when the link worker is about to choose one."""

from sqlalchemy import Engine
from sqlmodel import Session
from temporalio import activity

from catalogue.geocode import Geocoder, demo_town_geocoder
from catalogue.referral_match import suggest_for_referral
from domain.messages import SuggestionRequest


class MatchingActivities:
    def __init__(self, engine: Engine, geocoder: Geocoder | None = None) -> None:
        self._engine = engine
        self._geocoder = geocoder or demo_town_geocoder()

    # Not cancelled mid-query: see activities/read_model.py.
    @activity.defn(name="suggest_services", no_thread_cancel_exception=True)
    def suggest_services(self, request: SuggestionRequest) -> list[str]:
        """Ids of the services that best meet the referral's needs, best first.

        Only reads, so running it twice is harmless; the answer may differ as capacity
        changes, which is why the workflow records the answer it acted on.
        """
        with Session(self._engine) as session:
            result = suggest_for_referral(
                session, request.referral_id, request.need_codes, self._geocoder
            )
        return [] if result is None else [s.service_id for s in result.suggestions]
