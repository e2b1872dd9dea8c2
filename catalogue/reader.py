"""Read HSDS records from a file: one record, a paged list (``contents``), a JSON array, or
newline-delimited JSON. A line or item that cannot be read becomes a record with a problem, so
the importer can report it and carry on with the others."""

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

NDJSON_SUFFIXES = {".ndjson", ".jsonl"}
# Finds the id of a line too broken to parse, so its rejection can still name the record.
_RAW_ID = re.compile(r'"id"\s*:\s*"([^"]{1,64})"')


class SourceError(ValueError):
    """The file as a whole cannot be read (missing, or not JSON at all)."""


@dataclass(frozen=True)
class SourceRecord:
    where: str
    document: Any = None
    problem: str | None = None
    raw_id: str | None = None

    @property
    def record_id(self) -> str | None:
        if isinstance(self.document, dict) and isinstance(self.document.get("id"), str):
            return str(self.document["id"])
        return self.raw_id


@dataclass(frozen=True)
class Source:
    total: int
    records: Iterator[SourceRecord]


def read_source(path: Path) -> Source:
    try:
        if path.suffix.lower() in NDJSON_SUFFIXES:
            return _ndjson(path)
        text = path.read_text("utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise SourceError(f"{path}: cannot read it ({error})") from error
    try:
        parsed = json.loads(text)
    except json.JSONDecodeError as error:
        if _looks_like_ndjson(text):
            return _ndjson(path)
        raise SourceError(
            f"{path}: not valid JSON or ndjson: {error.msg} at line {error.lineno} "
            f"column {error.colno}"
        ) from error
    return _from_json(path, parsed)


def _from_json(path: Path, parsed: Any) -> Source:
    if isinstance(parsed, dict) and isinstance(parsed.get("contents"), list):
        items: list[Any] = parsed["contents"]
    elif isinstance(parsed, list):
        items = parsed
    elif isinstance(parsed, dict):
        return Source(1, iter([SourceRecord("record 1", parsed)]))
    else:
        raise SourceError(f"{path}: expected an HSDS record, a paged list or an array")
    return Source(
        len(items),
        (SourceRecord(f"item {number}", item) for number, item in enumerate(items, start=1)),
    )


def _looks_like_ndjson(text: str) -> bool:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return len(lines) > 1 and all(line.startswith("{") for line in lines)


def _ndjson(path: Path) -> Source:
    with path.open("rb") as counting:
        total = sum(1 for line in counting if line.strip())
    return Source(total, _ndjson_lines(path))


def _ndjson_lines(path: Path) -> Iterator[SourceRecord]:
    # Streamed line by line, so a large export never has to fit in memory.
    with path.open(encoding="utf-8") as lines:
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            where = f"line {number}"
            try:
                yield SourceRecord(where, json.loads(line))
            except json.JSONDecodeError as error:
                found = _RAW_ID.search(line)
                yield SourceRecord(
                    where,
                    problem=f"not valid JSON: {error.msg} at column {error.colno}",
                    raw_id=found.group(1) if found else None,
                )
