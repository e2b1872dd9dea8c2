"""What one NHS contact of each service-use item costs, for the return-on-investment report.

Defaults are national averages with their source and price year; a service sets its own
(``SOCIALRX_REPORTS__ROI__UNIT_COSTS='{"outpatient_appointments": 120}'``). An item with no
cost (no default, none set) is left out of the cost figures and the report names it: we
would rather show a smaller saving than one built on a figure nobody looked up.
"""

from dataclasses import dataclass
from decimal import Decimal


@dataclass(frozen=True)
class UnitCost:
    item: str
    pounds: Decimal | None
    """None: no default found; the service must set one for the item to be costed."""
    source: str


UNIT_COSTS: dict[str, UnitCost] = {
    cost.item: cost
    for cost in (
        UnitCost(
            "gp_consultations",
            Decimal("49"),
            # Per surgery consultation of 10 minutes, including qualification and direct
            # care staff costs (GBP 42 without qualifications), at 2022/23 prices. The 2023
            # manual is the first to cost a 10-minute consultation; earlier ones used 9.22.
            "Jones KC et al. (2024), Unit Costs of Health and Social Care 2023 Manual, "
            "PSSRU and Centre for Health Economics, table 9.4.2 (2022/23 prices), "
            "doi:10.22024/UniKent/01.02.105685",
        ),
        UnitCost(
            "ae_attendances",
            Decimal("282"),
            # Read in secondary material quoting the collection, not in its own schedule,
            # so the schedule's worksheet is not named here: check before relying on it.
            "NHS England, National Cost Collection 2022/23: national average unit cost of "
            "a type 1 A&E attendance (as quoted; the schedule itself not seen)",
        ),
        UnitCost(
            "outpatient_appointments",
            None,
            "No default: no figure from the National Cost Collection 2022/23 or later was "
            "found in the material we could consult; set one",
        ),
        UnitCost(
            "inpatient_stays",
            None,
            "No default: no non-elective inpatient stay or excess bed day figure from the "
            "National Cost Collection 2022/23 or later was found in the material we could "
            "consult; set one",
        ),
    )
}
