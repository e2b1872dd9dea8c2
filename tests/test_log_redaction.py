"""Personal data never reaches a log: the engine hides statement parameters, and the real
logging set-up (core.logs.configure, as every socialrx process uses it) redacts anything
shaped like an NHS number, an email address or a UK phone number."""

import logging
import re
from collections.abc import Iterator
from datetime import date
from uuid import UUID, uuid4

import pytest
from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from core.logs import REDACTED, redact
from domain.tables import LinkWorkerTeam, Person, Practice, Referral
from tests.support.real_logging import real_logging

NHS_NUMBER = "9434765919"
EMAIL = "ada.lovelace@example.org"
PHONE = "07700 900123"
FAMILY_NAME = "Lovelace-Byron"
DETAILS = (NHS_NUMBER, "943 476 5919", EMAIL, PHONE, "07700900123", FAMILY_NAME)


class Formatted(logging.Handler):
    """A second handler after the real one, formatting as a plain log file would."""

    def __init__(self) -> None:
        super().__init__()
        self.setFormatter(logging.Formatter("%(name)s: %(message)s"))
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@pytest.fixture
def logged() -> Iterator[Formatted]:
    """What the real logging set-up lets through, formatted as a log file would hold it."""
    formatted = Formatted()
    with real_logging(formatted):
        yield formatted


def person(referral_id: UUID) -> Person:
    return Person(
        referral_id=referral_id,
        nhs_number=NHS_NUMBER,
        open_nhs_number=NHS_NUMBER,
        given_name="Ada",
        family_name=FAMILY_NAME,
        birth_date=date(1980, 12, 10),
        postcode="LS1 4AP",
        phone=PHONE,
        email=EMAIL,
        reason="lonely since moving",
    )


def assert_no_details(text: str) -> None:
    # Rich wraps long lines: look at the text with its line breaks and padding taken out too.
    for seen in (text, re.sub(r"\s+", "", text)):
        for detail in (NHS_NUMBER, EMAIL, "07700900123", FAMILY_NAME):
            assert detail not in seen


def test_a_database_error_on_a_referral_logs_none_of_its_details(
    engine: Engine, logged: Formatted, capsys: pytest.CaptureFixture[str]
) -> None:
    with Session(engine) as session:
        session.add(LinkWorkerTeam(id="team", name="Team"))
        session.add(Practice(ods_code="A81001", name="Practice", team_id="team"))
        first, second = Referral(practice_ods="A81001"), Referral(practice_ods="A81001")
        session.add_all([first, second])
        session.flush()
        session.add(person(first.id))
        session.commit()
        session.add(person(second.id))  # a second open referral for the same NHS number
        with pytest.raises(IntegrityError) as raised:
            session.commit()
        session.rollback()
    error = raised.value

    # The engine never puts the parameters into the error in the first place...
    assert FAMILY_NAME not in str(error)
    assert "hidden" in str(error)
    # ...and whatever the driver says about the row (PostgreSQL's DETAIL repeats the key),
    # or a careless log call adds, is redacted on the way out.
    log = logging.getLogger("socialrx.test")
    log.error("could not save %s for %s (%s)", uuid4(), NHS_NUMBER, EMAIL)
    try:
        raise RuntimeError(f"saving {NHS_NUMBER} {EMAIL} {PHONE}") from error
    except RuntimeError:
        log.exception("referral for %s failed", "943 476 5919")

    printed = capsys.readouterr()
    assert "could not save" in printed.out + printed.err
    assert "IntegrityError" in printed.out + printed.err  # the exception is still shown
    assert_no_details(printed.out + printed.err)
    written = "\n".join(logged.lines)
    assert "RuntimeError: saving [redacted] [redacted] [redacted]" in written
    assert "referral for [redacted] failed" in written
    assert_no_details(written)


@pytest.mark.parametrize(
    "text",
    [
        "nhs 9434765919.",
        "nhs 943 476 5919",
        "nhs 943-476-5919",
        "mail ada+x@example.co.uk",
        "phone 07700 900123",
        "phone 07700900123",
        "phone +44 7700 900123",
        "phone 020 7946 0018",
        "phone +44 (0)20 7946 0018",
    ],
)
def test_each_shape_of_personal_data_is_redacted(text: str) -> None:
    assert redact(text) == text.split(" ", 1)[0] + " " + REDACTED + (
        "." if text.endswith(".") else ""
    )


@pytest.mark.parametrize(
    "text",
    [
        "referral 1b4e28ba-2fa1-11d2-883f-0016d3cca427",
        "workflow referral-12345678-1234-1234-1234-123456789012",
        "at 2026-12-04 21:00:00.123456",
        "practice A81001, 1234567 rows, step 3, status 409",
    ],
)
def test_identifiers_codes_and_times_are_left_alone(text: str) -> None:
    assert redact(text) == text
