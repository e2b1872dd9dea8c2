"""Turning an HTTP call into a workflow update, and a rejected step into a 409."""

from typing import Any
from uuid import UUID

from fastapi import HTTPException, status
from pydantic import BaseModel
from temporalio.client import Client, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from domain.enums import ILLEGAL_STEP, REFERRAL_STATE_QUERY, ReferralUpdate
from domain.messages import ReferralState, workflow_id_for


async def run_step(
    client: Client, referral_id: UUID, update: ReferralUpdate, step: BaseModel
) -> ReferralState:
    handle = client.get_workflow_handle(workflow_id_for(referral_id))
    try:
        result: ReferralState = await handle.execute_update(update, step, result_type=ReferralState)
    except WorkflowUpdateFailedError as error:
        cause: Any = error.cause
        if isinstance(cause, ApplicationError) and cause.type == ILLEGAL_STEP:
            raise HTTPException(status.HTTP_409_CONFLICT, cause.message) from error
        raise
    except RPCError as error:
        raise _http_error_for(error) from error
    return result


async def current_state(client: Client, referral_id: UUID) -> ReferralState | None:
    handle = client.get_workflow_handle(workflow_id_for(referral_id))
    try:
        state: ReferralState = await handle.query(REFERRAL_STATE_QUERY, result_type=ReferralState)
    except RPCError:
        return None
    return state


def _http_error_for(error: RPCError) -> HTTPException:
    if error.status == RPCStatusCode.NOT_FOUND:
        if "completed" in error.message.lower():
            return HTTPException(
                status.HTTP_409_CONFLICT,
                "This referral is closed; no further steps can be recorded.",
            )
        return HTTPException(status.HTTP_404_NOT_FOUND, "No running process for this referral.")
    return HTTPException(
        status.HTTP_503_SERVICE_UNAVAILABLE, "The workflow service did not answer; try again."
    )
