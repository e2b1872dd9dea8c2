"""Link workers' pages: their tasks, the team's caseload, a referral (their working screen)
and a form per step. Every step goes through the one step service (``api.steps.Steps``)."""

from fastapi import APIRouter

from api.web.link_worker import caseload, referral, step_forms, tasks

router = APIRouter(include_in_schema=False)
for part in (tasks, caseload, referral, step_forms):
    router.include_router(part.router)
