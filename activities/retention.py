"""The retention job's activities, as the worker runs them on the schedule: redact everyone
due (``activities.records``), then delete their referrals' workflow histories."""

import logging
from collections.abc import Iterable
from datetime import datetime, timedelta
from uuid import UUID

from sqlalchemy import Engine
from sqlmodel import Session
from temporalio import activity
from temporalio.api.common.v1 import WorkflowExecution
from temporalio.api.workflowservice.v1 import DeleteWorkflowExecutionRequest
from temporalio.client import Client, WorkflowExecutionStatus
from temporalio.service import RPCError, RPCStatusCode

from activities.records import redact_due
from domain.messages import SYSTEM, workflow_id_for

log = logging.getLogger(__name__)

TEMPORAL_CALL_TIMEOUT = timedelta(seconds=10)


async def delete_histories(client: Client, referral_ids: Iterable[UUID | str]) -> int:
    """Delete the Temporal history of each referral whose workflow has ended (it holds codes
    and answers under the referral's id; the namespace's retention would delete it later).
    A history already gone counts as deleted; a workflow still running is left alone."""
    deleted = 0
    for referral_id in referral_ids:
        workflow_id = workflow_id_for(UUID(str(referral_id)))
        try:
            described = await client.get_workflow_handle(workflow_id).describe(
                rpc_timeout=TEMPORAL_CALL_TIMEOUT
            )
            if described.status == WorkflowExecutionStatus.RUNNING:
                log.warning("history of %s kept: its workflow is still running", workflow_id)
                continue
            await client.workflow_service.delete_workflow_execution(
                DeleteWorkflowExecutionRequest(
                    namespace=client.namespace,
                    workflow_execution=WorkflowExecution(workflow_id=workflow_id),
                ),
                timeout=TEMPORAL_CALL_TIMEOUT,
            )
        except RPCError as error:
            if error.status != RPCStatusCode.NOT_FOUND:
                raise
        deleted += 1
    return deleted


class RecordsActivities:
    """The retention schedule's activities: redact everyone due, then delete their histories."""

    def __init__(self, engine: Engine, client: Client, retention: timedelta) -> None:
        self.engine = engine
        self.client = client
        self.retention = retention

    @activity.defn
    def redact_due(self, now: datetime) -> list[str]:
        """The referrals redacted as of ``now`` (the workflow's time, so a test can move it);
        ids only: they go back through the workflow."""
        with Session(self.engine, expire_on_commit=False) as session:
            return [str(i) for i in redact_due(session, self.retention, SYSTEM, now)]

    @activity.defn
    async def delete_histories(self, referral_ids: list[str]) -> int:
        return await delete_histories(self.client, referral_ids)
