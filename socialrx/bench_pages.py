"""``socialrx bench pages``: the server time of the pages people use every day, at a small
and a large number of synthetic referrals, next to the JSON route that serves the same data.

Two figures per page, both from the same run (saved as JSON, printed as a table):

- **scale ratio**: p95 at the largest size / p95 at the smallest. Target 1.5 or less: a
  page that scans a whole table, or runs a query per row (N+1), grows with the table.
- **JSON ratio**: p95 of the page / p95 of its JSON route, at the largest size. Target 1.5 or
  less: turning the data into HTML costs about what turning it into JSON does.

The people signed in are the demo accounts (``lw-amira``, ``org-millbrook-leisure-trust``,
``gp-a81001``). Their own rows are the same at every size: ``--own`` synthetic referrals of
the demo team and the demo organisation's services, made first. Every other synthetic
referral goes to the synthetic teams and the other services, so what grows between sizes is
everyone else's data, which a page must not read.

The app runs in-process (``httpx.ASGITransport``); a request's server time is from the app
receiving it to the last byte of its answer, measured around the ASGI call. Temporal is not
started: synthetic referrals have no workflow, so the client stands in with the answer a real
Temporal gives for them, "not found", at once (the page and the JSON route both ask).
"""

import asyncio
import json
import statistics
import time
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any, cast
from uuid import UUID

import httpx
import typer
from rich.console import Console
from rich.progress import Progress
from rich.table import Table
from sqlalchemy import Engine, event, select, text
from sqlmodel import Session, col
from starlette.types import ASGIApp, Receive, Scope, Send
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from socialrx.bench_reports import demo_database, percentile
from socialrx.demo import TEAM_ID as DEMO_TEAM
from socialrx.synthetic import Town, seed_synthetic

TARGET = 1.5
LINK_WORKER = "lw-amira"
ORGANISATION = "org-millbrook-leisure-trust"
PRACTICE = "A81001"


@dataclass(frozen=True)
class Page:
    """A page, who reads it, and the JSON route with the same data (None: there is none).
    Paths may name ``{referral_id}`` (an open referral of the link worker),
    ``{link_worker_id}`` and ``{organisation_id}``."""

    name: str
    path: str
    user: str
    json_path: str | None


PAGES = [
    Page("tasks", "/tasks", "lw-amira", f"/link-workers/{LINK_WORKER}/tasks"),
    Page("caseload", "/caseload", "lw-amira", None),
    Page("referral", "/caseload/referrals/{referral_id}", "lw-amira", "/referrals/{referral_id}"),
    Page(
        "organisation inbox",
        "/organisation/referrals",
        "org-millbrook-leisure-trust",
        f"/organisations/{ORGANISATION}/service-referrals",
    ),
    Page("practice list", "/practice/referrals", "gp-a81001", None),
]


def pages(
    sizes: Annotated[
        str, typer.Option(help="Total synthetic referrals per round, comma-separated.")
    ] = "1000,100000",
    requests: Annotated[int, typer.Option(help="Timed requests per page per size.", min=2)] = 100,
    own: Annotated[
        int, typer.Option(help="Referrals of the signed-in people (the same at every size).")
    ] = 300,
    database_url: Annotated[
        str | None,
        typer.Option(
            envvar="SOCIALRX_BENCH_DATABASE_URL",
            help="A database with no referrals yet; without it a throwaway PostgreSQL "
            "cluster is started.",
        ),
    ] = None,
    output: Annotated[Path, typer.Option(help="Where to write the figures.")] = Path(
        "var/bench/pages.json"
    ),
) -> None:
    """Time the daily pages at each size (p50, p95 of server time); print and save the
    scale ratio and the page/JSON ratio of each (target: both 1.5 or less)."""
    try:
        counts = sorted({int(size) for size in sizes.split(",")})
    except ValueError:
        raise typer.BadParameter(f"--sizes takes numbers like 1000,100000, not {sizes!r}") from None
    if len(counts) < 2 or counts[0] <= own:
        raise typer.BadParameter(
            f"--sizes needs two sizes, each larger than --own ({own}), e.g. 1000,100000"
        )
    console = Console(width=120)
    with _database(database_url) as url:
        result = _bench(console, url, counts, requests, own)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(result, indent=2) + "\n")
    _print(console, result)
    console.print(f"figures saved to {output}")


def _database(url: str | None) -> AbstractContextManager[str]:
    if url:
        return nullcontext(url)
    from socialrx.pg_cluster import throwaway_postgres

    return throwaway_postgres()


class _NoWorkflows:
    """Stands in for the Temporal client: a synthetic referral has no workflow, and a query
    for one fails with NOT_FOUND, which the app reads as "Temporal could not say"."""

    def get_workflow_handle_for(self, *args: Any, **kwargs: Any) -> "_NoWorkflows":
        return self

    async def query(self, *args: Any, **kwargs: Any) -> Any:
        raise RPCError("workflow not found", RPCStatusCode.NOT_FOUND, b"")


@dataclass
class Statement:
    sql: str
    parameters: Any
    seconds: float


class _Statements:
    """The SQL statements of the request under way, with their time: how many a page runs
    (a count that grows with the data is an N+1) and which one to EXPLAIN."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.seen: list[Statement] = []
        event.listen(engine, "before_cursor_execute", self._before)
        event.listen(engine, "after_cursor_execute", self._after)

    def _before(self, conn: Any, cursor: Any, sql: str, parameters: Any, *_: Any) -> None:
        conn.info.setdefault("bench_started", []).append(time.perf_counter())

    def _after(
        self, conn: Any, cursor: Any, sql: str, parameters: Any, context: Any, executemany: bool
    ) -> None:
        started = conn.info["bench_started"].pop()
        # Of an executemany (the access log's rows), the first row's: EXPLAIN runs one. A
        # PostgreSQL "insertmanyvalues" batch comes as one dict of numbered parameters.
        many = executemany and isinstance(parameters, list | tuple) and parameters
        one = parameters[0] if many else parameters
        self.seen.append(Statement(sql, one, time.perf_counter() - started))

    def take(self) -> list[Statement]:
        seen, self.seen = self.seen, []
        return seen

    def explain(self, statement: Statement) -> str:
        """The plan the database chose; on PostgreSQL with what it really did."""
        postgres = self.engine.dialect.name == "postgresql"
        prefix = "EXPLAIN ANALYZE " if postgres else "EXPLAIN QUERY PLAN "
        with self.engine.connect() as connection:
            rows = connection.exec_driver_sql(prefix + statement.sql, statement.parameters)
            plan = "\n".join(" ".join(str(value) for value in row) for row in rows)
            connection.rollback()  # EXPLAIN ANALYZE of an INSERT writes nothing
        return plan


class _ServerTime:
    """Wraps the app: how long the last request took inside it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.last = 0.0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = time.perf_counter()
        try:
            await self.app(scope, receive, send)
        finally:
            self.last = time.perf_counter() - started


def _towns() -> tuple[Town, Town]:
    """The demo team and organisation's share of the town, and everyone else's."""
    town = Town.load()
    theirs = Town(
        [p for p in town.practices if p[1] == DEMO_TEAM],
        {DEMO_TEAM: town.workers[DEMO_TEAM]},
        [s for s in town.services if s[1] == ORGANISATION],
    )
    rest = Town(
        [p for p in town.practices if p[1] != DEMO_TEAM],
        {team: workers for team, workers in town.workers.items() if team != DEMO_TEAM},
        [s for s in town.services if s[1] != ORGANISATION],
    )
    return theirs, rest


def _seed(console: Console, engine: Engine, count: int, seed: int, town: Town, what: str) -> None:
    started = time.perf_counter()
    with Progress(console=console, transient=True) as bar:
        task = bar.add_task(what, total=count)
        seed_synthetic(engine, count, seed=seed, town=town, progress=lambda n: bar.advance(task, n))
    console.print(f"{what}: {count:,} in {time.perf_counter() - started:.0f} s")


def _sign_in(engine: Engine, username: str) -> str:
    from accounts.credentials import start_session
    from domain.accounts import UserAccount

    with Session(engine) as session:
        user = session.get(UserAccount, username)
        if user is None:
            raise typer.BadParameter(f"the demo account {username} is missing")
        token, _ = start_session(session, user, timedelta(hours=12))
    return token


def _referral_of_the_link_worker(engine: Engine) -> UUID:
    """An open referral of the link worker with the most on it: tasks, service referrals."""
    from domain.enums import ReferralStatus
    from domain.tables import Referral

    with Session(engine) as session:
        theirs = session.exec(
            select(Referral.id, Referral.status)  # type: ignore[call-overload]
            .where(Referral.link_worker_id == LINK_WORKER)
            .order_by(col(Referral.created_at))
        ).all()
    connecting = [id_ for id_, status in theirs if status == ReferralStatus.CONNECTING]
    found = (connecting or [id_ for id_, _ in theirs] or [None])[0]
    if found is None:
        raise typer.BadParameter("the link worker has no referral; raise --own")
    return cast(UUID, found)


@dataclass
class Measured:
    """One page at one size: server times and statements per request, by kind (page, json),
    and the page's slowest statement (what to EXPLAIN if the page grows with the data)."""

    times: dict[str, list[float]]
    statements: dict[str, int]
    slowest: Statement | None


def _bench(console: Console, url: str, sizes: list[int], requests: int, own: int) -> dict[str, Any]:
    from api.main import create_app
    from core.settings import Settings

    engine = demo_database(url)
    theirs, rest = _towns()
    now = datetime.now(UTC)
    seed_synthetic(engine, own, seed=1, now=now, town=theirs)
    console.print(f"{own:,} referrals of the signed-in people (the same at every size)")
    tokens = {user: _sign_in(engine, user) for user in {page.user for page in PAGES}}
    values = {
        "referral_id": str(_referral_of_the_link_worker(engine)),
        "link_worker_id": LINK_WORKER,
        "organisation_id": ORGANISATION,
    }
    served = create_app(Settings(database_url=url), temporal=cast(Client, _NoWorkflows()))
    app = _ServerTime(served)
    statements = _Statements(served.state.engine)
    measured: dict[int, dict[str, Measured]] = {}
    skipped: dict[str, str] = {}
    seeded = own
    for size in sizes:
        _seed(console, engine, size - seeded, size, rest, f"everyone else's referrals to {size:,}")
        seeded = size
        with engine.begin() as connection:
            # Fresh statistics, as autovacuum (PostgreSQL) or a routine ANALYZE would give.
            connection.execute(text("ANALYZE"))
        statements.take()
        measured[size] = asyncio.run(
            _measure(app, statements, tokens, values, requests, skipped, console)
        )
    result = _figures(sizes, requests, own, url, values, measured, skipped)
    # A page that grows with everyone else's data: the plan of its slowest statement.
    for name, page in result["pages"].items():
        slowest = measured[sizes[-1]][name].slowest
        if page["scale_ratio"] > TARGET and slowest is not None:
            page["slowest_statement"] = {
                "sql": slowest.sql,
                "ms": round(slowest.seconds * 1000, 2),
                "plan": statements.explain(slowest),
            }
    engine.dispose()
    served.state.engine.dispose()
    return result


async def _measure(
    app: _ServerTime,
    statements: _Statements,
    tokens: dict[str, str],
    values: dict[str, str],
    requests: int,
    skipped: dict[str, str],
    console: Console,
) -> dict[str, Measured]:
    """Page and JSON route in turn, so both meet the same moment of the machine."""
    from api.principal import SESSION_COOKIE

    measured: dict[str, Measured] = {}
    transport = httpx.ASGITransport(app=app)
    with Progress(console=console, transient=True) as bar:
        for page in PAGES:
            if page.name in skipped:
                continue
            paths = {"page": page.path.format(**values)}
            if page.json_path:
                paths["json"] = page.json_path.format(**values)
            async with httpx.AsyncClient(
                transport=transport,
                base_url="http://bench.invalid",
                # The pages take the cookie, the JSON API only the bearer token.
                cookies={SESSION_COOKIE: tokens[page.user]},
                headers={"Authorization": f"Bearer {tokens[page.user]}"},
            ) as client:
                # One unmeasured request each: the first renders compile templates, warm caches.
                for kind, path in list(paths.items()):
                    answer = await client.get(path)
                    if answer.status_code == 404:
                        reason = f"{path} answers 404 (not on this branch)"
                        if kind == "page":
                            skipped[page.name] = reason
                            console.print(f"skipped {page.name}: {reason}")
                        else:
                            console.print(f"{page.name}: no JSON ratio, {reason}")
                        del paths[kind]
                    elif answer.status_code != 200:
                        raise RuntimeError(f"{path} answered {answer.status_code}")
                if "page" not in paths:
                    continue
                result = Measured({kind: [] for kind in paths}, {}, None)
                task = bar.add_task(page.name, total=requests)
                for _ in range(requests):
                    for kind, path in paths.items():
                        statements.take()
                        answer = await client.get(path)
                        if answer.status_code != 200:
                            raise RuntimeError(f"{path} answered {answer.status_code}")
                        result.times[kind].append(app.last)
                        seen = statements.take()
                        result.statements[kind] = len(seen)
                        if kind == "page" and seen:
                            result.slowest = max(seen, key=lambda s: s.seconds)
                    bar.advance(task)
                measured[page.name] = result
    return measured


def _figures(
    sizes: list[int],
    requests: int,
    own: int,
    url: str,
    values: dict[str, str],
    measured: dict[int, dict[str, Measured]],
    skipped: dict[str, str],
) -> dict[str, Any]:
    small, large = sizes[0], sizes[-1]
    result: dict[str, Any] = {
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "database": url.split(":", 1)[0].split("+", 1)[0],
        "sizes": sizes,
        "requests": requests,
        "own_referrals": own,
        "target": TARGET,
        "pages": {},
        "skipped": skipped,
    }
    for page in PAGES:
        if page.name in skipped or page.name not in measured[large]:
            continue
        by_size = {
            str(size): {
                kind: {
                    "p50_ms": round(statistics.median(times) * 1000, 2),
                    "p95_ms": round(percentile(times, 0.95) * 1000, 2),
                    "statements": measured[size][page.name].statements[kind],
                }
                for kind, times in measured[size][page.name].times.items()
            }
            for size in sizes
        }
        p95 = {size: by_size[str(size)]["page"]["p95_ms"] for size in sizes}
        json_at_large = by_size[str(large)].get("json")
        result["pages"][page.name] = {
            "path": page.path.format(**values),
            "user": page.user,
            "json_route": page.json_path.format(**values)
            if page.json_path and json_at_large
            else None,
            "by_size": by_size,
            "scale_ratio": round(p95[large] / p95[small], 2),
            "json_ratio": round(p95[large] / json_at_large["p95_ms"], 2) if json_at_large else None,
        }
    return result


def _verdict(ratio: float | None) -> str:
    if ratio is None:
        return "no JSON route"
    mark = "[green]PASS[/]" if ratio <= TARGET else "[red]FAIL[/]"
    return f"{ratio:.2f} {mark}"


def _print(console: Console, result: dict[str, Any]) -> None:
    small, large = result["sizes"][0], result["sizes"][-1]
    table = Table(
        title=f"pages on {result['database']}: server time in ms, {result['requests']} "
        f"requests each; target for both ratios ≤ {TARGET}"
    )
    for column in ("page", f"p50 {small:,}", f"p95 {small:,}", f"p50 {large:,}",
                   f"p95 {large:,}", f"JSON p95 {large:,}", "statements",
                   "scale ratio", "page/JSON ratio"):  # fmt: skip
        table.add_column(column, justify="left" if column == "page" else "right")
    for name, page in result["pages"].items():
        a, b = page["by_size"][str(small)]["page"], page["by_size"][str(large)]["page"]
        json_figures = page["by_size"][str(large)].get("json")
        table.add_row(
            name,
            f"{a['p50_ms']:.1f}",
            f"{a['p95_ms']:.1f}",
            f"{b['p50_ms']:.1f}",
            f"{b['p95_ms']:.1f}",
            f"{json_figures['p95_ms']:.1f}" if json_figures else "-",
            f"{a['statements']} → {b['statements']}",
            _verdict(page["scale_ratio"]),
            _verdict(page["json_ratio"]),
        )
    console.print(table)
    for name, page in result["pages"].items():
        if "slowest_statement" in page:
            slowest = page["slowest_statement"]
            console.print(
                f"{name} grows with the data; its slowest statement ({slowest['ms']} ms):"
            )
            console.print(slowest["sql"], markup=False, highlight=False)
            console.print(slowest["plan"], markup=False, highlight=False)
    for name, reason in result["skipped"].items():
        console.print(f"not measured: {name} ({reason})")
