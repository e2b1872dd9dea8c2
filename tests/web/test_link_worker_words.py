"""The link worker's pages say every code in words, without a browser."""

from api.web.link_worker.measure_forms import FORMS, read_measures
from api.web.words import CLOSURE_REASON, CONTACT_METHOD, EVENT
from domain.enums import ClosureReason, ContactMethod, ProjectionAction


def test_every_event_closure_and_contact_method_has_words() -> None:
    assert set(EVENT) == set(ProjectionAction)
    assert set(CLOSURE_REASON) == set(ClosureReason)
    assert set(CONTACT_METHOD) == set(ContactMethod)


def test_every_item_of_every_questionnaire_has_its_own_words() -> None:
    for questionnaire in FORMS:
        instrument = questionnaire.instrument
        assert instrument.question, instrument.code
        assert set(instrument.item_labels) == set(instrument.items), instrument.code


def test_a_questionnaire_left_blank_is_not_given_and_one_in_part_is_an_error() -> None:
    swemwbs = {f"swemwbs.item{i}": "4" for i in range(1, 8)}
    measures, errors = read_measures(swemwbs | {"ucla3.left_out": "2", "ons4.happiness": ""})
    assert [(m.instrument, m.answers["item1"]) for m in measures] == [("swemwbs", 4)]
    assert set(errors) == {"ucla3-lack_companionship", "ucla3-isolated"}


def test_an_answer_out_of_range_or_not_a_number_names_the_item() -> None:
    _, errors = read_measures(
        {
            "service_use.gp_consultations": "-1",
            **{
                f"service_use.{item}": "x" for item in ("ae_attendances", "outpatient_appointments")
            },
            "service_use.inpatient_stays": "0",
        }
    )
    assert errors == {
        "service_use-gp_consultations": "GP appointments: enter a whole number from 0 to 365",
        "service_use-ae_attendances": "A&E visits: enter a whole number from 0 to 365",
        "service_use-outpatient_appointments": "Hospital outpatient appointments: enter a "
        "whole number from 0 to 365",
    }
