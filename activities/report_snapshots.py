"""The scheduled refresh of the printable page's report snapshots (``reports.snapshots``):
the pages asked for recently are computed again when their facts changed, so the next
commissioner to print one gets it warm."""

from sqlalchemy import Engine
from temporalio import activity

from core.settings import ReportSettings
from reports.snapshots import RefreshResult, refresh_snapshots

# RefreshResult too: workflows may name activities, not reports.
__all__ = ["RefreshResult", "ReportSnapshotActivities"]


class ReportSnapshotActivities:
    def __init__(self, engine: Engine, settings: ReportSettings) -> None:
        self._engine = engine
        self._settings = settings

    # Each snapshot is stored in a short transaction of its own: let it finish rather than
    # be cancelled between a statement and its answer (see activities/read_model.py).
    @activity.defn(name="refresh_report_snapshots", no_thread_cancel_exception=True)
    def refresh_report_snapshots(self) -> RefreshResult:
        """Idempotent: a snapshot already fresh is left alone, and two refreshes at once each
        store theirs by upsert."""
        return refresh_snapshots(self._engine, self._settings)
