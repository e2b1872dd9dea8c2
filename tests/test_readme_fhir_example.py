"""The FHIR example in docs/intake.md is a referral the FHIR route accepts, with what it claims."""

import json
import re
from pathlib import Path

from api.fhir.reading import submission_from

INTAKE = Path(__file__).parents[1] / "docs" / "intake.md"


def test_the_fhir_example_reads_as_a_valid_referral() -> None:
    section = INTAKE.read_text("utf-8").split("## FHIR R4", 1)[1]
    (body,) = re.findall(r"-d '(\{.*?\})' \| jq -r \.id\)", section, flags=re.DOTALL)
    submission = submission_from(json.loads(body))
    assert submission.practice_ods == "A81001"
    assert submission.nhs_number == "9434765870"
    assert submission.need_codes == ["sp-social-groups"]
    assert submission.share_with_organisations == "contact_only"
    assert submission.outcome_to_gp == "details"
