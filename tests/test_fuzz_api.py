"""schemathesis against the app's own OpenAPI, signed in as each role: no server errors, and
every documented response matches its schema.

The app runs under uvicorn on a real port with a real Temporal dev server, a real worker and
the real database, so every layer a request meets is the production one. Each generated
request is sent as generated (ids that exist nowhere) and again with its ids swapped for a
real referral and its service referral, so the steps and views behind the 404s are fuzzed
too. The examples are bounded and derandomised, so a run costs about the same each time.
"""

import asyncio
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from uuid import uuid4

import httpx
import pytest
import schemathesis
import uvicorn
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance
from sqlmodel import Session
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from api.main import create_app
from core.db import engine_for
from core.settings import Settings
from core.temporal import DATA_CONVERTER
from socialrx.worker import build_worker
from tests.support.database import empty_all_tables
from tests.support.driver import ROLES, TEST_PASSWORD, person
from tests.support.system import load_directory_and_people

ACTORS = {
    "practice": "practice:A81001",
    "link_worker": "link_worker:lw-amira",
    "organisation": "organisation:org-millbrook-leisure-trust",
    "commissioner": "commissioner:millbrook-icb",
    "anonymous": None,
}
EXAMPLES_PER_OPERATION = 10

# Signing out would end the session the rest of the run signs in with; tests/test_auth.py
# covers it.
schema = schemathesis.openapi.from_dict(
    create_app(Settings(database_url="sqlite://")).openapi()
).exclude(path="/auth/sign-out")


@dataclass
class LiveApi:
    base_url: str
    headers: dict[str, dict[str, str]]
    known_ids: dict[str, str]
    """Real objects, by the name of the path parameter that takes them."""


def _run_worker(address: str, task_queue: str, database_url: str, stop: threading.Event) -> None:
    async def work() -> None:
        client = await Client.connect(address, data_converter=DATA_CONVERTER)
        async with build_worker(client, task_queue, engine_for(database_url)):
            while not stop.is_set():
                await asyncio.sleep(0.1)

    asyncio.run(work())


def _real_referral(base_url: str, headers: dict[str, dict[str, str]]) -> dict[str, str]:
    """A referral taken through the API to the point where an organisation has it."""
    with httpx.Client(base_url=base_url, timeout=60) as http:

        def post(path: str, body: dict[str, object], role: str = "link_worker") -> Any:
            response = http.post(path, json=body, headers=headers[role])
            assert response.status_code in (200, 201), response.text
            return response.json()

        referral = post("/referrals", person(), "practice")["id"]
        while (
            http.get(f"/referrals/{referral}", headers=headers["practice"]).json()["status"]
            != "assigned"
        ):
            time.sleep(0.1)
        post(f"/referrals/{referral}/contact-attempts", {"method": "phone", "reached": True})
        post(f"/referrals/{referral}/assessment", {"need_codes": ["sp-physical-activity"]})
        state = post(f"/referrals/{referral}/connections", {"service_ids": ["svc-health-walks"]})
        sal = http.get(
            "/service_at_locations", params={"organization_id": "org-millbrook-leisure-trust"}
        )
    return {
        "referral_id": referral,
        "service_referral_id": state["service_referrals"][0]["id"],
        "link_worker_id": "lw-amira",
        "organisation_id": "org-millbrook-leisure-trust",
        "organization_id": "org-millbrook-leisure-trust",
        "service_id": "svc-health-walks",
        "term_id": "sp-physical-activity",
        "link_id": sal.json()["contents"][0]["id"],
    }


def _free_socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


@pytest.fixture(scope="module")
def live_api(
    dev_server_env: WorkflowEnvironment,
    database_url: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[LiveApi]:
    from accounts.credentials import add_user

    engine = engine_for(database_url)
    empty_all_tables(engine)
    load_directory_and_people(engine)
    with Session(engine) as session:
        for role, actor in ACTORS.items():
            if actor is not None:
                kind, _, identifier = actor.partition(":")
                add_user(session, role, TEST_PASSWORD, ROLES[kind], identifier)
    address = dev_server_env.client.service_client.config.target_host
    app_settings = Settings(
        database_url=database_url,
        var_dir=Path(tmp_path_factory.mktemp("var")),
        temporal_address=address,
        task_queue=f"fuzz-{uuid4()}",
    )
    stop_worker = threading.Event()
    worker = threading.Thread(
        target=_run_worker,
        args=(address, app_settings.task_queue, database_url, stop_worker),
        daemon=True,
    )
    worker.start()
    sock = _free_socket()
    server = uvicorn.Server(
        uvicorn.Config(create_app(app_settings), log_level="warning", lifespan="on")
    )
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    while not server.started:
        assert thread.is_alive(), "the API did not start"
        time.sleep(0.05)
    host, port = sock.getsockname()
    base_url = f"http://{host}:{port}"
    headers: dict[str, dict[str, str]] = {"anonymous": {}}
    for role, actor in ACTORS.items():
        if actor is not None:
            response = httpx.post(
                f"{base_url}/auth/token", data={"username": role, "password": TEST_PASSWORD}
            )
            assert response.status_code == 200, response.text
            headers[role] = {"Authorization": f"Bearer {response.json()['access_token']}"}
    try:
        yield LiveApi(base_url, headers, _real_referral(base_url, headers))
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        sock.close()
        stop_worker.set()
        worker.join(timeout=30)


@schema.parametrize()
@settings(
    max_examples=EXAMPLES_PER_OPERATION,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_no_server_errors_and_responses_match_the_schema(
    case: schemathesis.Case, live_api: LiveApi
) -> None:
    generated = dict(case.path_parameters or {})
    real = {name: live_api.known_ids.get(name, value) for name, value in generated.items()}
    for path_parameters in [generated] + ([real] if real != generated else []):
        case.path_parameters = path_parameters
        for role in ACTORS:
            case.call_and_validate(
                base_url=live_api.base_url,
                headers=live_api.headers[role],
                checks=[not_a_server_error, response_schema_conformance],
            )
