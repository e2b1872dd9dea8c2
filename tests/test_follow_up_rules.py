"""When a follow-up may be recorded: once its checkpoint is open, or once it is due."""

from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest

from domain.enums import ActorKind, CheckpointStatus, ReferralStatus
from domain.messages import Actor, CheckpointState, FollowUpRecord, ReferralState
from workflows.rules import IllegalStep, check_follow_up

UPTAKE = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
STEP = FollowUpRecord(
    actor=Actor(kind=ActorKind.LINK_WORKER, id="lw-amira"),
    checkpoint=2,
    measures=[{"instrument": "ucla3", "answers": {"lack_companionship": 1}}],
)


def state_with(first: CheckpointStatus, second: CheckpointStatus) -> ReferralState:
    return ReferralState(
        referral_id=uuid4(),
        status=ReferralStatus.FOLLOW_UP,
        checkpoints=[
            CheckpointState(
                number=number,
                opens_at=UPTAKE + timedelta(weeks=weeks),
                closes_at=UPTAKE + timedelta(weeks=weeks + 4),
                status=status,
            )
            for number, weeks, status in ((1, 13, first), (2, 17, second))
        ],
    )


def test_a_due_checkpoint_takes_its_follow_up_before_its_timer_is_handled() -> None:
    state = state_with(CheckpointStatus.RECORDED, CheckpointStatus.SCHEDULED)
    check_follow_up(state, STEP, UPTAKE + timedelta(weeks=17))


def test_a_checkpoint_not_yet_due_refuses_with_its_opening_time() -> None:
    state = state_with(CheckpointStatus.RECORDED, CheckpointStatus.SCHEDULED)
    with pytest.raises(IllegalStep, match="opens at"):
        check_follow_up(state, STEP, UPTAKE + timedelta(weeks=17) - timedelta(seconds=1))


@pytest.mark.parametrize("first", [CheckpointStatus.OPEN, CheckpointStatus.SCHEDULED])
def test_a_due_checkpoint_behind_an_unsettled_one_refuses(first: CheckpointStatus) -> None:
    # The workflow opens checkpoints in turn, so this one would not open until the first
    # settles: the update would wait that long.
    state = state_with(first, CheckpointStatus.SCHEDULED)
    with pytest.raises(IllegalStep, match="opens at"):
        check_follow_up(state, STEP, UPTAKE + timedelta(weeks=18))
