"""Every page's router, and where the pages' static files are."""

from pathlib import Path

from fastapi import APIRouter

from api.web import (
    action_links,
    commissioner,
    contact_details,
    link_worker,
    organisation,
    practice,
    sign_in,
)
from api.web.templating import STATIC_URL

STATIC_DIR = Path(__file__).parent / "static"

router = APIRouter(include_in_schema=False)
for area in (
    sign_in,
    practice,
    link_worker,
    organisation,
    commissioner,
    action_links,
    contact_details,
):
    router.include_router(area.router)

__all__ = ["STATIC_DIR", "STATIC_URL", "router"]
