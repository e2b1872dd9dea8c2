"""Turning an HTTP call into a workflow update, and a rejected step into a 409."""

from typing import Any
from uuid import UUID

from fastapi import HTTPException, status
from pydantic import BaseModel
from sqlmodel import Session
from temporalio.client import (
    Client,
    WorkflowExecutionStatus,
    WorkflowHandle,
    WorkflowUpdateFailedError,
)
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from domain.enums import ILLEGAL_STEP, REFERRAL_STATE_QUERY, ReferralUpdate
from domain.messages import ReferralState, workflow_id_for


async def run_step(
    client: Client,
    session: Session,
    referral_id: UUID,
    update: ReferralUpdate,
    step: BaseModel,
) -> ReferralState:
    # Give the pooled connection back while the step runs: it can take a while, and many
    # requests waiting on Temporal must not hold the whole pool (or, on SQLite, a lock).
    session.commit()
    handle = client.get_workflow_handle(workflow_id_for(referral_id))
    try:
        result: ReferralState = await handle.execute_update(update, step, result_type=ReferralState)
    except WorkflowUpdateFailedError as error:
        cause: Any = error.cause
        if isinstance(cause, ApplicationError) and cause.type == ILLEGAL_STEP:
            raise HTTPException(status.HTTP_409_CONFLICT, cause.message) from error
        raise
    except RPCError as error:
        raise await _http_error_for(handle, error) from error
    return result


async def current_state(client: Client, referral_id: UUID) -> ReferralState | None:
    handle = client.get_workflow_handle(workflow_id_for(referral_id))
    try:
        state: ReferralState = await handle.query(REFERRAL_STATE_QUERY, result_type=ReferralState)
    except RPCError:
        return None
    return state


async def _http_error_for(handle: WorkflowHandle[Any, Any], error: RPCError) -> HTTPException:
    if error.status != RPCStatusCode.NOT_FOUND:
        return HTTPException(
            status.HTTP_503_SERVICE_UNAVAILABLE, "The workflow service did not answer; try again."
        )
    # Servers word "that workflow has finished" differently; asking is the reliable way.
    try:
        running = (await handle.describe()).status == WorkflowExecutionStatus.RUNNING
    except RPCError:
        return HTTPException(status.HTTP_404_NOT_FOUND, "No process runs for this referral.")
    if running:
        return HTTPException(
            status.HTTP_503_SERVICE_UNAVAILABLE, "The workflow service did not answer; try again."
        )
    return HTTPException(
        status.HTTP_409_CONFLICT, "This referral is closed; no further steps can be recorded."
    )
