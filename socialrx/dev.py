"""``socialrx dev``: the whole system on this machine, in one command.

It starts the Temporal dev server (unless SOCIALRX_TEMPORAL_ADDRESS names a running one),
brings the database up to date, loads the demo data, then runs a worker and the API as child
processes, each with its own prefixed log. Ctrl-C or SIGTERM stops everything.
"""

import asyncio
import os
import socket
import sys
import time
from collections.abc import Callable

import httpx
import typer
from rich.console import Console
from rich.panel import Panel

from core.db import engine_for, migrate, session_scope
from core.settings import Settings, get_settings
from core.temporal import connect, installed_binary
from domain.tables import Practice
from socialrx import mesh_sandbox
from socialrx.children import Child, Children, StopRequested
from socialrx.demo import DEMO_PEOPLE
from socialrx.seed import demo_refusal, load_demo_data

STARTUP_TIMEOUT_SECONDS = 60.0
MESH_SANDBOX_PORT = 8700


class StartupFailed(Exception):
    pass


def dev(
    seed: bool = typer.Option(
        True, help="Load the demo practices, link workers and directory (safe on every start)."
    ),
    with_mesh_sandbox: bool = typer.Option(
        False,
        "--mesh-sandbox",
        help="Also run NHS Digital's MESH sandbox on 127.0.0.1:8700 and send the GP's "
        "messages there (messages kept under <var_dir>/mesh; its venv is made by scripts/test).",
    ),
) -> None:
    """Run Temporal, a worker and the API on this machine, with demo data; Ctrl-C stops all.

    State persists under SOCIALRX_VAR_DIR (default ./var): the Temporal dev server's SQLite
    file and the socialrx database. Set SOCIALRX_TEMPORAL_ADDRESS to use a Temporal server
    that is already running instead of starting one.
    """
    settings = get_settings()
    console = Console()
    taken = _ports_taken(settings)
    if taken:
        # Before anything starts: a taken port would otherwise fail later, after the banner.
        for message in taken:
            console.print(f"[bold red]socialrx dev could not start: {message}[/]", soft_wrap=True)
        raise typer.Exit(1)
    children = Children(console)
    children.stop_signals.install()
    try:
        _start_everything(settings, children, console, seed, with_mesh_sandbox)
        exited = children.watch()
        console.print(
            f"[bold red]{exited.name} stopped unexpectedly (exit code {exited.exit_code}); "
            "stopping the rest.[/]"
        )
        raise typer.Exit(1)
    except StopRequested as stop:
        console.print(f"[bold]{stop}: stopping…[/]")
    except StartupFailed as error:
        console.print(f"[bold red]socialrx dev could not start: {error}[/]")
        raise typer.Exit(1) from None
    finally:
        children.stop_all()
        console.print("[bold]socialrx dev stopped.[/]")


def _ports_taken(settings: Settings) -> list[str]:
    """A message for each port dev would listen on that something else already holds."""
    wanted = [(settings.api_host, settings.api_port, "SOCIALRX_API_PORT", "the API")]
    if not settings.temporal_address:
        wanted += [
            ("127.0.0.1", settings.temporal_port, "SOCIALRX_TEMPORAL_PORT", "Temporal"),
            ("127.0.0.1", settings.temporal_ui_port, "SOCIALRX_TEMPORAL_UI_PORT", "Temporal's UI"),
        ]
    return [
        f"port {port} on {host} (for {what}) is already in use; "
        f"stop what holds it, or choose another port with {setting}=<port>"
        for host, port, setting, what in wanted
        if not _can_listen(host, port)
    ]


def _can_listen(host: str, port: int) -> bool:
    with socket.socket() as probe:
        # As uvicorn and Temporal do: a closed connection's TIME_WAIT does not hold the port.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True


def _start_everything(
    settings: Settings, children: Children, console: Console, seed: bool, with_mesh: bool
) -> None:
    settings.var_dir.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ)
    if with_mesh:
        env |= _start_mesh_sandbox(settings, children, console)
    temporal: Child | None = None
    if settings.temporal_address:
        console.print(f"Using the Temporal server at [bold]{settings.temporal_address}[/].")
    else:
        temporal = children.start("temporal", _temporal_command(settings), "magenta")
    _wait_for_temporal(settings, temporal)

    migrate(settings.resolved_database_url)
    if seed:
        with session_scope(engine_for(settings.resolved_database_url)) as session:
            # Only production refuses here: a developer's own referrals are test data.
            refusal = demo_refusal(session, settings, demo=True)
            if refusal is not None:
                raise StartupFailed(f"{refusal} Start with --no-seed.")
            load_demo_data(session)
    console.print("Database up to date" + ("; demo data loaded." if seed else "."))

    python = [sys.executable, "-m", "socialrx"]
    children.start("worker", [*python, "worker"], "cyan", env)
    api = children.start("api", [*python, "api"], "green", env)
    _wait_for_api(settings, api)
    console.print(_welcome(settings))


def _start_mesh_sandbox(settings: Settings, children: Children, console: Console) -> dict[str, str]:
    """Start the sandbox; the settings that point the worker and API at it."""
    python = mesh_sandbox.installed_python(settings.var_dir)
    if python is None:
        raise StartupFailed(
            f"no MESH sandbox in {mesh_sandbox.venv_dir(settings.var_dir)}: run scripts/test "
            "once, or python3 -m venv that directory and pip install mesh-sandbox there, "
            f"then touch {mesh_sandbox.INSTALLED_MARKER} in it"
        )
    env = dict(os.environ) | mesh_sandbox.environment(store_dir=settings.var_dir / "mesh")
    command = mesh_sandbox.command(python, MESH_SANDBOX_PORT)
    sandbox = children.start("mesh", command, "yellow", env)
    url = f"http://127.0.0.1:{MESH_SANDBOX_PORT}"

    def answers() -> bool:
        try:
            return httpx.get(f"{url}/health", timeout=2).status_code == 200
        except httpx.TransportError:
            return False

    _wait_until(answers, sandbox, f"the MESH sandbox did not answer at {url}")
    console.print(
        f"MESH sandbox at [bold]{url}[/]: GP messages go to mailbox "
        f"{mesh_sandbox.PRACTICE_MAILBOX}, kept under {settings.var_dir / 'mesh'}."
    )
    return mesh_sandbox.socialrx_environment(
        url, [p.ods_code for p in DEMO_PEOPLE if isinstance(p, Practice)]
    )


def _temporal_command(settings: Settings) -> list[str]:
    # WAL with synchronous=NORMAL: measured 2.4x the default journal's throughput (DESIGN.md).
    return [
        installed_binary("temporal"),
        "server",
        "start-dev",
        "--db-filename",
        str(settings.var_dir / "temporal.db"),
        "--sqlite-pragma",
        "journal_mode=WAL",
        "--sqlite-pragma",
        "synchronous=NORMAL",
        "--namespace",
        settings.temporal_namespace,
        "--port",
        str(settings.temporal_port),
        "--ui-port",
        str(settings.temporal_ui_port),
        "--ip",
        "127.0.0.1",
        "--log-level",
        "warn",
    ]


def _wait_for_temporal(settings: Settings, temporal: Child | None) -> None:
    address = settings.resolved_temporal_address

    async def answers() -> bool:
        try:
            await connect(settings)
        except RuntimeError:
            return False
        return True

    _wait_until(
        lambda: asyncio.run(answers()),
        temporal,
        f"no Temporal server answered at {address}",
    )


def _wait_for_api(settings: Settings, api: Child) -> None:
    def answers() -> bool:
        try:
            return httpx.get(_api_url(settings) + "/health/live", timeout=2).status_code == 200
        except httpx.TransportError:
            return False

    _wait_until(answers, api, f"the API did not answer at {_api_url(settings)}")


def _wait_until(ready: Callable[[], bool], child: Child | None, failure: str) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
    while not ready():
        if child is not None and child.exit_code is not None:
            raise StartupFailed(f"{child.name} exited with code {child.exit_code} while starting")
        if time.monotonic() > deadline:
            raise StartupFailed(f"{failure} within {STARTUP_TIMEOUT_SECONDS:.0f} s")
        time.sleep(0.25)


def _api_url(settings: Settings) -> str:
    return f"http://{settings.api_host}:{settings.api_port}"


def _welcome(settings: Settings) -> Panel:
    if settings.temporal_address:
        temporal = f"Temporal:  {settings.temporal_address} (see that server's own web UI)"
    else:
        ui = f"http://127.0.0.1:{settings.temporal_ui_port}"
        temporal = f"Temporal:  {ui}/namespaces/{settings.temporal_namespace}/workflows"
    return Panel(
        f"Web pages: {_api_url(settings)}/  (sign in as a demo user: see docs/access.md)\n"
        f"API docs:  {_api_url(settings)}/docs\n{temporal}\n\nPress Ctrl-C to stop.",
        title="socialrx is running",
        expand=False,
        border_style="green",
    )
