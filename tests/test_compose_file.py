"""docker-compose.yml is valid against the Compose specification's own JSON schema.

No Docker engine runs here, so this is the check that a typo cannot ship. The schema is
vendored in tests/schemas (see its README) because tests have no internet.
"""

import json
import re
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


def test_temporal_frontend_is_not_published() -> None:
    """Whoever reaches 7233 can send any update with any actor in it."""
    for name, service in compose_file()["services"].items():
        for port in service.get("ports", []):
            assert "7233" not in str(port), f"{name} publishes Temporal's frontend: {port}"


def test_temporal_ui_is_on_localhost_only_and_read_only() -> None:
    ui = compose_file()["services"]["temporal-ui"]
    assert ui["ports"] == ["127.0.0.1:8080:8080"]
    assert ui["environment"]["TEMPORAL_DISABLE_WRITE_ACTIONS"] == "true"


def test_the_codec_server_needs_its_token_and_listens_on_localhost_only() -> None:
    codec = compose_file()["services"]["codec-server"]
    assert codec["command"] == ["socialrx", "codec-server"]
    assert codec["ports"] == ["127.0.0.1:8081:8081"]
    assert codec["environment"]["SOCIALRX_CODEC_SERVER__TOKEN"].startswith(
        "${SOCIALRX_CODEC_SERVER__TOKEN:?"
    )


def test_every_password_and_key_is_required_not_defaulted() -> None:
    text = (ROOT / "docker-compose.yml").read_text()
    for variable in (
        "SOCIALRX_DB_PASSWORD",
        "TEMPORAL_DB_PASSWORD",
        "SOCIALRX_TEMPORAL__PAYLOAD_KEYS",
        "SOCIALRX_CODEC_SERVER__TOKEN",
    ):
        uses = re.findall(r"\$\{" + variable + r"(:?[-?][^}]*)?\}", text)
        assert uses, f"{variable} is not used"
        assert all(use.startswith(":?") for use in uses), f"{variable} has a default: {uses}"
    assert ":-socialrx}" not in text and ":-temporal}" not in text


def test_only_the_tls_proxy_is_published_and_the_api_behind_it_is_not() -> None:
    services = compose_file()["services"]
    assert "ports" not in services["api"]
    proxy = services["proxy"]
    assert proxy["image"].startswith("caddy:")
    assert "443:443" in proxy["ports"]
    caddyfile = ROOT / "deploy" / "Caddyfile"
    assert f"./{caddyfile.relative_to(ROOT)}:/etc/caddy/Caddyfile:ro" in proxy["volumes"]
    assert "reverse_proxy api:8000" in caddyfile.read_text()
    published = {name for name, service in services.items() if "ports" in service}
    loopback_only = {
        name
        for name in published
        if all(str(port).startswith("127.0.0.1:") for port in services[name]["ports"])
    }
    assert published - loopback_only == {"proxy"}


def test_the_api_healthcheck_asks_whether_it_is_ready() -> None:
    (probe,) = [
        part for part in compose_file()["services"]["api"]["healthcheck"]["test"] if "http" in part
    ]
    assert "/health/ready" in probe
    assert "/docs" not in probe


def test_api_and_worker_encrypt_payloads_and_run_as_production() -> None:
    services = compose_file()["services"]
    for name in ("api", "worker", "migrate"):
        env = services[name]["environment"]
        assert env["SOCIALRX_ENV"] == "production"
        assert env["SOCIALRX_TEMPORAL__PAYLOAD_KEYS"].startswith(
            "${SOCIALRX_TEMPORAL__PAYLOAD_KEYS:?"
        )


def test_the_image_holds_no_env_file_venv_or_local_state() -> None:
    ignored = (ROOT / ".dockerignore").read_text().splitlines()
    for pattern in (".env*", ".venv", "var", "tests", ".pytest_cache"):
        assert pattern in ignored, pattern
    dockerfile = (ROOT / "Dockerfile").read_text()
    copied = re.findall(r"^COPY (\S+)", dockerfile, flags=re.MULTILINE)
    assert not any(
        source.startswith(".env") or source in {".", "var", "tests"} for source in copied
    )
