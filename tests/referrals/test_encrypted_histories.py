"""With payload keys set, Temporal holds only ciphertext: a history fetched raw from the server
shows no need code or questionnaire answer, and it still replays, with the keys rotated since."""

import base64
import json
from typing import Any

from pydantic import SecretStr
from sqlalchemy import Engine
from temporalio.api.common.v1 import Payload
from temporalio.client import WorkflowHistory
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Replayer

from core.payload_encryption import ENCODING, new_key
from core.settings import Settings, TemporalConnectionSettings
from core.temporal import data_converter_for, payload_codec_for
from domain.messages import workflow_id_for
from socialrx.worker import WORKFLOW_RUNNER
from tests.referrals.test_histories import saved_histories
from tests.support.driver import SWEMWBS_BASELINE
from tests.support.history_text import history_text, personal_details_in
from tests.support.system import running_system
from tests.support.temporal_env import configured_as
from workflows.referral import ReferralWorkflow

OLD, NEW = new_key(), new_key()
# What the driver's referral and assessment carry into the workflow.
HEALTH_DATA = ["sp-social-groups", "sp-physical-activity", "swemwbs", *SWEMWBS_BASELINE["answers"]]


def keys(**named: str) -> TemporalConnectionSettings:
    return TemporalConnectionSettings(
        payload_keys={key_id: SecretStr(key) for key_id, key in named.items()}
    )


def payloads_in(history: WorkflowHistory) -> list[Payload]:
    """Every payload the data converter encoded. Markers (local activities, patches) also hold
    the SDK's own bookkeeping in clear (sequence, activity type, patch ID), and search
    attributes (the patch IDs again) stay clear for the server to index: neither is ours to
    encrypt, nor ever what the workflow carries. A local activity's result is ours."""
    found: list[Payload] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if "markerName" in node:
                walk(node.get("details", {}).get("result"))
                return
            if isinstance(node.get("data"), str) and isinstance(node.get("metadata"), dict):
                found.append(
                    Payload(
                        metadata={k: base64.b64decode(v) for k, v in node["metadata"].items()},
                        data=base64.b64decode(node["data"]),
                    )
                )
            for key, value in node.items():
                if key != "searchAttributes":
                    walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(json.loads(history.to_json()))
    return found


def replayer(temporal: TemporalConnectionSettings) -> Replayer:
    return Replayer(
        workflows=[ReferralWorkflow],
        data_converter=data_converter_for(temporal),
        workflow_runner=WORKFLOW_RUNNER,
    )


async def test_histories_on_the_server_are_ciphertext_and_replay_after_key_rotation(
    time_skipping_env: WorkflowEnvironment, engine: Engine, settings: Settings
) -> None:
    encrypting = configured_as(time_skipping_env, keys(**{"2026-11": OLD}))
    async with running_system(encrypting, engine, settings, False) as driver:
        referral_id = await driver.submit()
        await driver.contact(referral_id)
        await driver.assess(referral_id)
        # Through a client without the codec: what anyone with access to Temporal sees.
        raw = await time_skipping_env.client.get_workflow_handle(
            workflow_id_for(referral_id)
        ).fetch_history()

    payloads = payloads_in(raw)
    assert payloads, "the history holds no payloads at all"
    in_clear = [p for p in payloads if p.metadata.get("encoding") != ENCODING]
    assert in_clear == []
    nhs_number = driver.submitted[referral_id]["nhs_number"]
    assert personal_details_in(history_text(raw), [*HEALTH_DATA, nhs_number]) == []
    # Guards the check: decrypted, the same payloads hold the health data.
    codec = payload_codec_for(keys(**{"2026-11": OLD}))
    assert codec is not None
    opened = b"\n".join(payload.data for payload in await codec.decode(payloads)).decode()
    assert personal_details_in(opened, HEALTH_DATA) == HEALTH_DATA

    rotated = keys(**{"2026-11": OLD, "2026-12": NEW})
    result = await replayer(rotated).replay_workflow(raw, raise_on_replay_failure=False)
    assert result.replay_failure is None
    # Without the key it was sealed with, nothing of it can be read.
    result = await replayer(keys(**{"2026-12": NEW})).replay_workflow(
        raw, raise_on_replay_failure=False
    )
    assert result.replay_failure is not None


async def test_saved_histories_from_before_encryption_replay_with_the_codec_on() -> None:
    """Histories written in clear (running workflows, tests/histories/) go on replaying once
    keys are set: payloads without the encrypted encoding pass through."""
    on = replayer(keys(**{"2026-12": NEW}))
    for history in saved_histories():
        result = await on.replay_workflow(history, raise_on_replay_failure=False)
        assert result.replay_failure is None, history.workflow_id
