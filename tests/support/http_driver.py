"""Drives referrals through every step over real HTTP, round-robin across several API
processes, as a client that survives faults would: a request that fails on the way (no
connection, a 5xx) is sent again, a new referral always with its first Idempotency-Key, and a
step is taken only while the referral's state says it is still to do."""

import asyncio
import itertools
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from uuid import UUID, uuid4

import httpx

from tests.support.driver import (
    LINK_WORKER,
    PRACTICE,
    SWEMWBS_BASELINE,
    SWEMWBS_LATER,
    TEST_PASSWORD,
    organisation_actor,
    person,
)

State = dict[str, Any]
ORGANISATION = "org-millbrook-leisure-trust"
SERVICE = "svc-health-walks"
# A 5xx or no answer at all: the request may or may not have been done; send it again.
RETRY_AFTER_SECONDS = 0.25
# How often a waiting referral looks at its state again.
POLL_SECONDS = 0.5
STILL_PROCESSING = "still being processed"


class GaveUp(Exception):
    pass


@dataclass
class HttpDriver:
    api_urls: list[str]
    step_seconds: float = 120.0
    submitted: dict[UUID, dict[str, Any]] = field(default_factory=dict)
    steps_done: int = 0
    retries: int = 0
    _http: httpx.AsyncClient = field(default_factory=lambda: httpx.AsyncClient(timeout=30))
    _next_api: "itertools.cycle[str]" = field(init=False)
    _headers: dict[str, dict[str, str]] = field(default_factory=dict)
    _signing_in: asyncio.Lock = field(default_factory=asyncio.Lock)

    def __post_init__(self) -> None:
        self._next_api = itertools.cycle(self.api_urls)

    async def close(self) -> None:
        await self._http.aclose()

    # --- requests that survive faults ---------------------------------------------------

    async def send(
        self,
        method: str,
        path: str,
        actor: str | None = None,
        retry_conflict: bool = False,
        **kwargs: Any,
    ) -> httpx.Response:
        """The first answer that is not a 5xx, from whichever API answers; with the same
        body and headers (so the same Idempotency-Key) every time."""
        deadline = time.monotonic() + self.step_seconds
        while True:
            headers = dict(kwargs.pop("headers", {}))
            if actor is not None:
                headers |= await self.headers_for(actor)
            kwargs["headers"] = headers
            try:
                response = await self._http.request(method, next(self._next_api) + path, **kwargs)
            except httpx.TransportError:
                response = None
            still_processing = (
                retry_conflict
                and response is not None
                and response.status_code == 409
                and STILL_PROCESSING in response.text
            )
            if response is not None and response.status_code < 500 and not still_processing:
                return response
            if time.monotonic() > deadline:
                answer = "no answer" if response is None else response.status_code
                raise GaveUp(f"{method} {path}: still {answer} after {self.step_seconds} s")
            self.retries += 1
            await asyncio.sleep(RETRY_AFTER_SECONDS)

    async def headers_for(self, actor: str) -> dict[str, str]:
        async with self._signing_in:
            if actor not in self._headers:
                username = actor.replace(":", "-")
                response = await self.send(
                    "POST", "/auth/token", data={"username": username, "password": TEST_PASSWORD}
                )
                assert response.status_code == 200, response.text
                token = response.json()["access_token"]
                self._headers[actor] = {"Authorization": f"Bearer {token}"}
        return self._headers[actor]

    # --- one referral, start to finish --------------------------------------------------

    async def drive(self) -> UUID:
        body = person()
        key = str(uuid4())
        response = await self.send(
            "POST",
            "/referrals",
            actor=PRACTICE,
            retry_conflict=True,
            json=body,
            headers={"Idempotency-Key": key},
        )
        assert response.status_code == 201, f"{response.status_code} {response.text}"
        referral_id = UUID(response.json()["id"])
        self.submitted[referral_id] = body
        self.steps_done += 1
        base = f"/referrals/{referral_id}"
        await self.step(
            referral_id,
            lambda s: any(a["reached"] for a in s["contact_attempts"]),
            f"{base}/contact-attempts",
            {"method": "phone", "reached": True, "note": "Reached on the second ring"},
            ready=lambda s: s["status"] != "received",
        )
        await self.step(
            referral_id,
            lambda s: s["assessed"],
            f"{base}/assessment",
            {
                "need_codes": ["sp-social-groups"],
                "goals": ["Walk weekly"],
                "baseline": [SWEMWBS_BASELINE],
            },
        )
        state = await self.step(
            referral_id,
            lambda s: bool(s["service_referrals"]),
            f"{base}/connections",
            {"service_ids": [SERVICE]},
        )
        service_referral = f"/service-referrals/{state['service_referrals'][0]['id']}"
        organisation = organisation_actor(ORGANISATION)
        await self.step(
            referral_id,
            lambda s: s["service_referrals"][0]["status"] != "pending",
            f"{service_referral}/response",
            {"accepted": True},
            actor=organisation,
        )
        await self.step(
            referral_id,
            lambda s: s["first_uptake_at"] is not None,
            f"{service_referral}/uptake",
            {"started": True},
            actor=organisation,
        )
        for checkpoint in (1, 2):
            await self.step(
                referral_id,
                _checkpoint_is(checkpoint, "recorded"),
                f"{base}/follow-ups/{checkpoint}",
                {"measures": [SWEMWBS_LATER]},
                ready=_checkpoint_is(checkpoint, "open"),
                opens_at=_opens_at(checkpoint),
            )
        await self.until(referral_id, lambda detail: detail["status"] == "closed", "closed")
        return referral_id

    async def step(
        self,
        referral_id: UUID,
        done: Callable[[State], bool],
        path: str,
        body: dict[str, Any],
        actor: str = LINK_WORKER,
        ready: Callable[[State], bool] = lambda _: True,
        opens_at: Callable[[State], str] | None = None,
    ) -> State:
        """Take the step unless the workflow's state shows it taken (an answer lost to a
        fault); wait while it is not yet ready. Returns the state once it is done."""
        deadline = time.monotonic() + self.step_seconds
        while time.monotonic() < deadline:
            state = (await self.detail(referral_id))["state"]
            if state is not None and done(state):
                self.steps_done += 1
                return state
            if state is not None and ready(state):
                response = await self.send("POST", path, actor=actor, json=body)
                assert response.status_code in (200, 409), f"{path}: {response.text}"
                continue  # a 409: someone took it, or it is not yet due; the state says which
            if state is not None and opens_at is not None:
                opens = datetime.fromisoformat(opens_at(state))
                await asyncio.sleep(max((opens - datetime.now(UTC)).total_seconds(), 0))
            await asyncio.sleep(POLL_SECONDS)
        raise GaveUp(f"{path} not done within {self.step_seconds} s")

    async def until(self, referral_id: UUID, holds: Callable[[State], bool], what: str) -> None:
        deadline = time.monotonic() + self.step_seconds
        while not holds(await self.detail(referral_id)):
            if time.monotonic() > deadline:
                raise GaveUp(f"referral {referral_id} never {what}")
            await asyncio.sleep(POLL_SECONDS)

    async def detail(self, referral_id: UUID) -> State:
        response = await self.send("GET", f"/referrals/{referral_id}", actor=LINK_WORKER)
        assert response.status_code == 200, response.text
        detail: State = response.json()
        return detail


def _checkpoint(state: State, number: int) -> State:
    checkpoint: State = next(c for c in state["checkpoints"] if c["number"] == number)
    return checkpoint


def _checkpoint_is(number: int, status: str) -> Callable[[State], bool]:
    return lambda state: bool(_checkpoint(state, number)["status"] == status)


def _opens_at(number: int) -> Callable[[State], str]:
    return lambda state: str(_checkpoint(state, number)["opens_at"])


def add_accounts(add_account: Callable[[str, str], None]) -> None:
    """The accounts the driver signs in as."""
    for actor in (PRACTICE, LINK_WORKER, organisation_actor(ORGANISATION)):
        add_account(actor.replace(":", "-"), actor)
