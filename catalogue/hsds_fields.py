"""Move HSDS fields between a JSON document and a table row, losing none of them.

Keys listed in a table's ``HSDS_COLUMNS`` go to typed columns (parsed by pydantic); every other
key that the importer does not turn into rows of its own goes to ``hsds_extra`` untouched.
"""

import reprlib
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime
from functools import cache
from typing import Annotated, Any

from pydantic import TypeAdapter, ValidationError

from catalogue.tables import HsdsRow


class FieldRejected(ValueError):
    """A value the schema allows but a typed column cannot hold, e.g. ``assured_date: "soon"``."""


@cache
def _adapter(model: type[HsdsRow], key: str) -> TypeAdapter[Any]:
    field = model.model_fields[key]
    annotation: Any = field.annotation
    # The metadata carries constraints such as max_length, so too long a value is rejected
    # here with its key rather than by PostgreSQL with a bare DataError.
    if not field.metadata:
        return TypeAdapter(annotation)
    constrained: Any = Annotated[(annotation, *field.metadata)]
    return TypeAdapter(constrained)


def apply_document(
    row: HsdsRow, document: Mapping[str, Any], handled_elsewhere: Iterable[str] = ()
) -> None:
    """Write the keys present in ``document`` onto ``row``; keys it omits keep their values.

    ``handled_elsewhere`` names nested collections the importer stores as rows of their own.
    """
    model = type(row)
    skip = set(handled_elsewhere)
    extra = dict(getattr(row, "hsds_extra", None) or {})
    for key, value in document.items():
        if key in skip:
            continue
        if key in model.HSDS_COLUMNS:
            try:
                parsed = _adapter(model, key).validate_python(value)
            except ValidationError as error:
                reason = error.errors()[0]["msg"]
                shown = reprlib.repr(value)
                raise FieldRejected(f"{key}: {shown} cannot be stored ({reason})") from None
            if isinstance(parsed, datetime):
                parsed = parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed
                parsed = parsed.astimezone(UTC)
            setattr(row, key, parsed)
        else:
            extra[key] = value
    row.hsds_extra = extra


def render_row(row: HsdsRow) -> dict[str, Any]:
    """The HSDS document of one row: its set columns, then the keys kept in ``hsds_extra``."""
    document: dict[str, Any] = {}
    for key in type(row).HSDS_COLUMNS:
        value = getattr(row, key)
        if value is not None:
            document[key] = render_value(value)
    document.update(getattr(row, "hsds_extra", None) or {})
    return document


def render_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return render_datetime(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def render_datetime(moment: datetime) -> str:
    # SQLite hands back naive datetimes; everything is stored in UTC.
    moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    timespec = "milliseconds" if moment.microsecond % 1000 == 0 else "microseconds"
    if moment.microsecond == 0:
        timespec = "seconds"
    return moment.isoformat(timespec=timespec).replace("+00:00", "Z")
