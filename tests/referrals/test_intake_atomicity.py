"""A referral's rows and its workflow exist together or not at all."""

import asyncio
from datetime import timedelta
from uuid import UUID, uuid4

from temporalio.client import WorkflowExecutionStatus
from temporalio.service import RPCError, RPCStatusCode

from core.settings import Settings
from domain.enums import REFERRAL_WORKFLOW
from domain.messages import ReferralInput, ReferralState, workflow_id_for
from domain.policy import ReferralPolicy
from tests.support.driver import PRACTICE, Driver, person
from tests.support.intake_helpers import StartWatch, api_with, counts


def refuse() -> None:
    raise RPCError("the workflow service is unavailable", RPCStatusCode.UNAVAILABLE, b"")


async def test_a_workflow_that_fails_to_start_leaves_no_rows_and_a_retry_succeeds(
    driver: Driver, settings: Settings
) -> None:
    watch = StartWatch()
    watch.before = refuse
    body = person()
    headers = (await driver.headers_for(PRACTICE)) | {"Idempotency-Key": str(uuid4())}
    async with api_with(driver, settings, watch) as http:
        failed = await http.post("/referrals", json=body, headers=headers)
        assert failed.status_code == 503
        assert "was not saved" in failed.json()["detail"]
        assert counts(driver) == (0, 0, 0)
        assert watch.started == []

        watch.before = lambda: None
        retried = await http.post("/referrals", json=body, headers=headers)
    assert retried.status_code == 201
    referral_id = UUID(retried.json()["id"])
    driver.submitted[referral_id] = body
    await driver.wait_for_status(referral_id, "assigned")
    assert counts(driver) == (1, 1, 1)


async def test_a_workflow_started_without_an_answer_is_stopped(
    dev_driver: Driver, settings: Settings
) -> None:
    # The start reached the server, but the API heard only an error. (On the dev server: the
    # time-skipping one stops skipping after a workflow is terminated mid-step.)
    driver = dev_driver
    watch = StartWatch()
    watch.after = refuse
    async with api_with(driver, settings, watch) as http:
        failed = await http.post(
            "/referrals", json=person(), headers=(await driver.headers_for(PRACTICE))
        )
    assert failed.status_code == 503
    assert counts(driver) == (0, 0, 0)
    (workflow_id,) = watch.started
    handle = driver.env.client.get_workflow_handle(workflow_id)
    assert (await handle.describe()).status == WorkflowExecutionStatus.TERMINATED


async def test_a_workflow_whose_rows_never_come_ends_by_itself(dev_driver: Driver) -> None:
    # As if the API died between starting the workflow and committing the rows.
    driver = dev_driver
    referral_id = uuid4()
    handle = await driver.env.client.start_workflow(
        REFERRAL_WORKFLOW,
        ReferralInput(
            referral_id=referral_id,
            practice_ods="A81001",
            need_codes=["sp-social-groups"],
            policy=ReferralPolicy(intake_wait=timedelta(seconds=1)),
        ),
        id=workflow_id_for(referral_id),
        task_queue=driver.task_queue,
        result_type=ReferralState,
    )
    state = await asyncio.wait_for(handle.result(), timeout=60)
    assert state.status == "received"
    assert state.link_worker_id is None
    assert counts(driver) == (0, 0, 0)
    assert driver.outbox(referral_id) == []
