"""Stand-ins for the referral workflow's local activities, registered under the real names:
they record each projection instead of writing it, and assign and suggest fixed answers, so a
workflow test needs no HTTP and no database."""

from temporalio import activity
from temporalio.exceptions import ApplicationError

from domain.enums import INTAKE_NOT_COMMITTED, ActorKind
from domain.messages import Actor, Assignment, AssignmentRequest, Projection, SuggestionRequest
from domain.policy import ReferralPolicy

# Plain days, so that every deadline is a fixed distance from the step that set it.
POLICY = ReferralPolicy(first_contact_in_working_days=False)
PRACTICE_ODS = "A81001"
LINK_WORKER = Actor(kind=ActorKind.LINK_WORKER, id="lw-amira")
TEAM_LEAD = "lw-lead"
SUGGESTED = ["svc-walks", "svc-benefits"]


class ReadModelStandIn:
    """Records each projection instead of writing it; assigns and suggests fixed answers."""

    def __init__(self, rows_committed: bool = True) -> None:
        self.projections: list[Projection] = []
        self.rows_committed = rows_committed

    @activity.defn(name="apply_projection")
    async def apply_projection(self, projection: Projection) -> None:
        if not self.rows_committed:
            raise ApplicationError("no referral row", type=INTAKE_NOT_COMMITTED, non_retryable=True)
        self.projections.append(projection)

    @activity.defn(name="assign_link_worker")
    async def assign_link_worker(self, request: AssignmentRequest) -> Assignment:
        return Assignment(link_worker_id=LINK_WORKER.id, team_lead_id=TEAM_LEAD)

    @activity.defn(name="suggest_services")
    async def suggest_services(self, request: SuggestionRequest) -> list[str]:
        return SUGGESTED
