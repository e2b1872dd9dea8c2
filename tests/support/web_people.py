"""Accounts per role for page tests: ``people["practice"]`` and the shared ``PASSWORD``."""

from typing import NamedTuple

from sqlalchemy import Engine
from sqlmodel import Session

from accounts.credentials import Role, add_user
from catalogue.demo import load_demo_directory
from socialrx.demo import load_demo_people

PASSWORD = "a long test password"


class Person(NamedTuple):
    username: str
    role: Role
    organisation_id: str


PEOPLE = {
    "practice": Person("millbrook-gp", Role.PRACTICE, "A81001"),
    "other_practice": Person("riverside-gp", Role.PRACTICE, "A81002"),
    "link_worker": Person("amira", Role.LINK_WORKER, "lw-amira"),
    "organisation": Person("arts-collective", Role.ORGANISATION, "org-millbrook-arts-collective"),
    "commissioner": Person("icb-analyst", Role.COMMISSIONER, "millbrook-icb"),
}


class People:
    """``people["practice"]``: that account (password ``PASSWORD``), made on first use.

    Hashing a password and loading the directory take seconds on a busy machine, so a test
    pays only for the accounts it signs in with."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._made: set[str] = set()
        with Session(engine) as session:
            load_demo_people(session)

    def __getitem__(self, key: str) -> Person:
        person = PEOPLE[key]
        if key not in self._made:
            with Session(self._engine) as session:
                if person.role is Role.ORGANISATION:
                    load_demo_directory(session)
                add_user(session, person.username, PASSWORD, person.role, person.organisation_id)
            self._made.add(key)
        return person
