"""Saved histories replay against today's workflow code, and hold no personal data.

Regenerate the saved histories after a deliberate change of command sequence (and put the
change behind ``workflow.patched``) with:

    SOCIALRX_SAVE_HISTORIES=<label> .venv/bin/pytest tests/referrals/test_histories.py
    SOCIALRX_SAVE_HISTORIES=<label> .venv/bin/pytest -k save tests/workflows

``unable-to-contact-bunched-v2-suggestions`` was recorded once with the workflow of before
``contact-attempt-span`` (which closed at the span's end without another attempt), so that the
old rule keeps being replayed; the saving test records the new rule only.
"""

import json
import os
from datetime import timedelta
from pathlib import Path

import pytest
from temporalio.api.common.v1 import Payload
from temporalio.client import WorkflowHistory
from temporalio.worker import Replayer

from core.temporal import DATA_CONVERTER
from socialrx.worker import WORKFLOW_RUNNER
from tests.support.driver import NHS_NUMBERS_USED, PERSONAL_FIELDS, Driver, person
from tests.support.history_text import history_text, personal_details_in
from workflows.referral import ReferralWorkflow

SAVED = Path(__file__).parents[1] / "histories"


def saved_histories() -> list[WorkflowHistory]:
    return [
        WorkflowHistory.from_json(path.stem, path.read_text())
        for path in sorted(SAVED.glob("*.json"))
    ]


async def test_saved_histories_replay_on_the_current_workflow() -> None:
    histories = saved_histories()
    assert len(histories) >= 2, "tests/histories/ should hold the saved lifecycles"
    replayer = Replayer(
        workflows=[ReferralWorkflow], data_converter=DATA_CONVERTER, workflow_runner=WORKFLOW_RUNNER
    )
    for history in histories:
        result = await replayer.replay_workflow(history, raise_on_replay_failure=True)
        assert result.replay_failure is None, history.workflow_id


def test_saved_histories_hold_no_personal_data() -> None:
    # The saved lifecycles were driven with the default person and notes of the driver.
    details = [person()[field] for field in PERSONAL_FIELDS if field != "nhs_number"]
    details += [*NHS_NUMBERS_USED, "Quillfeather", "attempt note"]
    for history in saved_histories():
        assert personal_details_in(history_text(history), details) == []


def test_the_personal_data_check_sees_inside_encoded_payloads() -> None:
    """Guards the guard: payloads are base64 in history JSON, and must still be searched."""
    payload = DATA_CONVERTER.payload_converter.to_payloads([{"given_name": "Marigold"}])[0]
    history = WorkflowHistory.from_json(
        "wf",
        json.dumps(
            {
                "events": [
                    {
                        "eventId": "1",
                        "eventType": "EVENT_TYPE_WORKFLOW_EXECUTION_STARTED",
                        "workflowExecutionStartedEventAttributes": {
                            "workflowType": {"name": "ReferralWorkflow"},
                            "input": {"payloads": [_payload_json(payload)]},
                        },
                    }
                ]
            }
        ),
    )
    assert personal_details_in(history_text(history), ["Marigold"]) == ["Marigold"]


def _payload_json(payload: Payload) -> dict[str, object]:
    import base64

    return {
        "metadata": {k: base64.b64encode(v).decode() for k, v in payload.metadata.items()},
        "data": base64.b64encode(payload.data).decode(),
    }


@pytest.mark.skipif(not os.environ.get("SOCIALRX_SAVE_HISTORIES"), reason="saves fixtures")
async def test_save_lifecycle_histories(driver: Driver) -> None:
    completed = await driver.submit()
    await driver.contact(completed, reached=False)
    await driver.contact(completed)
    await driver.assess(completed)
    (walks,) = await driver.connect(completed, "svc-health-walks")
    await driver.skip(timedelta(days=8))
    await driver.respond(walks, "org-millbrook-leisure-trust")
    await driver.uptake(walks, "org-millbrook-leisure-trust")
    await driver.skip(timedelta(weeks=13, hours=1))
    await driver.wait_for_status(completed, "follow_up")
    await driver.follow_up(completed, 1)
    await driver.skip(timedelta(weeks=7))  # checkpoint 2 opens and closes unrecorded
    await driver.wait_closed(completed)

    withdrawn = await driver.submit()
    await driver.contact(withdrawn)
    await driver.assess(withdrawn)
    await driver.connect(withdrawn, "svc-pottery-for-beginners")
    await driver.skip(timedelta(days=15))
    await driver.connect(withdrawn, "svc-health-walks")
    await driver.post(f"/referrals/{withdrawn}/withdraw-consent", {})
    await driver.wait_closed(withdrawn)

    SAVED.mkdir(exist_ok=True)
    # Histories saved before a change stay, so replay keeps covering older code paths.
    names = {completed: "completed-one-follow-up-missed", withdrawn: "auto-declined-then-withdrawn"}
    version = os.environ["SOCIALRX_SAVE_HISTORIES"]
    for referral_id, history in (await driver.histories()).items():
        (SAVED / f"{names[referral_id]}-{version}.json").write_text(history.to_json())
