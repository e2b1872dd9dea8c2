"""The benches' NHS numbers: as many as asked, none twice, each valid."""

import nhs_number

from socialrx.bench_lifecycle import distinct_nhs_numbers


def test_ten_thousand_numbers_never_repeat_and_are_valid() -> None:
    # Drawn plainly, 10,000 synthetic numbers almost surely repeat one: the fleet bench
    # then met a 409 (one person, two open referrals) and stopped.
    numbers = distinct_nhs_numbers(10_000)
    assert len(numbers) == len(set(numbers)) == 10_000
    assert all(nhs_number.is_valid(number) for number in numbers)
