"""ReportSnapshotWorkflow: one refresh of the printable page's snapshots
(``activities.report_snapshots``), started by a Temporal schedule the worker keeps."""

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from activities.report_snapshots import RefreshResult, ReportSnapshotActivities
    from domain.enums import REPORT_SNAPSHOT_WORKFLOW


@workflow.defn(name=REPORT_SNAPSHOT_WORKFLOW)
class ReportSnapshotWorkflow:
    @workflow.run
    async def run(self) -> RefreshResult:
        return await workflow.execute_activity_method(
            ReportSnapshotActivities.refresh_report_snapshots,
            # Each snapshot costs seconds at national size; a refresh cut short is finished by
            # the next run, since fresh snapshots are skipped.
            start_to_close_timeout=timedelta(minutes=10),
            retry_policy=RetryPolicy(maximum_attempts=3),
        )
