"""A small inverted index of service words, portable across SQLite and PostgreSQL.

Each word of a service's name, alternate name, description and organisation name is a row of
``service_search_token``. A search word matches every indexed word it is a prefix of ("garden"
finds "gardening"), answered by a range scan of the primary key, so search time grows with the
number of matches rather than with the size of the directory.
"""

import re
import unicodedata

from sqlalchemy import ColumnElement
from sqlmodel import Session, col, delete, select

from catalogue.tables import Service, ServiceSearchToken

MAX_TOKEN = 64
# Sorts after every character that can follow a prefix in an indexed word.
_AFTER_PREFIX = "\U0010ffff"
_WORD = re.compile(r"\w+")


def tokenize(text: str) -> list[str]:
    """Lower-cased words without accents, in order, without repeats."""
    folded = unicodedata.normalize("NFKD", text.casefold())
    plain = "".join(char for char in folded if not unicodedata.combining(char))
    words = (word[:MAX_TOKEN] for word in _WORD.findall(plain))
    return list(dict.fromkeys(word for word in words if len(word) > 1 or word.isdigit()))


def index_service(
    session: Session, service: Service, organization_name: str, is_new: bool = False
) -> None:
    if not is_new:
        session.exec(
            delete(ServiceSearchToken).where(col(ServiceSearchToken.service_id) == service.id)
        )
    text = " ".join(
        part
        for part in (service.name, service.alternate_name, service.description, organization_name)
        if part
    )
    session.add_all(
        ServiceSearchToken(token=token, service_id=service.id) for token in tokenize(text)
    )


def matches_search(search: str) -> list[ColumnElement[bool]]:
    """Conditions on ``Service.id``: the service has a word starting with each search word."""
    conditions: list[ColumnElement[bool]] = []
    for word in tokenize(search):
        having_word = select(ServiceSearchToken.service_id).where(
            col(ServiceSearchToken.token) >= word,
            col(ServiceSearchToken.token) < word + _AFTER_PREFIX,
        )
        conditions.append(col(Service.id).in_(having_word))
    return conditions
