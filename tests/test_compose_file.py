"""docker-compose.yml is valid against the Compose specification's own JSON schema.

No Docker engine runs here, so this is the check that a typo cannot ship. The schema is
vendored in tests/schemas (see its README) because tests have no internet.
"""

import json
from pathlib import Path
from typing import Any

import jsonschema
import yaml

ROOT = Path(__file__).parent.parent
SCHEMA = Path(__file__).parent / "schemas" / "compose-spec.json"


def compose_file() -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    return document


def test_docker_compose_file_follows_the_compose_specification() -> None:
    schema = json.loads(SCHEMA.read_text())
    jsonschema.Draft202012Validator(schema).validate(compose_file())


def test_api_and_worker_run_socialrx_against_postgres_and_temporal() -> None:
    services = compose_file()["services"]
    for name in ("api", "worker"):
        service = services[name]
        assert service["command"] == ["socialrx", name]
        assert service["build"] == "."
        env = service["environment"]
        assert env["SOCIALRX_DATABASE_URL"].startswith("postgresql+psycopg://")
        assert env["SOCIALRX_TEMPORAL_ADDRESS"] == "temporal:7233"
    assert {"temporal", "temporal-ui", "temporal-db", "socialrx-db"} <= services.keys()
