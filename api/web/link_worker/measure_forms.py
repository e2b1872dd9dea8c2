"""The outcome questionnaires as form fields, built from ``domain.measures``, and the
answers read back from a posted form.

Each item is one field, named ``<instrument>.<item>`` with the id ``<instrument>-<item>``
(the id an error links to). A questionnaire left blank is not given; one answered in part
is an error on each item left out, because a partial questionnaire cannot be scored.
"""

from collections.abc import Mapping
from dataclasses import dataclass

from domain.measures import INSTRUMENTS, Instrument
from domain.messages import MeasureAnswers

# A scale this long is a count, asked with a number box, not a row of radios.
LONGEST_RADIO_SCALE = 11


@dataclass(frozen=True)
class ItemField:
    name: str
    id: str
    label: str


@dataclass(frozen=True)
class InstrumentForm:
    instrument: Instrument

    @property
    def code(self) -> str:
        return self.instrument.code

    @property
    def is_count(self) -> bool:
        return self.instrument.maximum - self.instrument.minimum + 1 > LONGEST_RADIO_SCALE

    @property
    def items(self) -> list[ItemField]:
        return [
            ItemField(f"{self.code}.{item}", f"{self.code}-{item}", self.instrument.label_of(item))
            for item in self.instrument.items
        ]

    @property
    def options(self) -> list[tuple[int, str]]:
        """Each answer's value and words ("Often"), or the bare number where it has none."""
        low, high = self.instrument.minimum, self.instrument.maximum
        return [(n, self.instrument.answer_labels.get(n, str(n))) for n in range(low, high + 1)]

    def answer_text(self, value: int) -> str:
        words = self.instrument.answer_labels.get(value)
        return f"{words} ({value})" if words else str(value)


FORMS = [InstrumentForm(instrument) for instrument in INSTRUMENTS.values()]


def read_measures(form: Mapping[str, str]) -> tuple[list[MeasureAnswers], dict[str, str]]:
    """The questionnaires answered in full, and an error per item missing or out of range."""
    measures: list[MeasureAnswers] = []
    errors: dict[str, str] = {}
    for questionnaire in FORMS:
        instrument = questionnaire.instrument
        given = {field: form.get(field.name, "").strip() for field in questionnaire.items}
        if not any(given.values()):
            continue
        answers: dict[str, int] = {}
        for (item, field), text in zip(
            zip(instrument.items, questionnaire.items, strict=True), given.values(), strict=True
        ):
            if not text:
                errors[field.id] = (
                    f"{instrument.title}: answer '{field.label}', or leave the whole "
                    "questionnaire blank"
                )
                continue
            try:
                value = int(text)
            except ValueError:
                value = instrument.minimum - 1
            if not instrument.minimum <= value <= instrument.maximum:
                errors[field.id] = (
                    f"{field.label}: enter a whole number from {instrument.minimum} to "
                    f"{instrument.maximum}"
                )
                continue
            answers[item] = value
        if len(answers) == len(instrument.items):
            measures.append(
                MeasureAnswers(
                    instrument=instrument.code, version=instrument.version, answers=answers
                )
            )
    return measures, errors
