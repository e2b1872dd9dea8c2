"""Faults survived on the production-like topology: the Temporal dev server on a database
file, PostgreSQL, and two each of `socialrx worker` and `socialrx api` as processes of their
own. While a driver takes referrals through every step over HTTP, a worker, the Temporal
server, an API and PostgreSQL are each killed and started again; at the end nothing may be
lost, duplicated, stuck or inconsistent, and no message may be missing or sent twice.

`scripts/test` runs it alone after the rest; by hand:
`scripts/with-postgres .venv/bin/pytest -m faults tests/faults`. A history whose state cannot
be queried at the end is kept in the test's temporary directory, to replay with the Replayer.
"""

import asyncio
import threading
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path
from uuid import UUID, uuid4

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, col, select
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client, WorkflowQueryFailedError

from accounts.credentials import add_user
from core.temporal import DATA_CONVERTER
from domain.enums import REFERRAL_STATE_QUERY
from domain.messages import ReferralInput, ReferralState, workflow_id_for
from domain.policy import ReferralPolicy
from domain.tables import OutboxMessage, Referral
from tests.support.driver import ROLES, TEST_PASSWORD
from tests.support.fault_topology import Postgres, Topology, running_topology, wait_until
from tests.support.http_driver import HttpDriver, add_accounts
from tests.support.system import load_directory_and_people
from workflows.referral import ReferralWorkflow

pytestmark = [pytest.mark.faults, pytest.mark.system]

REFERRALS = 52
# Referrals driven at once: enough that every fault lands on requests in flight.
CONCURRENCY = 26
# Compressed deadlines: the follow-ups open seconds after uptake, and a workflow whose API
# died before it committed the referral's rows ends soon.
POLICY = {
    "SOCIALRX_POLICY__FOLLOW_UP_CHECKPOINTS": '["PT15S", "PT25S"]',
    "SOCIALRX_POLICY__FOLLOW_UP_WINDOW": "PT10M",
    "SOCIALRX_POLICY__INTAKE_WAIT": "PT15S",
    # Fail fast while Temporal or the workers are down, so the driver retries soon.
    "SOCIALRX_TEMPORAL__RPC_TIMEOUT": "PT5S",
    "SOCIALRX_TEMPORAL__STEP_TIMEOUT": "PT5S",
}
# Steps the driver must complete after each fault before the next: the system carries on.
PROGRESS_BETWEEN_FAULTS = 25
# The whole drive's bound: it takes about 2 minutes.
DRIVE_SECONDS = 200.0
# How long the API may take to notice the database is gone, and to recover once it is back.
OUTAGE_SEEN_SECONDS = 20.0
RECOVERY_SECONDS = 30.0
# Every referral driven to the end has these messages, each exactly once (two checkpoints).
EXPECTED_MESSAGES = Counter(
    {
        "gp_acknowledgement": 1,
        "link_worker_assigned": 1,
        "organisation_referral": 1,
        "link_worker_checkpoint_open": 2,
        "gp_outcome": 1,
    }
)


@pytest.fixture
def postgres(database_url: str) -> Postgres:
    if not database_url.startswith("postgresql"):
        pytest.skip("the fault suite needs PostgreSQL: run it under scripts/with-postgres")
    cluster = Postgres.from_environment()
    if cluster is None:
        pytest.skip("no pg_ctl for the test cluster: run it under scripts/with-postgres")
    return cluster


def test_referrals_survive_killed_processes_and_a_database_restart(
    postgres: Postgres, database_url: str, engine: Engine, tmp_path: Path
) -> None:
    load_directory_and_people(engine)
    add_accounts(lambda username, actor: _add_account(engine, username, actor))
    with running_topology(tmp_path, database_url, POLICY) as topology:
        orphan = asyncio.run(_start_an_orphan(topology))
        driver = HttpDriver(topology.api_urls)
        faults = FaultInjector(topology, postgres, driver)
        driven, failures = asyncio.run(_drive_with_faults(driver, faults))
        assert faults.error is None, f"a fault was not survived: {faults.error}"
        assert faults.done == ["worker", "temporal", "api", "postgres"]
        # The workers too recovered from the database restart: steps completed after it
        # (each waits for the worker's projection) and every referral reached the end.
        assert driver.steps_done > faults.steps_after_last_fault
        counts = asyncio.run(_count_damage(topology, engine, driven, tmp_path))
        orphan_outcome = asyncio.run(_orphan_outcome(topology, orphan))
    print(f"\nfaults: {faults.done}; driven: {len(driven)}; resent: {driver.retries}; {counts}")
    assert not failures, f"referrals not driven to the end: {failures}"
    assert len(driven) >= 50
    assert counts == dict.fromkeys(counts, 0)
    # The orphan ended by itself (it counts as stuck otherwise), and its one log call, through
    # the worker's real logging, failed no workflow task on the way.
    assert orphan_outcome == ("received", 0)


def _add_account(engine: Engine, username: str, actor: str) -> None:
    kind, _, identifier = actor.partition(":")
    with Session(engine) as session:
        add_user(session, username, TEST_PASSWORD, ROLES[kind], identifier)


class FaultInjector:
    """Kills and restarts each part in turn, in a thread of its own while the driver runs,
    waiting between faults until the driver has made progress."""

    def __init__(self, topology: Topology, postgres: Postgres, driver: HttpDriver) -> None:
        self.topology = topology
        self.postgres = postgres
        self.driver = driver
        self.done: list[str] = []
        self.steps_after_last_fault = 0
        self.error: BaseException | None = None
        self.finished = threading.Event()

    def run(self) -> None:
        try:
            for name, fault in (
                ("worker", self.kill_a_worker),
                ("temporal", self.kill_temporal),
                ("api", self.kill_an_api),
                ("postgres", self.restart_postgres),
            ):
                self.wait_for_progress()
                fault()
                self.done.append(name)
                self.steps_after_last_fault = self.driver.steps_done
        except BaseException as error:
            self.error = error
        finally:
            self.finished.set()

    def wait_for_progress(self) -> None:
        target = self.driver.steps_done + PROGRESS_BETWEEN_FAULTS
        wait_until(lambda: self.driver.steps_done >= target, "the driver made progress", 120)

    def kill_a_worker(self) -> None:
        self.topology.restart(self.topology.workers[0])

    def kill_temporal(self) -> None:
        self.topology.restart(self.topology.temporal)
        self.topology.wait_for_temporal()

    def kill_an_api(self) -> None:
        api = self.topology.apis[0]
        self.topology.restart(api)
        self.topology.wait_for_api(api)

    def restart_postgres(self) -> None:
        """The APIs show the outage, then recover by themselves: same processes, no restart."""
        pids = [service.pid for service in self.topology.services]
        urls = self.topology.api_urls
        self.postgres.stop_immediately()
        try:
            wait_until(
                lambda: all(self.topology.database_down(url) for url in urls),
                "every API's /health/ready answers 503 while PostgreSQL is down",
                OUTAGE_SEEN_SECONDS,
            )
        finally:
            self.postgres.start()
        took = wait_until(
            lambda: all(self.topology.ready(url) == 200 for url in urls),
            "every API's /health/ready answers 200 again after PostgreSQL is back",
            RECOVERY_SECONDS,
        )
        print(f"\nthe APIs were ready again {took:.1f} s after PostgreSQL started")
        assert [service.pid for service in self.topology.services] == pids
        for service in self.topology.services:
            service.assert_running()


async def _drive_with_faults(
    driver: HttpDriver, faults: FaultInjector
) -> tuple[set[UUID], list[str]]:
    gate = asyncio.Semaphore(CONCURRENCY)

    async def one() -> UUID:
        async with gate:
            return await driver.drive()

    async def in_time() -> UUID:
        # Well inside pytest's timeout, so that what went wrong is counted and reported.
        return await asyncio.wait_for(one(), DRIVE_SECONDS)

    injecting = asyncio.create_task(asyncio.to_thread(faults.run))
    try:
        results = await asyncio.gather(
            *(in_time() for _ in range(REFERRALS)), return_exceptions=True
        )
        # If the driver finished first, the faults still to come need nothing more from it.
        await injecting
    finally:
        await driver.close()
    failures = [repr(result) for result in results if isinstance(result, BaseException)]
    return set(driver.submitted), failures


async def _start_an_orphan(topology: Topology) -> UUID:
    """What an API killed between starting a referral's workflow and committing its rows
    leaves behind: a workflow whose rows never come. It must end after ``intake_wait``."""
    client = await Client.connect(topology.temporal_address, data_converter=DATA_CONVERTER)
    referral_id = uuid4()
    await client.start_workflow(
        ReferralWorkflow.run,
        ReferralInput(
            referral_id=referral_id,
            practice_ods="A81001",
            policy=ReferralPolicy(intake_wait=timedelta(seconds=15)),
        ),
        id=workflow_id_for(referral_id),
        task_queue=topology.task_queue,
    )
    return referral_id


async def _orphan_outcome(topology: Topology, referral_id: UUID) -> tuple[str, int]:
    """How the orphan ended (its result's status), and how many workflow tasks failed."""
    client = await Client.connect(topology.temporal_address, data_converter=DATA_CONVERTER)
    handle = client.get_workflow_handle(workflow_id_for(referral_id), result_type=ReferralState)
    ended = await asyncio.wait_for(handle.result(), timeout=60)
    history = await handle.fetch_history()
    failed = EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED
    return ended.status, sum(event.event_type == failed for event in history.events)


async def _count_damage(
    topology: Topology, engine: Engine, driven: set[UUID], keep_histories_in: Path
) -> dict[str, int]:
    """Lost: driven but no row. Duplicated: a row nobody drove (a retried intake that made a
    second referral). Stuck: a workflow still running once every deadline has passed.
    Inconsistent: the read model's status is not the workflow's. Messages: missing or extra.
    A history that cannot be queried is kept, to replay with the Replayer."""
    client = await Client.connect(topology.temporal_address, data_converter=DATA_CONVERTER)
    with Session(engine) as session:
        rows = {r.id: r.status for r in session.exec(select(Referral))}
        messages = session.exec(
            select(OutboxMessage.referral_id, OutboxMessage.kind).order_by(col(OutboxMessage.id))
        ).all()
    stuck = await _still_running(client, topology.task_queue)
    inconsistent = 0
    for referral_id in driven & rows.keys():
        handle = client.get_workflow_handle(workflow_id_for(referral_id))
        try:
            state = await handle.query(REFERRAL_STATE_QUERY, result_type=ReferralState)
        except WorkflowQueryFailedError as error:  # e.g. its history no longer replays
            kept = keep_histories_in / f"{referral_id}.json"
            kept.write_text((await handle.fetch_history()).to_json())
            print(
                f"referral {referral_id}: the workflow's state cannot be read: {error}; "
                f"its history is in {kept}"
            )
            inconsistent += 1
            continue
        inconsistent += state.status != rows[referral_id]
    kinds: dict[UUID, Counter[str]] = {referral_id: Counter() for referral_id in driven}
    for referral_id, kind in messages:
        kinds.setdefault(referral_id, Counter())[kind] += 1
    return {
        "lost": len(driven - rows.keys()),
        "duplicated": len(rows.keys() - driven),
        "stuck": stuck,
        "inconsistent": inconsistent,
        "messages_missing": sum((EXPECTED_MESSAGES - found).total() for found in kinds.values()),
        "messages_twice": sum((found - EXPECTED_MESSAGES).total() for found in kinds.values()),
    }


async def _still_running(client: Client, task_queue: str) -> int:
    """Workflows still open once the longest deadline has passed: every driven referral is
    closed, and one whose API died before committing its rows ends after ``intake_wait``."""
    query = f'TaskQueue="{task_queue}" AND ExecutionStatus="Running"'
    deadline = time.monotonic() + 30
    while True:
        running = [w async for w in client.list_workflows(query)]
        if not running or time.monotonic() > deadline:
            return len(running)
        await asyncio.sleep(1)
