"""The social prescribing taxonomy shipped with socialrx: the needs recorded in the
"what matters" conversation, whose term ids are the ``need_codes`` of referrals."""

import json
from pathlib import Path
from typing import Any

from sqlmodel import Session, select

from catalogue.tables import Taxonomy, TaxonomyTerm

_DATA = json.loads(
    (Path(__file__).parent / "data" / "social_prescribing_taxonomy.json").read_text("utf-8")
)

SOCIAL_PRESCRIBING_TAXONOMY_ID: str = _DATA["taxonomy"]["id"]
SOCIAL_PRESCRIBING_TERMS: dict[str, str] = {term["id"]: term["name"] for term in _DATA["terms"]}


def is_social_prescribing_need(code: str) -> bool:
    """Whether ``code`` is one of the shipped needs, e.g. ``sp-arts``."""
    return code in SOCIAL_PRESCRIBING_TERMS


def taxonomy_document() -> dict[str, Any]:
    return dict(_DATA["taxonomy"])


def term_documents() -> list[dict[str, Any]]:
    return [dict(term) for term in _DATA["terms"]]


def ensure_social_prescribing_taxonomy(session: Session) -> None:
    """Write the shipped taxonomy and its terms unless they are already there (no commit)."""
    stored = set(
        session.exec(
            select(TaxonomyTerm.id).where(
                TaxonomyTerm.taxonomy_id == SOCIAL_PRESCRIBING_TAXONOMY_ID
            )
        )
    )
    if stored >= SOCIAL_PRESCRIBING_TERMS.keys():
        return
    taxonomy = taxonomy_document()
    session.merge(Taxonomy(**taxonomy))
    for term in term_documents():
        session.merge(
            TaxonomyTerm(
                **term,
                code=term["id"],
                taxonomy=taxonomy["name"],
                taxonomy_id=taxonomy["id"],
                language="en",
            )
        )
    session.flush()
