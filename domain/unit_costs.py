"""What one NHS contact of each service-use item costs, for the return-on-investment report.

Defaults are national averages with their source and price year; a service sets its own
(``SOCIALRX_REPORTS__ROI__UNIT_COSTS='{"outpatient_appointments": 150}'``), or ``null`` to
leave an item out. An item with no cost is left out of the cost figures and the report names
it: we would rather show a smaller saving than one built on a figure nobody trusts.

The four defaults do not share a price year: the GP and A&E figures are 2022/23 prices, the
outpatient and inpatient ones 2016/17 (the latest edition we could read for those two), so
those two understate today's costs. docs/reports.md says so beside the table.
"""

from dataclasses import dataclass
from decimal import Decimal


@dataclass(frozen=True)
class UnitCost:
    item: str
    pounds: Decimal
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
            Decimal("120"),
            # Reference costs became the National Cost Collection from 2017/18. Read in the
            # HFMA's report of the publication (5 December 2017), not in the schedule itself.
            "NHS Improvement, Reference Costs 2016/17 (November 2017): national average unit "
            "cost of an outpatient attendance, 2016/17 prices (as reported by the HFMA)",
        ),
        UnitCost(
            "inpatient_stays",
            Decimal("1590"),
            # A stay here is one admission; the figure is per non-elective finished consultant
            # episode without excess bed days (GBP 313 each), so a long stay costs more.
            "NHS Improvement, Reference Costs 2016/17 (November 2017): national average unit "
            "cost of a non-elective inpatient episode, excluding excess bed days, 2016/17 "
            "prices (as reported by the HFMA)",
        ),
    )
}
