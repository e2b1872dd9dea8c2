"""Statuses, closure reasons and kinds shared by the workflow, the read model and the API."""

from enum import StrEnum


class ReferralStatus(StrEnum):
    RECEIVED = "received"
    ASSIGNED = "assigned"
    CONTACTING = "contacting"
    ASSESSED = "assessed"
    CONNECTING = "connecting"
    ENGAGED = "engaged"
    FOLLOW_UP = "follow_up"
    CLOSED = "closed"


class ClosureReason(StrEnum):
    COMPLETED = "completed"
    DECLINED = "declined"
    UNABLE_TO_CONTACT = "unable_to_contact"
    CONSENT_WITHDRAWN = "consent_withdrawn"
    INELIGIBLE = "ineligible"
    NO_SUITABLE_SERVICE = "no_suitable_service"
    CANCELLED_BY_REFERRER = "cancelled_by_referrer"
    LOST_TO_FOLLOW_UP = "lost_to_follow_up"


class ActorKind(StrEnum):
    SYSTEM = "system"
    PRACTICE = "practice"
    LINK_WORKER = "link_worker"
    ORGANISATION = "organisation"
    ADMIN = "admin"


class AssigneeKind(StrEnum):
    LINK_WORKER = "link_worker"
    TEAM_LEAD = "team_lead"
    ORGANISATION = "organisation"
    ADMIN = "admin"
    """The service's administrators, as one queue (assignee id ``ADMINS``)."""


ADMINS = "admins"


class TaskKind(StrEnum):
    FIRST_CONTACT = "first_contact"
    FIRST_CONTACT_REMINDER = "first_contact_reminder"
    FIRST_CONTACT_ESCALATION = "first_contact_escalation"
    WHAT_MATTERS_CONVERSATION = "what_matters_conversation"
    CHOOSE_SERVICE = "choose_service"
    RESPOND_TO_REFERRAL = "respond_to_referral"
    RESPONSE_REMINDER = "response_reminder"
    CONFIRM_UPTAKE = "confirm_uptake"
    FOLLOW_UP = "follow_up"
    CONTACT_RETRY = "contact_retry"
    GP_MESSAGE_REJECTED = "gp_message_rejected"
    """The GP's system or MESH answered the outcome message with a negative acknowledgement."""
    GP_MESSAGE_UNACKNOWLEDGED = "gp_message_unacknowledged"
    ORPHANED_REFERRAL = "orphaned_referral"
    """A referral was found still ``received`` with no workflow running (the orphan sweep
    restarted its workflow, or closed it when its rows were incomplete): an admin checks."""
    """No acknowledgement of the outcome message came within the configured time."""


class TaskStatus(StrEnum):
    OPEN = "open"
    DONE = "done"
    CANCELLED = "cancelled"


class ContactMethod(StrEnum):
    PHONE = "phone"
    TEXT = "text"
    LETTER = "letter"
    IN_PERSON = "in_person"


class PreferredContact(StrEnum):
    """How the person referred wants the service to reach them, as recorded at intake.

    Only ``text`` and ``email`` are ever sent automatically (GOV.UK Notify); ``letter`` is
    recorded but letters are not sent yet; ``phone`` means the link worker phones; ``none``
    means the person asked not to be contacted by the service's messages.
    """

    TEXT = "text"
    EMAIL = "email"
    LETTER = "letter"
    PHONE = "phone"
    NONE = "none"


class ServiceReferralStatus(StrEnum):
    PENDING = "pending"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    AUTO_DECLINED = "auto_declined"
    STARTED = "started"
    DID_NOT_ATTEND = "did_not_attend"
    WITHDRAWN = "withdrawn"


class CheckpointStatus(StrEnum):
    SCHEDULED = "scheduled"
    OPEN = "open"
    RECORDED = "recorded"
    MISSED = "missed"


class MessageKind(StrEnum):
    GP_ACKNOWLEDGEMENT = "gp_acknowledgement"
    GP_OUTCOME = "gp_outcome"
    ORGANISATION_REFERRAL = "organisation_referral"
    ORGANISATION_REMINDER = "organisation_reminder"
    ORGANISATION_AUTO_DECLINED = "organisation_auto_declined"
    ORGANISATION_WITHDRAWN = "organisation_withdrawn"
    # Since the workflow patch link-worker-and-person-messages; a person's only as agreed.
    LINK_WORKER_ASSIGNED = "link_worker_assigned"
    LINK_WORKER_ESCALATION = "link_worker_escalation"
    LINK_WORKER_ORGANISATION_DECLINED = "link_worker_organisation_declined"
    LINK_WORKER_CHECKPOINT_OPEN = "link_worker_checkpoint_open"
    PERSON_LINK_WORKER_WILL_CONTACT = "person_link_worker_will_contact"
    PERSON_UPTAKE_CHECK_IN = "person_uptake_check_in"


class RecipientKind(StrEnum):
    PRACTICE = "practice"
    ORGANISATION = "organisation"
    LINK_WORKER = "link_worker"
    PERSON = "person"


class OutboxStatus(StrEnum):
    """Where an outbox message stands: waiting to go (or to be retried), gone, or given up
    on until an admin retries it."""

    PENDING = "pending"
    SENT = "sent"
    DEAD = "dead"


class ProjectionAction(StrEnum):
    """What a step of the referral did, as its projection, audit entry and step key name it.

    The values are stored (audit trail, step keys) and recorded in workflow histories, so
    they never change.
    """

    RECEIVED = "received"
    ASSIGNED = "assigned"
    REASSIGNED = "reassigned"
    FIRST_CONTACT_OVERDUE = "first_contact_overdue"
    FIRST_CONTACT_ESCALATED = "first_contact_escalated"
    CONTACT_ATTEMPTED = "contact_attempted"
    CONTACT_RETRY_DUE = "contact_retry_due"
    ASSESSED = "assessed"
    CONNECTED = "connected"
    ORGANISATION_REMINDED = "organisation_reminded"
    ORGANISATION_ACCEPTED = "organisation_accepted"
    ORGANISATION_DECLINED = "organisation_declined"
    ORGANISATION_AUTO_DECLINED = "organisation_auto_declined"
    UPTAKE_CONFIRMED = "uptake_confirmed"
    DID_NOT_ATTEND = "did_not_attend"
    CHECKPOINT_OPENED = "checkpoint_opened"
    CHECKPOINT_MISSED = "checkpoint_missed"
    FOLLOW_UP_RECORDED = "follow_up_recorded"
    CLOSED = "closed"


class ReferralUpdate(StrEnum):
    """Update names of ReferralWorkflow: its update methods' names, recorded in histories."""

    REASSIGN = "reassign"
    RECORD_CONTACT_ATTEMPT = "record_contact_attempt"
    RECORD_ASSESSMENT = "record_assessment"
    CONNECT_SERVICES = "connect_services"
    RESPOND_TO_REFERRAL = "respond_to_referral"
    CONFIRM_UPTAKE = "confirm_uptake"
    RECORD_FOLLOW_UP = "record_follow_up"
    CLOSE = "close"


REFERRAL_WORKFLOW = "ReferralWorkflow"
ORPHAN_SWEEP_WORKFLOW = "OrphanSweepWorkflow"
ORPHAN_SWEEP_SCHEDULE = "socialrx-orphan-sweep"
REPORT_SNAPSHOT_WORKFLOW = "ReportSnapshotWorkflow"
REPORT_SNAPSHOT_SCHEDULE = "socialrx-report-snapshots"
REFERRAL_STATE_QUERY = "state"
# The ApplicationError type of a step rejected by a workflow's update validator.
ILLEGAL_STEP = "IllegalStep"
# The ApplicationError type of a projection that finds no referral row: the API has started
# the workflow but not yet committed the rows (or failed to, and the workflow gives up).
INTAKE_NOT_COMMITTED = "IntakeNotCommitted"


class OrganisationKind(StrEnum):
    """The four kinds of organisation a user or API key belongs to."""

    PRACTICE = "practice"
    LINK_WORKER_TEAM = "link_worker_team"
    ORGANISATION = "organisation"
    COMMISSIONER = "commissioner"


class OrganisationSharing(StrEnum):
    """What the person agreed may be shared with the organisations they are referred to."""

    CONTACT_ONLY = "contact_only"
    """Name and contact details only: the organisation can reach the person, nothing more."""
    CONTACT_AND_REASON = "contact_and_reason"
    """Also the GP's reason for referring, in the GP's words."""


class GpOutcomeSharing(StrEnum):
    """What the person agreed may go back to the GP when the referral ends."""

    CODES_ONLY = "codes_only"
    """The SNOMED code and closure reason, nothing else."""
    DETAILS = "details"
    """Also the services taken up and the outcome measures."""
