"""The GP channel: GP Connect "Send Document" over NHS MESH, and the ITK3 acknowledgements
that come back to our own mailbox.

The outcome at closure (and at consent withdrawal, cancellation and unable-to-contact, which
all close the referral) goes to the practice as a PDF inside an ITK3 FHIR message, on MESH
workflow GPFED_CONSULT_REPORT: to the practice's configured mailbox, or by MESH automated
routing to the patient's registered practice. The acknowledgement of receipt of a referral
(GP_ACKNOWLEDGEMENT) is not sent: the referrer's system has its answer from our FHIR API
when it submits, and filing a "received" document in the GP record would only add noise.
It is logged and counts as delivered.

Logs name message ids, kinds and mailbox ids, never the patient (MESH automated routing
addresses carry the NHS number, date of birth and surname, so they are never logged).
"""

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import requests
import urllib3
from mesh_client import MeshClient, MeshError
from sqlalchemy import Engine, func
from sqlmodel import Session, col, select

from activities import itk3
from activities.channels import NotConfigured, PermanentFailure, TemporaryFailure
from activities.gp_document import render
from core.settings import MeshSettings
from domain.enums import ADMINS, AssigneeKind, MessageKind, TaskKind, TaskStatus
from domain.measures import DEFAULT_THRESHOLDS, MeasureThresholds
from domain.tables import GpMessageDelivery, OutboxMessage, Task, utcnow

log = logging.getLogger(__name__)

# Answers from MESH that sending again cannot change: a bad request, an unknown recipient
# (417), a message too large. Anything else (busy, down, rate-limited, auth) may pass later.
REJECTED_STATUSES = {400, 404, 413, 417, 422}
NO_ACKNOWLEDGEMENT = "no acknowledgement"


def mesh_client(mesh: MeshSettings) -> MeshClient:
    if not mesh.configured:
        raise NotConfigured("MESH is not configured (SOCIALRX_MESH__URL, __MAILBOX)")
    cert = (str(mesh.client_cert), str(mesh.client_key)) if mesh.client_cert else None
    verify: str | bool = str(mesh.ca_cert) if mesh.ca_cert else mesh.verify
    return MeshClient(
        mesh.url,
        mesh.mailbox,
        mesh.password.get_secret_value(),
        shared_key=mesh.shared_key.get_secret_value().encode(),
        cert=cert,
        verify=verify,
        timeout=60,
        application_name="socialrx",
    )


def recipient(mesh: MeshSettings, payload: dict[str, Any]) -> tuple[str, str | None]:
    """Mex-To for a GP outcome, and the mailbox it names (None for automated routing)."""
    mailbox = mesh.practice_mailboxes.get(payload["practice_ods"])
    if mailbox:
        return mailbox, mailbox
    missing = [key for key in ("nhs_number", "birth_date", "family_name") if not payload.get(key)]
    if missing:
        raise PermanentFailure(
            f"no MESH mailbox for practice {payload['practice_ods']} and the message lacks "
            f"{', '.join(missing)} for automated routing"
        )
    birth_date = payload["birth_date"].replace("-", "")
    return f"GPPROVIDER_{payload['nhs_number']}_{birth_date}_{payload['family_name']}", None


class MeshChannel:
    """Sends GP_OUTCOME messages over MESH and records each one for its acknowledgements."""

    name = "mesh"

    def __init__(
        self,
        engine: Engine,
        mesh: MeshSettings,
        thresholds: MeasureThresholds = DEFAULT_THRESHOLDS,
    ) -> None:
        self.engine = engine
        self.mesh = mesh
        self.thresholds = thresholds

    def send(self, message: OutboxMessage) -> None:
        if message.kind == MessageKind.GP_ACKNOWLEDGEMENT:
            log.info("GP acknowledgement for referral %s is logged, not sent", message.referral_id)
            return
        if message.kind != MessageKind.GP_OUTCOME:
            raise PermanentFailure(f"MESH carries GP outcomes only, not {message.kind}")
        if not self.mesh.configured:
            raise NotConfigured("MESH is not configured (SOCIALRX_MESH__URL, __MAILBOX)")
        assert message.id is not None, "the relay sends stored messages"
        with Session(self.engine) as session:
            if session.get(GpMessageDelivery, message.id) is not None:
                # Sent before, and recorded: the relay lost track after that. Nothing to do.
                return
        mex_to, mailbox = recipient(self.mesh, message.payload)
        now = utcnow()
        body = itk3.send_document(
            message.dedupe_key,
            message.payload,
            render(message.payload, self.thresholds),
            self.mesh.mailbox,
            now,
        )
        try:
            with mesh_client(self.mesh) as client:
                mesh_message_id = client.send_message(
                    mex_to,
                    body,
                    workflow_id=itk3.WORKFLOW_ID,
                    local_id=message.dedupe_key,
                    subject="Social prescribing outcome",
                    filename=f"{itk3.message_ids(message.dedupe_key)['bundle']}.json",
                    content_type="application/fhir+json",
                )
        except MeshError:
            # Its text may echo the Mex-To address, which names the patient: neither it nor
            # the error it came from goes into a log.
            raise PermanentFailure(f"MESH rejected GP outcome message {message.id}") from None
        except requests.HTTPError as error:
            status = error.response.status_code if error.response is not None else 0
            failure = PermanentFailure if status in REJECTED_STATUSES else TemporaryFailure
            raise failure(f"MESH answered {status} to GP outcome message {message.id}") from error
        except (requests.ConnectionError, requests.Timeout, urllib3.exceptions.HTTPError) as error:
            # mesh-client never retries the first POST to the outbox (a retry could send
            # twice) and lets urllib3's own error through: the relay retries later instead.
            raise TemporaryFailure(f"MESH unreachable for message {message.id}") from error
        with Session(self.engine) as session:
            session.add(
                GpMessageDelivery(
                    outbox_message_id=message.id,
                    referral_id=message.referral_id,
                    itk_message_id=str(itk3.message_ids(message.dedupe_key)["header"]),
                    mesh_message_id=mesh_message_id,
                    mailbox=mailbox,
                    sent_at=now,
                )
            )
            session.commit()
        log.info(
            "sent GP outcome message %s for referral %s over MESH as %s to %s",
            message.id,
            message.referral_id,
            mesh_message_id,
            mailbox or "automated routing",
        )


@dataclass
class AcknowledgementCounts:
    """What one collection found: acknowledgements read, problems raised, messages skipped."""

    infrastructure: int = 0
    business: int = 0
    negative: int = 0
    undelivered: int = 0
    overdue: int = 0
    unmatched: int = 0
    unreadable: int = 0


def collect_acknowledgements(
    engine: Engine, mesh: MeshSettings, now: datetime | None = None
) -> AcknowledgementCounts:
    """Read ITK3 responses and MESH non-delivery reports from our inbox, record them against
    the messages they answer, and raise an admin task for every negative one and for every
    message still without a business acknowledgement after ``mesh.ack_timeout``."""
    counts = AcknowledgementCounts()
    if not mesh.configured:
        log.info("MESH is not configured: no acknowledgements to collect")
        return counts
    try:
        with mesh_client(mesh) as client:
            for mesh_id in list(client.iterate_message_ids()):
                if _read_one(engine, client, mesh_id, counts):
                    client.acknowledge_message(mesh_id)
    except (requests.RequestException, urllib3.exceptions.HTTPError, MeshError) as error:
        # What was read is recorded; the rest waits for the next collection. Overdue
        # messages are still checked below.
        log.warning("could not read the MESH inbox: %s", type(error).__name__)
    counts.overdue = _raise_overdue(engine, mesh, now or utcnow())
    return counts


def _read_one(
    engine: Engine, client: MeshClient, mesh_id: str, counts: AcknowledgementCounts
) -> bool:
    """Handle one inbox message; True when it is ours to remove from the inbox."""
    message = client.retrieve_message(mesh_id)
    try:
        body = message.read()
    finally:
        message.close()
    message_type = (message.message_type or "").upper()
    workflow = message.workflow_id or ""
    if message_type == "REPORT" and workflow.startswith(itk3.WORKFLOW_ID):
        # MESH could not deliver one of ours (e.g. automated routing found no practice).
        linked = message.mex_header("linkedmsgid") or ""
        status = message.mex_header("statuscode") or "?"
        with Session(engine) as session:
            delivery = session.exec(
                select(GpMessageDelivery).where(GpMessageDelivery.mesh_message_id == linked)
            ).first()
            if delivery is None:
                counts.unmatched += 1
                log.warning("MESH report %s names no message of ours", mesh_id)
                return True
            _problem(session, delivery, f"undelivered: MESH status {status}")
            session.commit()
        counts.undelivered += 1
        return True
    if workflow != itk3.ACK_WORKFLOW_ID:
        # Not for this channel: leave it for whoever reads that workflow.
        return False
    try:
        response = itk3.parse_response(body)
    except itk3.NotAnItkResponse as error:
        counts.unreadable += 1
        log.warning("MESH message %s on %s is unreadable: %s", mesh_id, workflow, error)
        return True
    with Session(engine) as session:
        delivery = session.exec(
            select(GpMessageDelivery).where(
                GpMessageDelivery.itk_message_id == response.answers_message_id
            )
        ).first()
        if delivery is None:
            counts.unmatched += 1
            log.warning("ITK3 response in MESH message %s answers no message of ours", mesh_id)
            return True
        now = utcnow()
        if response.level == itk3.AckLevel.INFRASTRUCTURE:
            delivery.infrastructure_ack, delivery.infrastructure_ack_at = response.code, now
            counts.infrastructure += 1
        else:
            delivery.business_ack, delivery.business_ack_at = response.code, now
            counts.business += 1
        if not response.ok:
            counts.negative += 1
            _problem(
                session, delivery, f"negative {response.level} acknowledgement {response.code}"
            )
        session.add(delivery)
        session.commit()
    return True


def _raise_overdue(engine: Engine, mesh: MeshSettings, now: datetime) -> int:
    with Session(engine) as session:
        overdue = session.exec(
            select(GpMessageDelivery)
            .where(col(GpMessageDelivery.business_ack).is_(None))
            .where(col(GpMessageDelivery.problem).is_(None))
            .where(col(GpMessageDelivery.sent_at) < now - mesh.ack_timeout)
        ).all()
        for delivery in overdue:
            _problem(session, delivery, NO_ACKNOWLEDGEMENT)
        session.commit()
        return len(overdue)


def _problem(session: Session, delivery: GpMessageDelivery, problem: str) -> None:
    """Record why an admin must look, and give them a task (once per message and kind)."""
    kind = (
        TaskKind.GP_MESSAGE_UNACKNOWLEDGED
        if problem == NO_ACKNOWLEDGEMENT
        else TaskKind.GP_MESSAGE_REJECTED
    )
    delivery.problem, delivery.problem_at = problem[:64], utcnow()
    session.add(delivery)
    step_key = f"gp-message:{delivery.outbox_message_id}"
    exists = session.exec(
        select(Task)
        .where(Task.referral_id == delivery.referral_id)
        .where(Task.step_key == step_key)
        .where(Task.kind == kind)
    ).first()
    if exists is None:
        session.add(
            Task(
                referral_id=delivery.referral_id,
                step_key=step_key,
                kind=kind,
                assignee_kind=AssigneeKind.ADMIN,
                assignee_id=ADMINS,
                subject_id=str(delivery.outbox_message_id),
            )
        )
    log.warning(
        "GP outcome message %s for referral %s needs an admin: %s",
        delivery.outbox_message_id,
        delivery.referral_id,
        problem,
    )


def gp_message_figures(session: Session) -> dict[str, int]:
    """Counts for a metric: GP messages awaiting acknowledgement, and those needing an admin
    (rejected or never acknowledged) whose task is still open."""
    awaiting = session.exec(
        select(func.count())
        .select_from(GpMessageDelivery)
        .where(col(GpMessageDelivery.business_ack).is_(None))
        .where(col(GpMessageDelivery.problem).is_(None))
    ).one()
    open_tasks = {
        kind: session.exec(
            select(func.count())
            .select_from(Task)
            .where(Task.kind == kind)
            .where(Task.status == TaskStatus.OPEN)
        ).one()
        for kind in (TaskKind.GP_MESSAGE_REJECTED, TaskKind.GP_MESSAGE_UNACKNOWLEDGED)
    }
    return {
        "awaiting_acknowledgement": awaiting,
        "rejected": open_tasks[TaskKind.GP_MESSAGE_REJECTED],
        "unacknowledged": open_tasks[TaskKind.GP_MESSAGE_UNACKNOWLEDGED],
    }
