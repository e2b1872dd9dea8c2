"""``legal_steps``: what the pages offer a link worker is what the validators would accept."""

from datetime import UTC, datetime, timedelta
from uuid import uuid4

from domain.enums import (
    ActorKind,
    CheckpointStatus,
    ClosureReason,
    ContactMethod,
    ReferralStatus,
    ServiceReferralStatus,
)
from domain.messages import (
    Actor,
    CheckpointState,
    ContactAttemptRecord,
    ReferralState,
    ServiceReferralState,
)
from workflows.rules import LegalStep, legal_steps, open_checkpoints

NOW = datetime(2026, 12, 4, 9, 0, tzinfo=UTC)
AMIRA = Actor(kind=ActorKind.LINK_WORKER, id="lw-amira")
S = LegalStep
ALWAYS_WHILE_OPEN = {S.REASSIGN, S.WITHDRAW_CONSENT}


def state(status: ReferralStatus, **fields: object) -> ReferralState:
    base: dict[str, object] = {
        "referral_id": uuid4(),
        "status": status,
        "link_worker_id": "lw-amira",
    }
    return ReferralState.model_validate(base | fields)


def reached(yes: bool) -> ContactAttemptRecord:
    return ContactAttemptRecord(at=NOW, method=ContactMethod.PHONE, reached=yes)


def checkpoint(number: int, status: CheckpointStatus, opens_in: timedelta) -> CheckpointState:
    opens = NOW + opens_in
    return CheckpointState(
        number=number, opens_at=opens, closes_at=opens + timedelta(days=14), status=status
    )


def test_an_assigned_referral_takes_a_contact_attempt_or_an_early_close() -> None:
    assert (
        legal_steps(state(ReferralStatus.ASSIGNED), AMIRA, NOW)
        == {
            S.CONTACT_ATTEMPT,
            S.CLOSE_DECLINED,
            S.CLOSE_INELIGIBLE,
        }
        | ALWAYS_WHILE_OPEN
    )


def test_after_a_failed_attempt_only_another_attempt_not_the_conversation() -> None:
    legal = legal_steps(
        state(ReferralStatus.CONTACTING, contact_attempts=[reached(False)]), AMIRA, NOW
    )
    assert S.CONTACT_ATTEMPT in legal
    assert S.ASSESSMENT not in legal


def test_once_reached_the_conversation_and_no_more_attempts() -> None:
    legal = legal_steps(
        state(ReferralStatus.CONTACTING, contact_attempts=[reached(True)]), AMIRA, NOW
    )
    assert S.ASSESSMENT in legal
    assert S.CONTACT_ATTEMPT not in legal
    assert S.CONNECTION not in legal


def test_once_assessed_connecting_and_no_second_conversation() -> None:
    legal = legal_steps(
        state(ReferralStatus.ASSESSED, contact_attempts=[reached(True)], assessed=True), AMIRA, NOW
    )
    assert (
        legal
        == {
            S.CONNECTION,
            S.CLOSE_DECLINED,
            S.CLOSE_INELIGIBLE,
            S.CLOSE_NO_SUITABLE_SERVICE,
        }
        | ALWAYS_WHILE_OPEN
    )


def test_in_follow_up_only_an_open_checkpoint_reassignment_and_withdrawal() -> None:
    service_referral = ServiceReferralState(
        id=uuid4(),
        service_id="svc",
        organisation_id="org",
        status=ServiceReferralStatus.STARTED,
        sent_at=NOW,
        respond_by=NOW,
    )
    following = state(
        ReferralStatus.FOLLOW_UP,
        contact_attempts=[reached(True)],
        assessed=True,
        service_referrals=[service_referral],
        checkpoints=[
            checkpoint(1, CheckpointStatus.OPEN, -timedelta(days=1)),
            checkpoint(2, CheckpointStatus.SCHEDULED, timedelta(days=60)),
        ],
    )
    assert legal_steps(following, AMIRA, NOW) == {S.FOLLOW_UP} | ALWAYS_WHILE_OPEN
    assert open_checkpoints(following, AMIRA, NOW) == [1]


def test_no_follow_up_before_its_checkpoint_opens() -> None:
    waiting = state(
        ReferralStatus.ENGAGED,
        assessed=True,
        checkpoints=[checkpoint(1, CheckpointStatus.SCHEDULED, timedelta(days=3))],
    )
    assert S.FOLLOW_UP not in legal_steps(waiting, AMIRA, NOW)
    assert open_checkpoints(waiting, AMIRA, NOW) == []
    # Due, with nothing earlier unsettled: the validator accepts it, so the page offers it.
    assert open_checkpoints(waiting, AMIRA, NOW + timedelta(days=3)) == [1]


def test_a_closed_referral_takes_no_step() -> None:
    closed = state(ReferralStatus.CLOSED, closure_reason=ClosureReason.DECLINED)
    assert legal_steps(closed, AMIRA, NOW) == set()


def test_without_a_link_worker_no_contact_and_no_reassignment() -> None:
    legal = legal_steps(state(ReferralStatus.RECEIVED, link_worker_id=None), AMIRA, NOW)
    assert S.CONTACT_ATTEMPT not in legal
    assert S.REASSIGN not in legal
    assert S.WITHDRAW_CONSENT in legal
