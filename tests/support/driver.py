"""Drives referrals through the real API, worker and Temporal server, as the people would."""

import asyncio
import itertools
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any
from uuid import UUID

import httpx
import nhs_number
from sqlalchemy import Engine
from sqlmodel import Session, col, select
from temporalio.client import WorkflowExecutionStatus, WorkflowHistory
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from accounts.credentials import Role, add_user
from activities.relay import OutboxRelay
from activities.senders import LogSender
from core.settings import OutboxSettings
from domain.accounts import UserAccount
from domain.enums import RecipientKind
from domain.messages import ReferralState, workflow_id_for
from domain.tables import PERSONAL_FIELDS, OutboxMessage, OutcomeRecord, Task
from socialrx.worker import build_worker
from tests.support.temporal_env import skip_time

# Who acts, as kind:id; the driver signs in as each through the real POST /auth/token.
LINK_WORKER = "link_worker:lw-amira"


def practice_actor(ods_code: str) -> str:
    return f"practice:{ods_code}"


def organisation_actor(organisation_id: str) -> str:
    return f"organisation:{organisation_id}"


PRACTICE = practice_actor("A81001")
OTHER_PRACTICE = practice_actor("A81002")
ROLES = {
    "practice": Role.PRACTICE,
    "link_worker": Role.LINK_WORKER,
    "link_worker_team": Role.LINK_WORKER_TEAM,
    "organisation": Role.ORGANISATION,
    "commissioner": Role.COMMISSIONER,
}
TEST_PASSWORD = "correct horse battery staple"
# Valid NHS numbers (correct check digit) reserved for testing, all different, because a
# person may have only one open referral.
MORE_NHS_NUMBERS = [str(n) for n in range(9434765000, 9434765800) if nhs_number.is_valid(str(n))]
NHS_NUMBERS_USED = ["9434765919", "9434765870", "9434765862", "9434765854", *MORE_NHS_NUMBERS]
NHS_NUMBERS = itertools.cycle(NHS_NUMBERS_USED)
# What the person agreed may be shared; the most, so every part of the process shows.
CONSENT = {"share_with_organisations": "contact_and_reason", "outcome_to_gp": "details"}
SWEMWBS_BASELINE = {"instrument": "swemwbs", "answers": {f"item{i}": 2 for i in range(1, 8)}}
SWEMWBS_LATER = {"instrument": "swemwbs", "answers": {f"item{i}": 4 for i in range(1, 8)}}


def person(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "practice_ods": "A81001",
        "nhs_number": next(NHS_NUMBERS),
        "given_name": "Marigold",
        "family_name": "Featherstonehaugh",
        "birth_date": "1948-03-14",
        "postcode": "MB3 7QX",
        "address": "14 Quillfeather Lane, Millbrook",
        "phone": "07700 900461",
        "email": "marigold@example.org",
        "reason": "Widowed last spring, rarely leaves the house, low mood",
        "need_codes": ["sp-social-groups"],
        "consent_given": True,
        **CONSENT,
    }
    return body | overrides


@dataclass
class Driver:
    http: httpx.AsyncClient
    env: WorkflowEnvironment
    engine: Engine
    task_queue: str
    submitted: dict[UUID, dict[str, Any]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    # The time-skipping server never moves a task off a stopped worker's sticky queue, so
    # there each workflow task replays the whole history instead: a determinism check too.
    cache_workflows: bool = True
    _worker: Worker | None = None
    _headers: dict[str, dict[str, str]] = field(default_factory=dict)
    _signing_in: asyncio.Lock = field(default_factory=asyncio.Lock)
    _worker_run: "asyncio.Task[None] | None" = None

    # --- the worker ---------------------------------------------------------------------

    async def start_worker(self) -> None:
        self._worker = build_worker(
            self.env.client,
            self.task_queue,
            self.engine,
            max_cached_workflows=1000 if self.cache_workflows else 0,
        )
        self._worker_run = asyncio.create_task(self._worker.run())

    @property
    def worker_running(self) -> bool:
        return self._worker is not None

    async def stop_worker(self) -> None:
        assert self._worker is not None and self._worker_run is not None
        await self._worker.shutdown()
        await self._worker_run
        self._worker = self._worker_run = None

    async def terminate_open_referrals(self) -> None:
        """The time-skipping server is shared by the session and cannot skip time while a
        workflow of a finished test waits for a worker that is gone."""
        for referral_id in self.submitted:
            handle = self.env.client.get_workflow_handle(workflow_id_for(referral_id))
            if (await handle.describe()).status == WorkflowExecutionStatus.RUNNING:
                await handle.terminate(reason="test finished")

    async def restart_worker(self) -> None:
        """A new worker has no cached workflows: it must rebuild each from its history."""
        await self.stop_worker()
        await self.start_worker()

    # --- who acts -----------------------------------------------------------------------

    async def headers_for(self, actor: str) -> dict[str, str]:
        """The Authorization header of ``actor`` (kind:id), signed in through POST /auth/token
        with an account made for it (one per kind:id) the first time."""
        async with self._signing_in:
            if actor not in self._headers:
                username = actor.replace(":", "-")
                self.add_account(username, actor)
                response = await self.http.post(
                    "/auth/token", data={"username": username, "password": TEST_PASSWORD}
                )
                assert response.status_code == 200, response.text
                token = response.json()["access_token"]
                self._headers[actor] = {"Authorization": f"Bearer {token}"}
        return self._headers[actor]

    def add_account(self, username: str, actor: str) -> None:
        kind, _, identifier = actor.partition(":")
        with Session(self.engine) as session:
            if session.get(UserAccount, username) is None:
                add_user(session, username, TEST_PASSWORD, ROLES[kind], identifier)

    # --- steps --------------------------------------------------------------------------

    async def submit(self, **overrides: Any) -> UUID:
        body = person(**overrides)
        practice = await self.headers_for(f"practice:{body['practice_ods']}")
        response = await self.http.post("/referrals", json=body, headers=practice)
        assert response.status_code == 201, response.text
        referral_id = UUID(response.json()["id"])
        self.submitted[referral_id] = body
        await self.wait_for_status(referral_id, "assigned")
        return referral_id

    async def post(
        self, path: str, body: dict[str, Any], actor: str = LINK_WORKER, expect: int = 200
    ) -> dict[str, Any]:
        response = await self.http.post(path, json=body, headers=await self.headers_for(actor))
        assert response.status_code == expect, f"{path}: {response.status_code} {response.text}"
        result: dict[str, Any] = response.json()
        return result

    async def get(self, path: str, actor: str = LINK_WORKER, expect: int = 200) -> Any:
        response = await self.http.get(path, headers=await self.headers_for(actor))
        assert response.status_code == expect, f"{path}: {response.status_code} {response.text}"
        return response.json()

    async def contact(self, referral_id: UUID, reached: bool = True, **kw: Any) -> dict[str, Any]:
        note = f"Left a message for the person (attempt note {len(self.notes)})"
        self.notes.append(note)
        body = {"method": "phone", "reached": reached, "note": note}
        return await self.post(f"/referrals/{referral_id}/contact-attempts", body, **kw)

    async def assess(self, referral_id: UUID, **kw: Any) -> dict[str, Any]:
        goal = "Walk to the allotment with Quillfeather neighbours"
        self.notes.append(goal)
        body = {
            "need_codes": ["sp-social-groups", "sp-physical-activity"],
            "goals": [goal],
            "baseline": [SWEMWBS_BASELINE],
        }
        return await self.post(f"/referrals/{referral_id}/assessment", body, **kw)

    async def connect(self, referral_id: UUID, *service_ids: str, **kw: Any) -> list[str]:
        state = await self.post(
            f"/referrals/{referral_id}/connections", {"service_ids": list(service_ids)}, **kw
        )
        if "service_referrals" not in state:
            return []
        return [s["id"] for s in state["service_referrals"] if s["service_id"] in service_ids]

    async def respond(
        self, service_referral_id: str, organisation: str, accepted: bool = True, **kw: Any
    ) -> dict[str, Any]:
        return await self.post(
            f"/service-referrals/{service_referral_id}/response",
            {"accepted": accepted},
            actor=organisation_actor(organisation),
            **kw,
        )

    async def uptake(
        self, service_referral_id: str, organisation: str, started: bool = True, **kw: Any
    ) -> dict[str, Any]:
        return await self.post(
            f"/service-referrals/{service_referral_id}/uptake",
            {"started": started},
            actor=organisation_actor(organisation),
            **kw,
        )

    async def follow_up(self, referral_id: UUID, checkpoint: int, **kw: Any) -> dict[str, Any]:
        return await self.post(
            f"/referrals/{referral_id}/follow-ups/{checkpoint}", {"measures": [SWEMWBS_LATER]}, **kw
        )

    async def record_both_follow_ups(self, referral_id: UUID) -> dict[str, Any]:
        """From uptake: each checkpoint opens on time and is recorded; returns the final state."""
        await self.skip(timedelta(weeks=13, hours=1))
        await self.wait_for_status(referral_id, "follow_up")
        await self.follow_up(referral_id, 1)
        await self.skip(timedelta(weeks=4))
        await self.follow_up(referral_id, 2)
        return await self.wait_closed(referral_id)

    # --- observing ----------------------------------------------------------------------

    async def skip(self, duration: timedelta) -> None:
        await skip_time(self.env, duration)

    async def detail(self, referral_id: UUID) -> dict[str, Any]:
        response = await self.http.get(
            f"/referrals/{referral_id}", headers=await self.headers_for(LINK_WORKER)
        )
        assert response.status_code == 200, response.text
        result: dict[str, Any] = response.json()
        return result

    async def wait_for_status(self, referral_id: UUID, status: str, tries: int = 200) -> None:
        """Projections land asynchronously after system steps (timers, start-up)."""
        for _ in range(tries):
            summary = (await self.detail(referral_id))["status"]
            if summary == status:
                return
            await asyncio.sleep(0.05)
        raise AssertionError(f"referral {referral_id} stayed {summary}, never became {status}")

    async def wait_closed(self, referral_id: UUID) -> dict[str, Any]:
        handle = self.env.client.get_workflow_handle(
            workflow_id_for(referral_id), result_type=ReferralState
        )
        result = await asyncio.wait_for(handle.result(), timeout=60)
        await self.wait_for_status(referral_id, "closed")
        return result.model_dump(mode="json")

    async def wait_for_task(
        self, referral_id: UUID, kind: str, status: str = "open", tries: int = 200
    ) -> None:
        for _ in range(tries):
            if any(t.kind == kind and t.status == status for t in self.tasks(referral_id)):
                return
            await asyncio.sleep(0.05)
        raise AssertionError(f"no {status} {kind} task appeared for referral {referral_id}")

    def tasks(self, referral_id: UUID) -> list[Task]:
        with Session(self.engine) as session:
            return list(
                session.exec(
                    select(Task).where(Task.referral_id == referral_id).order_by(col(Task.id))
                ).all()
            )

    def outbox(self, referral_id: UUID) -> list[OutboxMessage]:
        """The referral's messages, after a relay pass has sent what was due (to the log)."""
        to_the_log = dict.fromkeys(RecipientKind, LogSender())
        OutboxRelay(self.engine, to_the_log, OutboxSettings()).drain()
        with Session(self.engine) as session:
            return list(
                session.exec(
                    select(OutboxMessage)
                    .where(OutboxMessage.referral_id == referral_id)
                    .order_by(col(OutboxMessage.id))
                ).all()
            )

    def outcomes(self, referral_id: UUID) -> list[OutcomeRecord]:
        with Session(self.engine) as session:
            return list(
                session.exec(select(OutcomeRecord).where(OutcomeRecord.referral_id == referral_id))
            )

    async def histories(self) -> dict[UUID, WorkflowHistory]:
        return {
            referral_id: await self.env.client.get_workflow_handle(
                workflow_id_for(referral_id)
            ).fetch_history()
            for referral_id in self.submitted
        }

    def personal_details(self) -> list[str]:
        details = list(self.notes)
        for body in self.submitted.values():
            details += [body[field] for field in PERSONAL_FIELDS]
        return details
