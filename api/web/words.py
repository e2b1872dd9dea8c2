"""What codes and moments mean in plain English, and the colour of status tags.

One place for the words, so every page says the same thing about the same status.
"""

from datetime import date, datetime
from typing import NamedTuple
from zoneinfo import ZoneInfo

from domain.enums import (
    ClosureReason,
    ContactMethod,
    ProjectionAction,
    ReferralStatus,
    ServiceReferralStatus,
    TaskKind,
)

LONDON = ZoneInfo("Europe/London")


def local_date(moment: datetime | date | None) -> str:
    """``4 December 2026``: the date as people in England read it."""
    if moment is None:
        return ""
    if isinstance(moment, datetime):
        moment = moment.astimezone(LONDON).date()
    return f"{moment.day} {moment:%B %Y}"


def local_time(moment: datetime | None) -> str:
    """``9:30am``."""
    if moment is None:
        return ""
    return f"{moment.astimezone(LONDON):%I:%M%p}".lstrip("0").lower()


def nhs_number(digits: str) -> str:
    """``943 476 5919``: as the NHS writes it, easier to read out and check."""
    return f"{digits[:3]} {digits[3:6]} {digits[6:]}" if len(digits) == 10 else digits


class Tag(NamedTuple):
    text: str
    colour: str
    """An NHS.UK tag modifier: nhsuk-tag--<colour>; empty for the default blue."""

    @property
    def classes(self) -> str:
        return f"nhsuk-tag--{self.colour}" if self.colour else ""


REFERRAL_STATUS = {
    ReferralStatus.RECEIVED: Tag("Received", "grey"),
    ReferralStatus.ASSIGNED: Tag("Assigned", ""),
    ReferralStatus.CONTACTING: Tag("Contacting", ""),
    ReferralStatus.ASSESSED: Tag("Talked with", "aqua-green"),
    ReferralStatus.CONNECTING: Tag("Finding a service", "purple"),
    ReferralStatus.ENGAGED: Tag("Using a service", "green"),
    ReferralStatus.FOLLOW_UP: Tag("Following up", "green"),
    ReferralStatus.CLOSED: Tag("Closed", "grey"),
}

SERVICE_REFERRAL_STATUS = {
    ServiceReferralStatus.PENDING: Tag("Waiting for your answer", "yellow"),
    ServiceReferralStatus.ACCEPTED: Tag("Accepted", "green"),
    ServiceReferralStatus.DECLINED: Tag("Declined", "grey"),
    ServiceReferralStatus.AUTO_DECLINED: Tag("Not answered in time", "grey"),
    ServiceReferralStatus.STARTED: Tag("Started", "green"),
    ServiceReferralStatus.DID_NOT_ATTEND: Tag("Did not attend", "grey"),
    ServiceReferralStatus.WITHDRAWN: Tag("Withdrawn", "grey"),
}

TASK_KIND = {
    TaskKind.FIRST_CONTACT: "Contact the person for the first time",
    TaskKind.FIRST_CONTACT_REMINDER: "Contact the person: first contact is late",
    TaskKind.FIRST_CONTACT_ESCALATION: "First contact not made: check with the team",
    TaskKind.WHAT_MATTERS_CONVERSATION: "Have the 'what matters' conversation",
    TaskKind.CHOOSE_SERVICE: "Choose a service with the person",
    TaskKind.RESPOND_TO_REFERRAL: "Accept or decline the referral",
    TaskKind.RESPONSE_REMINDER: "Accept or decline the referral: reply is late",
    TaskKind.CONFIRM_UPTAKE: "Say whether the person started",
    TaskKind.FOLLOW_UP: "Follow up: record how the person is doing",
    TaskKind.CONTACT_RETRY: "Try to contact the person again",
    TaskKind.GP_MESSAGE_REJECTED: "The GP's system refused the outcome message: check it",
    TaskKind.GP_MESSAGE_UNACKNOWLEDGED: "The GP's system has not confirmed the outcome message",
}
"""Every task kind in words: a test checks none is missing."""

OVERDUE = Tag("Overdue", "red")
DUE_TODAY = Tag("Due today", "orange")


def due_tag(due: datetime | None, now: datetime, today: date) -> Tag | None:
    """Overdue once past; due today when due later on ``today`` (a local date)."""
    if due is None:
        return None
    if due < now:
        return OVERDUE
    return DUE_TODAY if due.astimezone(LONDON).date() == today else None


EVENT = {
    ProjectionAction.RECEIVED: "Referral received",
    ProjectionAction.ASSIGNED: "Link worker assigned",
    ProjectionAction.REASSIGNED: "Passed to another link worker",
    ProjectionAction.FIRST_CONTACT_OVERDUE: "First contact is late",
    ProjectionAction.FIRST_CONTACT_ESCALATED: "First contact not made: team lead told",
    ProjectionAction.CONTACT_ATTEMPTED: "Tried to contact the person",
    ProjectionAction.CONTACT_RETRY_DUE: "Time to try contacting the person again",
    ProjectionAction.ASSESSED: "'What matters' conversation recorded",
    ProjectionAction.CONNECTED: "Referred to services",
    ProjectionAction.ORGANISATION_REMINDED: "Organisation reminded to answer",
    ProjectionAction.ORGANISATION_ACCEPTED: "Organisation accepted the referral",
    ProjectionAction.ORGANISATION_DECLINED: "Organisation declined the referral",
    ProjectionAction.ORGANISATION_AUTO_DECLINED: "Organisation did not answer in time",
    ProjectionAction.UPTAKE_CONFIRMED: "The person started at the service",
    ProjectionAction.DID_NOT_ATTEND: "The person did not attend the service",
    ProjectionAction.CHECKPOINT_OPENED: "Follow-up due",
    ProjectionAction.CHECKPOINT_MISSED: "Follow-up missed",
    ProjectionAction.FOLLOW_UP_RECORDED: "Follow-up recorded",
    ProjectionAction.CLOSED: "Referral closed",
}
"""What each step of a referral did, for a timeline: a test checks none is missing."""

CONTACT_METHOD = {
    ContactMethod.PHONE: "Phone call",
    ContactMethod.TEXT: "Text message",
    ContactMethod.LETTER: "Letter",
    ContactMethod.IN_PERSON: "In person",
}

CLOSURE_REASON = {
    ClosureReason.COMPLETED: "Completed",
    ClosureReason.DECLINED: "The person declined",
    ClosureReason.UNABLE_TO_CONTACT: "Could not contact the person",
    ClosureReason.CONSENT_WITHDRAWN: "The person withdrew consent",
    ClosureReason.INELIGIBLE: "Not eligible",
    ClosureReason.NO_SUITABLE_SERVICE: "No suitable service",
    ClosureReason.CANCELLED_BY_REFERRER: "Cancelled by the practice",
    ClosureReason.LOST_TO_FOLLOW_UP: "Lost to follow-up",
}
