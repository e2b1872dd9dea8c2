"""OrphanSweepWorkflow: one run of the orphan sweep (``activities.orphans``), started by a
Temporal schedule that the worker keeps (``socialrx.worker``)."""

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from activities.orphans import OrphanSweepActivities, OrphanSweepResult
    from domain.enums import ORPHAN_SWEEP_WORKFLOW


@workflow.defn(name=ORPHAN_SWEEP_WORKFLOW)
class OrphanSweepWorkflow:
    @workflow.run
    async def run(self) -> OrphanSweepResult:
        result = await workflow.execute_activity_method(
            OrphanSweepActivities.sweep_orphans,
            start_to_close_timeout=timedelta(minutes=5),
            retry_policy=RetryPolicy(maximum_attempts=3),
        )
        workflow.logger.info(
            "orphan sweep: %d restarted, %d closed", len(result.restarted), len(result.closed)
        )
        return result
