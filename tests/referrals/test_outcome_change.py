"""Outcome change is computed per item with its direction at each checkpoint, in the read
model, and the referral's funnel milestones are projected as it goes."""

from datetime import timedelta
from typing import Any
from uuid import UUID

from sqlmodel import Session, select

from domain.measures import INSTRUMENTS
from domain.report_tables import OutcomeChange, ReferralMilestone
from tests.support.driver import Driver

AREAS = INSTRUMENTS["wellbeing_star", "1"].items
STAR_BEFORE = {"instrument": "wellbeing_star", "answers": dict.fromkeys(AREAS, 2)}
STAR_AFTER = {
    "instrument": "wellbeing_star",
    "answers": dict.fromkeys(AREAS, 2) | {"money": 4, "lifestyle": 1},
}
SWEMWBS = {"instrument": "swemwbs", "answers": {f"item{i}": 2 for i in range(1, 8)}}  # 15.32
SWEMWBS_3 = {"instrument": "swemwbs", "answers": {f"item{i}": 3 for i in range(1, 8)}}  # 19.25
SWEMWBS_4 = {"instrument": "swemwbs", "answers": {f"item{i}": 4 for i in range(1, 8)}}  # 25.03
UCLA = {"instrument": "ucla3", "answers": {"lack_companionship": 2, "left_out": 2, "isolated": 2}}
WALKS = ("svc-health-walks", "org-millbrook-leisure-trust")


def changes(driver: Driver, referral_id: UUID) -> dict[tuple[str, str], OutcomeChange]:
    with Session(driver.engine) as session:
        rows = session.exec(select(OutcomeChange).where(OutcomeChange.referral_id == referral_id))
        return {(row.checkpoint, row.instrument): row for row in rows}


def milestone(driver: Driver, referral_id: UUID) -> ReferralMilestone:
    with Session(driver.engine) as session:
        row = session.get(ReferralMilestone, referral_id)
        assert row is not None
        return row


async def take_up(driver: Driver, referral_id: UUID, baseline: list[Any]) -> None:
    await driver.contact(referral_id, reached=False)
    await driver.contact(referral_id, reached=True)
    body = {"need_codes": ["sp-physical-activity"], "baseline": baseline}
    await driver.post(f"/referrals/{referral_id}/assessment", body)
    (walks,) = await driver.connect(referral_id, WALKS[0])
    await driver.respond(walks, WALKS[1])
    await driver.uptake(walks, WALKS[1])


async def test_change_is_stored_with_each_checkpoint_and_the_latest_counts(
    driver: Driver,
) -> None:
    referral_id = await driver.submit()
    await take_up(driver, referral_id, [SWEMWBS, STAR_BEFORE])
    await driver.skip(timedelta(weeks=13, hours=1))
    await driver.wait_for_status(referral_id, "follow_up")
    body = {"measures": [SWEMWBS_3, STAR_AFTER, UCLA]}
    await driver.post(f"/referrals/{referral_id}/follow-ups/1", body)

    first = changes(driver, referral_id)
    swemwbs = first["follow_up_1", "swemwbs"]
    assert swemwbs.has_baseline and swemwbs.latest
    assert swemwbs.total_improvement is not None
    assert round(swemwbs.total_improvement, 2) == 3.93  # 19.25 - 15.32
    assert swemwbs.meaningful is True
    star = first["follow_up_1", "wellbeing_star"]
    assert star.item_improvement["money"] == 2 and star.item_improvement["lifestyle"] == -1
    assert star.improved_any is True and star.total_improvement is None
    # Loneliness was not measured at baseline: recorded, but with no change to report.
    ucla = first["follow_up_1", "ucla3"]
    assert not ucla.has_baseline
    assert ucla.total_improvement is None and ucla.meaningful is None
    assert ucla.item_improvement == {}

    await driver.skip(timedelta(weeks=4))
    await driver.post(f"/referrals/{referral_id}/follow-ups/2", {"measures": [SWEMWBS_4]})
    await driver.wait_closed(referral_id)
    second = changes(driver, referral_id)
    assert not second["follow_up_1", "swemwbs"].latest
    assert second["follow_up_2", "swemwbs"].latest
    assert second["follow_up_2", "swemwbs"].total_improvement == 25.03 - 15.32
    # The star was not measured again, so its first checkpoint stays the one reports count.
    assert second["follow_up_1", "wellbeing_star"].latest

    stages = milestone(driver, referral_id)
    assert stages.practice_ods == "A81001" and stages.team_id == "millbrook-pcn"
    assert stages.need_codes == ",sp-physical-activity,"
    assert stages.first_attempt_at is not None and stages.contacted_at is not None
    assert stages.first_attempt_at < stages.contacted_at
    for moment in (stages.assessed_at, stages.connected_at, stages.took_up_at):
        assert moment is not None
    assert stages.follow_up_due and stages.followed_up_at is not None
    assert stages.closure_reason == "completed" and stages.closed_at is not None


async def test_an_early_ending_stops_the_funnel_where_it_was(driver: Driver) -> None:
    referral_id = await driver.submit()
    await driver.contact(referral_id, reached=True)
    await driver.post(f"/referrals/{referral_id}/close", {"reason": "declined"})
    await driver.wait_closed(referral_id)
    stages = milestone(driver, referral_id)
    assert stages.contacted_at is not None
    assert stages.assessed_at is None and stages.connected_at is None
    assert stages.closure_reason == "declined" and not stages.follow_up_due
    assert changes(driver, referral_id) == {}
