"""What codes and moments mean in plain English, and the colour of status tags.

One place for the words, so every page says the same thing about the same status.
"""

from datetime import date, datetime
from typing import NamedTuple
from zoneinfo import ZoneInfo

from activities.gp_document import CLOSURE_TEXT
from api.schemas import TimelineEntry
from domain.accounts import AccessOutcome
from domain.enums import (
    ActorKind,
    ClosureReason,
    ContactMethod,
    GpOutcomeSharing,
    OrganisationSharing,
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
    TaskKind.ORPHANED_REFERRAL: "A referral was found without its process running: check it",
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


# --- a referral's timeline, consent and closure, for the practice ------------------------

CLOSURE_REASON = CLOSURE_TEXT
"""Why a referral ended, as the message back to the GP says it."""

CONTACT_PREFERENCE = {
    "text": "Text message",
    "email": "Email",
    "letter": "Letter",
    "phone": "Phone call only",
    "none": "Do not contact",
}
"""The person's preferred contact method (``preferred_contact`` of a referral)."""

ORGANISATION_SHARING = {
    OrganisationSharing.CONTACT_ONLY: "Their name and contact details only",
    OrganisationSharing.CONTACT_AND_REASON: "Their name and contact details, and why you "
    "referred them",
}
"""The answers to the consent question. Under contact details only, the need codes are
withheld from services too (``domain.consent.for_organisation``): the page's hint says so."""
GP_OUTCOME_SHARING = {
    GpOutcomeSharing.CODES_ONLY: "Only whether they were helped, as codes for their record",
    GpOutcomeSharing.DETAILS: "Also the services they used and how their wellbeing changed",
}

TIMELINE = {
    ProjectionAction.RECEIVED: "Referral received",
    ProjectionAction.ASSIGNED: "Given to a link worker",
    ProjectionAction.REASSIGNED: "Given to another link worker",
    ProjectionAction.FIRST_CONTACT_OVERDUE: "First contact with the person is late",
    ProjectionAction.FIRST_CONTACT_ESCALATED: "First contact passed to the team lead",
    ProjectionAction.CONTACT_RETRY_DUE: "Time to try contacting the person again",
    ProjectionAction.ASSESSED: "The link worker talked with the person about what matters to them",
    ProjectionAction.CONNECTED: "Referred on to a community service",
    ProjectionAction.ORGANISATION_REMINDED: "A service was reminded to answer",
    ProjectionAction.ORGANISATION_ACCEPTED: "A service accepted the person",
    ProjectionAction.ORGANISATION_DECLINED: "A service could not take the person",
    ProjectionAction.ORGANISATION_AUTO_DECLINED: "A service did not answer in time",
    ProjectionAction.UPTAKE_CONFIRMED: "The person started at a service",
    ProjectionAction.DID_NOT_ATTEND: "The person did not go to a service",
    ProjectionAction.CHECKPOINT_OPENED: "Time for a follow-up",
    ProjectionAction.CHECKPOINT_MISSED: "A follow-up was missed",
    ProjectionAction.FOLLOW_UP_RECORDED: "Follow-up recorded",
}
"""Each step of a referral in words; contact attempts and closing say more (below)."""

# A service's own steps already say "a service": saying "by the service" too reads oddly.
BY_WHOM = {
    ActorKind.PRACTICE: "by your practice",
    ActorKind.LINK_WORKER: "by the link worker",
}


class TimelineWords(NamedTuple):
    at: datetime
    text: str
    by: str


def timeline_entry(entry: TimelineEntry) -> TimelineWords:
    """One entry of ``GET /referrals/{id}``'s timeline (as consent shapes it), in words."""
    action = entry.action
    if action == ProjectionAction.CONTACT_ATTEMPTED:
        reached = entry.detail.get("reached")
        text = "Spoke with the person" if reached else "Tried to contact the person"
    elif action == ProjectionAction.CLOSED:
        reason = str(entry.detail.get("closure_reason"))
        closure = CLOSURE_TEXT.get(ClosureReason(reason)) if reason in set(ClosureReason) else None
        text = f"Closed: {closure.lower()}" if closure else "Closed"
    elif action in set(ProjectionAction):
        text = TIMELINE.get(ProjectionAction(action), action.replace("_", " ").capitalize())
    else:
        text = action.replace("_", " ").capitalize()
    by = BY_WHOM.get(ActorKind(entry.actor_kind), "") if entry.actor_kind in set(ActorKind) else ""
    return TimelineWords(entry.at, text, by)


EVENT = {
    **TIMELINE,
    ProjectionAction.CONTACT_ATTEMPTED: "Tried to contact the person",
    ProjectionAction.CLOSED: "Referral closed",
}
"""What each step of a referral did, for the link worker's timeline: the practice's words, with
the two steps the practice's timeline words from their detail."""

CONTACT_METHOD = {
    ContactMethod.PHONE: "Phone call",
    ContactMethod.TEXT: "Text message",
    ContactMethod.LETTER: "Letter",
    ContactMethod.IN_PERSON: "In person",
}

ACCESS_OUTCOME = {
    AccessOutcome.ALLOWED: "Yes",
    AccessOutcome.NOT_FOUND: "No: not theirs to see",
    AccessOutcome.FORBIDDEN: "No: not theirs to do",
}
"""Whether an access in the access log was allowed, in words."""
