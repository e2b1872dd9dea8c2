"""Everything a workflow history says, payloads decoded, for searching for personal data.

History JSON holds payloads base64-encoded, so a plain substring search would never find a
name in it; this walks the history and decodes every payload it meets.
"""

import base64
import json
from typing import Any

from temporalio.client import WorkflowHistory


def history_text(history: WorkflowHistory) -> str:
    parts: list[str] = []
    _collect(json.loads(history.to_json()), parts)
    return "\n".join(parts)


def _collect(node: Any, parts: list[str]) -> None:
    if isinstance(node, dict):
        if "data" in node and "metadata" in node and isinstance(node["data"], str):
            parts.append(base64.b64decode(node["data"]).decode("utf-8", errors="replace"))
        for value in node.values():
            _collect(value, parts)
    elif isinstance(node, list):
        for value in node:
            _collect(value, parts)
    elif isinstance(node, str):
        parts.append(node)


def personal_details_in(text: str, details: list[str]) -> list[str]:
    lowered = text.lower()
    return [detail for detail in details if detail and detail.lower() in lowered]
