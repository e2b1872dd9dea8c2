"""Dates and times in words, as people in England read them, without a browser."""

from datetime import UTC, date, datetime, timedelta

from api.web.words import LONDON, local_date, local_time


def test_a_date_is_written_day_month_year_on_the_london_calendar() -> None:
    assert local_date(date(2026, 12, 4)) == "4 December 2026"
    # 23:30 UTC in summer is already the next day in London (BST), not in winter (GMT).
    assert local_date(datetime(2026, 6, 30, 23, 30, tzinfo=UTC)) == "1 July 2026"
    assert local_date(datetime(2026, 1, 31, 23, 30, tzinfo=UTC)) == "31 January 2026"
    assert local_date(None) == ""


def test_a_time_is_written_on_a_twelve_hour_clock_in_london() -> None:
    assert local_time(datetime(2026, 12, 4, 9, 30, tzinfo=UTC)) == "9:30am"
    assert local_time(datetime(2026, 12, 4, 0, 5, tzinfo=UTC)) == "12:05am"
    assert local_time(datetime(2026, 12, 4, 12, 0, tzinfo=UTC)) == "12:00pm"
    assert local_time(datetime(2026, 7, 4, 12, 0, tzinfo=UTC)) == "1:00pm"  # BST
    assert local_time(None) == ""


def test_every_month_and_hour_reads_as_strftime_would_write_it() -> None:
    # The words are built by hand (strftime is slow); they must say what it says.
    moment = datetime(2026, 1, 1, tzinfo=UTC)
    for _ in range(24 * 40):
        moment += timedelta(hours=9, minutes=7)
        local = moment.astimezone(LONDON)
        assert local_date(moment) == f"{local.day} {local:%B %Y}"
        assert local_time(moment) == f"{local:%I:%M%p}".lstrip("0").lower()
