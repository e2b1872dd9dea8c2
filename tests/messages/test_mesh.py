"""The GP's outcome over MESH, against NHS Digital's mesh-sandbox running as a real server:
the practice's mailbox receives a GP Connect Send Document message whose PDF follows the
person's consent, and the ITK3 acknowledgements sent back are processed."""

import base64
import io
import json
import logging
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import pytest
from fhir.resources.STU3.bundle import Bundle
from mesh_client import MeshClient
from pydantic import SecretStr
from pypdf import PdfReader
from sqlalchemy import Engine
from sqlmodel import Session, select

from activities import itk3
from activities.channels import NotConfigured, PermanentFailure, TemporaryFailure
from activities.channels.mesh import (
    MeshChannel,
    collect_acknowledgements,
    gp_message_figures,
    recipient,
)
from activities.outbox import queue_message
from core.settings import MeshSettings, Settings
from domain.codes import (
    REFERRAL_TO_SOCIAL_PRESCRIBING,
    SOCIAL_PRESCRIBING_DECLINED,
)
from domain.enums import (
    ADMINS,
    ActorKind,
    AssigneeKind,
    ClosureReason,
    GpOutcomeSharing,
    MessageKind,
    OrganisationSharing,
    ProjectionAction,
    RecipientKind,
    ReferralStatus,
    ServiceReferralStatus,
    TaskKind,
)
from domain.messages import Actor, MessageSpec, Projection
from domain.tables import (
    Consent,
    GpMessageDelivery,
    LinkWorker,
    LinkWorkerTeam,
    OutboxMessage,
    OutcomeRecord,
    Person,
    Practice,
    Referral,
    ServiceReferral,
    Task,
)
from socialrx.mesh_sandbox import OUR_MAILBOX, PASSWORD, PRACTICE_MAILBOX, SHARED_KEY
from tests.support.dev_processes import free_port
from tests.support.mesh_sandbox import MeshSandbox, running_sandbox

pytestmark = pytest.mark.system

PRACTICE_ODS = "A81001"
FAMILY_NAME = "Featherstonehaugh"
NHS_NUMBER = "9434765919"


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MeshSandbox]:
    with running_sandbox(tmp_path_factory.mktemp("mesh") / "sandbox.log") as running:
        yield running


@pytest.fixture
def mesh(sandbox: MeshSandbox) -> Iterator[MeshSettings]:
    settings = MeshSettings(
        url=sandbox.url,
        mailbox=OUR_MAILBOX,
        password=SecretStr(PASSWORD),
        shared_key=SecretStr(SHARED_KEY),
        practice_mailboxes={PRACTICE_ODS: PRACTICE_MAILBOX},
    )
    yield settings
    # Each test starts with empty inboxes: read and remove whatever is left.
    for mailbox in (OUR_MAILBOX, PRACTICE_MAILBOX):
        with _client(sandbox, mailbox) as client:
            for message_id in client.list_messages():
                client.acknowledge_message(message_id)


def _client(sandbox: MeshSandbox, mailbox: str) -> MeshClient:
    return MeshClient(sandbox.url, mailbox, PASSWORD, shared_key=SHARED_KEY.encode())


def closed_referral(
    engine: Engine,
    sharing: GpOutcomeSharing,
    reason: ClosureReason = ClosureReason.COMPLETED,
    accepted: bool = True,
) -> OutboxMessage:
    """A referral closed with its GP_OUTCOME queued, as the projection of its closing step
    queues it: services taken up and SWEMWBS at baseline and 13 weeks."""
    referral_id = uuid4()
    closed_at = datetime(2026, 6, 1, 10, tzinfo=UTC)
    with Session(engine) as session:
        if session.get(Practice, PRACTICE_ODS) is None:
            session.add(LinkWorkerTeam(id="team", name="Team"))
            session.flush()
            session.add(Practice(ods_code=PRACTICE_ODS, name="Practice", team_id="team"))
            session.add(LinkWorker(id="lw-sam", name="Sam Linkworker", team_id="team"))
            session.flush()
        session.add(
            Referral(
                id=referral_id,
                practice_ods=PRACTICE_ODS,
                status=ReferralStatus.CLOSED,
                closure_reason=reason,
                link_worker_id="lw-sam",
                created_at=datetime(2026, 1, 5, 9, tzinfo=UTC),
                closed_at=closed_at,
            )
        )
        session.flush()
        session.add(
            Person(
                referral_id=referral_id,
                nhs_number=NHS_NUMBER,
                given_name="Ann",
                family_name=FAMILY_NAME,
                birth_date=date(1950, 2, 3),
                postcode="LS1 1AA",
                reason="Lonely since moving",
            )
        )
        session.add(
            Consent(
                referral_id=referral_id,
                share_with_organisations=OrganisationSharing.CONTACT_ONLY,
                outcome_to_gp=sharing,
            )
        )
        session.add(
            ServiceReferral(
                id=uuid4(),
                referral_id=referral_id,
                service_id="svc-health-walks",
                organisation_id="org-leisure",
                status=ServiceReferralStatus.STARTED,
                sent_at=closed_at,
                respond_by=closed_at,
            )
        )
        for checkpoint, score, at in (("baseline", 2, 1), ("week_13", 4, 2)):
            session.add(
                OutcomeRecord(
                    referral_id=referral_id,
                    checkpoint=checkpoint,
                    instrument="swemwbs",
                    answers={f"item{n}": score for n in range(1, 8)},
                    recorded_at=datetime(2026, at, 10, tzinfo=UTC),
                )
            )
        session.flush()
        projection = Projection(
            referral_id=referral_id,
            step_key="close",
            at=closed_at,
            actor=Actor(kind=ActorKind.LINK_WORKER, id="lw-sam"),
            action=ProjectionAction.CLOSED,
            status=ReferralStatus.CLOSED,
            closure_reason=reason,
            person_accepted=accepted,
        )
        spec = MessageSpec(
            kind=MessageKind.GP_OUTCOME,
            recipient_kind=RecipientKind.PRACTICE,
            recipient_id=PRACTICE_ODS,
        )
        queue_message(session, projection, spec)
        session.commit()
        return session.exec(
            select(OutboxMessage).where(OutboxMessage.referral_id == referral_id)
        ).one()


def received_by_practice(sandbox: MeshSandbox) -> dict[str, Any]:
    """The one message in the practice's inbox: its MESH headers, FHIR bundle and PDF text."""
    with _client(sandbox, PRACTICE_MAILBOX) as client:
        (message_id,) = client.list_messages()
        message = client.retrieve_message(message_id)
        body = message.read()
        received = {
            "workflow_id": message.workflow_id,
            "local_id": message.local_id,
            "sender": message.sender,
            "bundle": Bundle.model_validate_json(body),
            "raw": json.loads(body),
        }
        client.acknowledge_message(message_id)
    resources = {e.resource.get_resource_type(): e.resource for e in received["bundle"].entry}
    (binary,) = [
        e["resource"] for e in received["raw"]["entry"] if e["resource"]["resourceType"] == "Binary"
    ]
    pdf = PdfReader(io.BytesIO(base64.b64decode(binary["content"])))
    received["resources"] = resources
    received["pdf_text"] = "\n".join(page.extract_text() for page in pdf.pages)
    return received


def test_details_consent_sends_codes_services_and_measures_to_the_practice_mailbox(
    engine: Engine, sandbox: MeshSandbox, mesh: MeshSettings
) -> None:
    message = closed_referral(engine, GpOutcomeSharing.DETAILS)

    MeshChannel(engine, mesh).send(message)

    received = received_by_practice(sandbox)
    assert received["workflow_id"] == itk3.WORKFLOW_ID
    assert received["local_id"] == message.dedupe_key
    assert received["raw"]["type"] == "message"
    assert [e["resource"]["resourceType"] for e in received["raw"]["entry"]] == [
        "MessageHeader",
        "Task",
        "DocumentReference",
        "Binary",
    ]
    header = received["resources"]["MessageHeader"]
    assert header.event.code == "ITK007C"
    handling = {e.url: e for e in header.extension[0].extension}
    assert handling["BusAckRequested"].valueBoolean is True
    assert handling["InfAckRequested"].valueBoolean is True
    assert handling["RecipientType"].valueCoding.code == "FA"
    assert received["resources"]["Binary"].contentType == "application/pdf"
    assert received["resources"]["Task"].for_fhir.identifier.value == NHS_NUMBER

    text = received["pdf_text"]
    assert REFERRAL_TO_SOCIAL_PRESCRIBING in text
    assert "Sam Linkworker" in text and "05 Jan 2026" in text and "01 Jun 2026" in text
    assert "svc-health-walks" in text
    assert "Short Warwick-Edinburgh Mental Wellbeing Scale" in text
    # Seven items at 2 then at 4: metric 15.32 -> 25.03, better by 9.71.
    assert "Baseline: 15.32" in text and "Latest: 25.03" in text
    assert "+9.71 (better)" in text


def test_codes_only_consent_sends_codes_and_reason_without_services_or_measures(
    engine: Engine, sandbox: MeshSandbox, mesh: MeshSettings
) -> None:
    message = closed_referral(
        engine, GpOutcomeSharing.CODES_ONLY, ClosureReason.CONSENT_WITHDRAWN, accepted=False
    )

    MeshChannel(engine, mesh).send(message)

    text = received_by_practice(sandbox)["pdf_text"]
    assert REFERRAL_TO_SOCIAL_PRESCRIBING in text
    assert SOCIAL_PRESCRIBING_DECLINED in text
    assert "The person withdrew consent" in text
    for withheld in ("svc-health-walks", "Warwick-Edinburgh", "Baseline", "15.32"):
        assert withheld not in text


def test_a_message_sent_and_recorded_is_not_sent_again(
    engine: Engine, sandbox: MeshSandbox, mesh: MeshSettings
) -> None:
    message = closed_referral(engine, GpOutcomeSharing.DETAILS)
    channel = MeshChannel(engine, mesh)
    channel.send(message)
    channel.send(message)
    with _client(sandbox, PRACTICE_MAILBOX) as client:
        assert len(client.list_messages()) == 1


def response_bundle(answers: str, code: str, ok: bool) -> bytes:
    """An ITK3 response, as the practice's system sends one back."""
    return json.dumps(
        {
            "resourceType": "Bundle",
            "id": str(uuid4()),
            "type": "message",
            "entry": [
                {
                    "fullUrl": "urn:uuid:1",
                    "resource": {
                        "resourceType": "MessageHeader",
                        "id": str(uuid4()),
                        "event": {"system": itk3.MESSAGE_EVENT_SYSTEM, "code": "ITK008M"},
                        "source": {"endpoint": PRACTICE_MAILBOX},
                        "timestamp": datetime.now(UTC).isoformat(),
                        "response": {
                            "identifier": answers,
                            "code": "ok" if ok else "fatal-error",
                        },
                    },
                },
                {
                    "fullUrl": "urn:uuid:2",
                    "resource": {
                        "resourceType": "OperationOutcome",
                        "issue": [
                            {
                                "severity": "information" if ok else "fatal",
                                "code": "informational" if ok else "not-found",
                                "details": {
                                    "coding": [{"system": itk3.RESPONSE_CODES_SYSTEM, "code": code}]
                                },
                            }
                        ],
                    },
                },
            ],
        }
    ).encode()


def _answer(sandbox: MeshSandbox, message: OutboxMessage, code: str, ok: bool) -> None:
    header_id = str(itk3.message_ids(message.dedupe_key)["header"])
    with _client(sandbox, PRACTICE_MAILBOX) as client:
        client.send_message(
            OUR_MAILBOX, response_bundle(header_id, code, ok), workflow_id=itk3.ACK_WORKFLOW_ID
        )


def _admin_tasks(engine: Engine) -> list[Task]:
    with Session(engine) as session:
        return list(
            session.exec(select(Task).where(Task.assignee_kind == AssigneeKind.ADMIN)).all()
        )


def test_positive_acknowledgements_are_recorded_and_raise_nothing(
    engine: Engine, sandbox: MeshSandbox, mesh: MeshSettings
) -> None:
    message = closed_referral(engine, GpOutcomeSharing.DETAILS)
    MeshChannel(engine, mesh).send(message)
    _answer(sandbox, message, itk3.INFRASTRUCTURE_SUCCESS, ok=True)
    _answer(sandbox, message, "30001", ok=True)

    counts = collect_acknowledgements(engine, mesh)

    assert (counts.infrastructure, counts.business, counts.negative) == (1, 1, 0)
    with Session(engine) as session:
        delivery = session.get(GpMessageDelivery, message.id)
        assert delivery is not None
        assert (delivery.infrastructure_ack, delivery.business_ack) == ("20013", "30001")
        assert delivery.problem is None
        assert gp_message_figures(session) == {
            "awaiting_acknowledgement": 0,
            "rejected": 0,
            "unacknowledged": 0,
        }
    assert _admin_tasks(engine) == []
    with _client(sandbox, OUR_MAILBOX) as client:
        assert client.list_messages() == [], "processed acknowledgements leave the inbox"
    # Well past the timeout, an acknowledged message raises nothing.
    later = datetime.now(UTC) + mesh.ack_timeout * 2
    assert collect_acknowledgements(engine, mesh, now=later).overdue == 0


def test_a_negative_business_acknowledgement_raises_an_admin_task(
    engine: Engine, sandbox: MeshSandbox, mesh: MeshSettings
) -> None:
    message = closed_referral(engine, GpOutcomeSharing.DETAILS)
    MeshChannel(engine, mesh).send(message)
    _answer(sandbox, message, itk3.INFRASTRUCTURE_SUCCESS, ok=True)
    _answer(sandbox, message, "30002", ok=False)  # patient not known here

    counts = collect_acknowledgements(engine, mesh)

    assert counts.negative == 1
    (task,) = _admin_tasks(engine)
    assert task.kind == TaskKind.GP_MESSAGE_REJECTED
    assert task.assignee_id == ADMINS and task.referral_id == message.referral_id
    assert task.subject_id == str(message.id)
    with Session(engine) as session:
        assert gp_message_figures(session)["rejected"] == 1
    # Collecting again raises no second task.
    collect_acknowledgements(engine, mesh)
    assert len(_admin_tasks(engine)) == 1


def test_no_acknowledgement_within_the_timeout_raises_an_admin_task(
    engine: Engine, sandbox: MeshSandbox, mesh: MeshSettings
) -> None:
    message = closed_referral(engine, GpOutcomeSharing.CODES_ONLY)
    MeshChannel(engine, mesh).send(message)
    _answer(sandbox, message, itk3.INFRASTRUCTURE_SUCCESS, ok=True)

    assert collect_acknowledgements(engine, mesh).overdue == 0
    assert _admin_tasks(engine) == []
    with Session(engine) as session:
        assert gp_message_figures(session)["awaiting_acknowledgement"] == 1

    later = datetime.now(UTC) + mesh.ack_timeout + timedelta(minutes=1)
    assert collect_acknowledgements(engine, mesh, now=later).overdue == 1
    (task,) = _admin_tasks(engine)
    assert task.kind == TaskKind.GP_MESSAGE_UNACKNOWLEDGED
    with Session(engine) as session:
        assert gp_message_figures(session) == {
            "awaiting_acknowledgement": 0,
            "rejected": 0,
            "unacknowledged": 1,
        }


def test_an_unknown_recipient_is_a_permanent_failure_and_names_no_patient(
    engine: Engine, sandbox: MeshSandbox, mesh: MeshSettings, caplog: pytest.LogCaptureFixture
) -> None:
    # No practice mailbox: MESH automated routing, which the sandbox does not offer, so it
    # rejects the address as unregistered.
    message = closed_referral(engine, GpOutcomeSharing.DETAILS)
    unrouted = mesh.model_copy(update={"practice_mailboxes": {}})
    caplog.set_level(logging.DEBUG)
    with pytest.raises(PermanentFailure) as failure:
        MeshChannel(engine, unrouted).send(message)
    assert NHS_NUMBER not in str(failure.value) and FAMILY_NAME not in str(failure.value)
    assert failure.value.__cause__ is None
    assert NHS_NUMBER not in caplog.text and FAMILY_NAME not in caplog.text
    with Session(engine) as session:
        assert session.get(GpMessageDelivery, message.id) is None


def test_mesh_down_is_a_temporary_failure_and_records_nothing(
    engine: Engine, mesh: MeshSettings
) -> None:
    message = closed_referral(engine, GpOutcomeSharing.DETAILS)
    down = mesh.model_copy(update={"url": f"http://127.0.0.1:{free_port()}"})
    with pytest.raises(TemporaryFailure):
        MeshChannel(engine, down).send(message)
    with Session(engine) as session:
        assert session.get(GpMessageDelivery, message.id) is None


def test_an_unreadable_acknowledgement_is_counted_and_removed_and_others_are_left(
    engine: Engine, sandbox: MeshSandbox, mesh: MeshSettings
) -> None:
    with _client(sandbox, PRACTICE_MAILBOX) as client:
        client.send_message(OUR_MAILBOX, b"not fhir", workflow_id=itk3.ACK_WORKFLOW_ID)
        other = client.send_message(OUR_MAILBOX, b"for someone else", workflow_id="OTHER_WF")

    counts = collect_acknowledgements(engine, mesh)

    assert counts.unreadable == 1
    with _client(sandbox, OUR_MAILBOX) as client:
        assert client.list_messages() == [other]


def test_without_a_practice_mailbox_the_message_is_addressed_by_automated_routing() -> None:
    payload = {
        "practice_ods": "B99999",
        "nhs_number": NHS_NUMBER,
        "birth_date": "1950-02-03",
        "family_name": FAMILY_NAME,
    }
    assert recipient(MeshSettings(), payload) == (
        f"GPPROVIDER_{NHS_NUMBER}_19500203_{FAMILY_NAME}",
        None,
    )
    with pytest.raises(PermanentFailure):
        recipient(MeshSettings(), {"practice_ods": "B99999", "nhs_number": NHS_NUMBER})


def test_mesh_settings_come_from_nested_environment_variables(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SOCIALRX_MESH__URL", "https://mesh.example")
    monkeypatch.setenv("SOCIALRX_MESH__MAILBOX", "X26ABC1")
    monkeypatch.setenv("SOCIALRX_MESH__PRACTICE_MAILBOXES", '{"A81001": "X26ABC2"}')
    monkeypatch.setenv("SOCIALRX_MESH__ACK_TIMEOUT", "PT6H")
    mesh = Settings().mesh
    assert mesh.configured
    assert mesh.practice_mailboxes == {"A81001": "X26ABC2"}
    assert mesh.ack_timeout == timedelta(hours=6)


def test_without_mesh_settings_the_channel_is_not_configured(engine: Engine) -> None:
    message = OutboxMessage(
        id=1,
        dedupe_key="k",
        referral_id=UUID(int=1),
        kind=MessageKind.GP_OUTCOME,
        recipient_kind=RecipientKind.PRACTICE,
        recipient_id=PRACTICE_ODS,
        payload={},
        created_at=datetime.now(UTC),
    )
    with pytest.raises(NotConfigured):
        MeshChannel(engine, MeshSettings()).send(message)
    assert collect_acknowledgements(engine, MeshSettings()).infrastructure == 0
