"""Export the directory as HSDS 3.0: fully nested services, as ndjson or as one paged list."""

import json
from collections.abc import Iterator
from enum import StrEnum
from typing import TextIO

from sqlmodel import Session, col, select

from catalogue.documents import Document, DocumentBuilder
from catalogue.tables import Service


class ExportFormat(StrEnum):
    NDJSON = "ndjson"
    JSON = "json"


def service_documents(session: Session) -> Iterator[Document]:
    builder = DocumentBuilder(session)
    for service in session.exec(select(Service).order_by(col(Service.id))):
        yield builder.service(service)


def export_services(session: Session, out: TextIO, export_format: ExportFormat) -> int:
    """Write every service to ``out``; returns how many. Both formats import back as they are."""
    if export_format is ExportFormat.NDJSON:
        count = 0
        for document in service_documents(session):
            out.write(json.dumps(document, ensure_ascii=False) + "\n")
            count += 1
        return count
    contents = list(service_documents(session))
    page = {
        "total_items": len(contents),
        "total_pages": 1,
        "page_number": 1,
        "size": len(contents),
        "first_page": True,
        "last_page": True,
        "empty": not contents,
        "contents": contents,
    }
    json.dump(page, out, ensure_ascii=False, indent=2)
    out.write("\n")
    return len(contents)
