"""The retention job, started by the worker's Temporal schedule (``socialrx.worker``): redact
every person whose last referral closed longer ago than the retention period, then delete
those referrals' workflow histories. It carries referral ids only."""

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from activities.retention import RecordsActivities

RETENTION_WORKFLOW_ID = "records-retention"
RETRY = RetryPolicy(maximum_interval=timedelta(minutes=5), maximum_attempts=10)


@workflow.defn
class RetentionWorkflow:
    @workflow.run
    async def run(self) -> int:
        """How many referrals were redacted in this pass."""
        redacted = await workflow.execute_activity_method(
            RecordsActivities.redact_due,
            workflow.now(),
            start_to_close_timeout=timedelta(minutes=10),
            retry_policy=RETRY,
        )
        if redacted:
            await workflow.execute_activity_method(
                RecordsActivities.delete_histories,
                redacted,
                start_to_close_timeout=timedelta(minutes=10),
                retry_policy=RETRY,
            )
        workflow.logger.info("retention pass redacted %d referral(s)", len(redacted))
        return len(redacted)
