"""``socialrx bench catalogue``: import a generated directory and time search and matching.

The directory is shaped like a regional one: towns of about 40 services each, every service
with an area (its town's districts), a location near its town, two or three needs, ages,
schedules and capacity; one in twenty is online-only and serves everyone. It is built from the
same compact description as the demo town and goes through the ordinary importer.

It imports 1,000 services, times the queries, grows the same database to 10,000 and times
them again, then prints p50 and p95 and the 10k/1k ratios.
"""

import asyncio
import random
import statistics
import tempfile
import time
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

WORDS = [
    "yoga",
    "pilates",
    "walking",
    "swimming",
    "dance",
    "tai chi",
    "football",
    "cycling",
    "painting",
    "pottery",
    "choir",
    "drama",
    "photography",
    "knitting",
    "writing",
    "music",
    "gardening",
    "allotment",
    "conservation",
    "orchard",
    "beekeeping",
    "nature",
    "birdwatching",
    "cookery",
    "pantry",
    "lunch",
    "breakfast",
    "budgeting",
    "debt",
    "benefits",
    "tenancy",
    "housing",
    "careers",
    "cv",
    "interview",
    "coding",
    "computer",
    "tablet",
    "library",
    "befriending",
    "coffee",
    "bereavement",
    "carers",
    "parents",
    "mindfulness",
    "wellbeing",
    "diabetes",
    "breathing",
    "arthritis",
    "memory",
    "volunteering",
    "repair",
    "shed",
    "reading",
]
KINDS = ["group", "club", "class", "course", "drop-in", "session", "project", "network"]
NEEDS = [
    "sp-arts",
    "sp-physical-activity",
    "sp-nature",
    "sp-learning",
    "sp-volunteering",
    "sp-social-groups",
    "sp-self-care",
    "sp-mental-wellbeing",
    "sp-money",
    "sp-housing",
    "sp-employment",
    "sp-carers",
    "sp-food",
    "sp-digital-inclusion",
]
SYLLABLES = ["ash", "brook", "ford", "ham", "ley", "mere", "ton", "wick", "by", "dale", "stow"]
SERVICES_PER_TOWN = 40
QUERIES = 200
# The first queries fill caches; they are run but not counted.
WARM_UP = 10


def catalogue(
    services: Annotated[int, typer.Option(help="Size of the large directory.")] = 10_000,
    small: Annotated[int, typer.Option(help="Size of the small directory.")] = 1_000,
    queries: Annotated[int, typer.Option(help="Timed queries of each kind per size.")] = QUERIES,
) -> None:
    """Import generated directories of SMALL and SERVICES services; time /services?search=
    and matching; print p50, p95 and the ratios (target: p95 under 20 ms at 10k on SQLite)."""
    from sqlmodel import Session

    from api.main import create_app
    from api.routes.catalogue import router
    from catalogue.importer import import_documents
    from core.db import engine_for, migrate
    from core.settings import Settings

    console = Console(width=100)  # the table fits even when the output is not a terminal
    rng = random.Random(2024)
    directory = generate_directory(services, rng)
    with tempfile.TemporaryDirectory() as scratch:
        settings = Settings(database_url=f"sqlite:///{Path(scratch) / 'bench.db'}")
        url = settings.resolved_database_url
        migrate(url)
        engine = engine_for(url)
        app = create_app(settings, temporal=None)
        app.include_router(router)
        results: dict[int, dict[str, list[float]]] = {}
        imported = 0
        for size in (small, services):
            started = time.perf_counter()
            report = import_documents(engine, directory.documents[imported:size])
            elapsed = time.perf_counter() - started
            console.print(
                f"imported {size - imported} services in {elapsed:.1f} s "
                f"({(size - imported) / elapsed:.0f}/s); rejected {len(report.rejected)}"
            )
            imported = size
            with Session(engine) as session:
                results[size] = {
                    "/services?search=": asyncio.run(_time_search(app, directory, rng, queries)),
                    "matching": _time_matching(session, directory, rng, queries),
                }
        _print(console, results, small, services)


class GeneratedDirectory:
    def __init__(self) -> None:
        self.documents: list[dict[str, Any]] = []
        self.towns: list[tuple[str, str, float, float]] = []  # name, area, latitude, longitude


def generate_directory(size: int, rng: random.Random) -> GeneratedDirectory:
    from catalogue.demo import expand_service

    generated = GeneratedDirectory()
    areas = [a + b for a in "ABCDEFGHJKLMNOPRSTUWY" for b in "ABDEGHJLMNPRSTUWXY"]
    names: set[str] = set()
    for number in range(size):
        town_number = number // SERVICES_PER_TOWN
        if town_number == len(generated.towns):
            name = _town_name(rng, names)
            generated.towns.append(
                (name, areas[town_number], rng.uniform(50.5, 54.5), rng.uniform(-3.5, 0.5))
            )
        town, area, latitude, longitude = generated.towns[town_number]
        organization_id = f"org-{area.lower()}-{number // 2}"
        online = number % 20 == 0
        word = rng.choice(WORDS)
        service: dict[str, Any] = {
            "id": f"svc-{number}",
            "organization": organization_id,
            "name": f"{town} {word} {rng.choice(KINDS)}",
            "description": f"A {word} {rng.choice(KINDS)} in {town} for people of all abilities.",
            "needs": rng.sample(NEEDS, rng.choice((2, 2, 3))),
            "ages": rng.choice(([18, None], [16, None], [50, None], [11, 18], [18, 66])),
            "days": ",".join(sorted(rng.sample(["MO", "TU", "WE", "TH", "FR", "SA"], 2))),
            "hours": ["10:00", "12:00"],
            "capacity": rng.choice(
                (
                    {"available": 5, "maximum": 10},
                    {"available": 0, "maximum": 10, "waiting_list": True},
                    {"available": 0, "maximum": 10},
                    {"available": 12, "maximum": 30},
                )
            ),
            "assured": f"2025-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
            "modified": f"2025-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}T09:00:00Z",
        }
        location: dict[str, Any] = {
            "id": f"loc-{number}",
            "name": f"{town} hall {number}",
            "address": f"{number} High Street",
            "postcode": f"{area}{rng.randint(1, 6)} 1AA",
            "latitude": latitude + rng.uniform(-0.03, 0.03),
            "longitude": longitude + rng.uniform(-0.05, 0.05),
        }
        if online:
            service |= {"online": True, "locations": []}
        else:
            service |= {"areas": [area], "locations": [location["id"]]}
        organization: dict[str, Any] = {
            "id": organization_id,
            "name": f"{town} community trust {number // 2}",
            "description": f"A community organisation in {town}.",
            "phone": "01632 960 000",
        }
        generated.documents.append(
            expand_service(
                service,
                {organization_id: organization},
                {location["id"]: location},
                "bench@example.org",
            )
        )
    return generated


def _town_name(rng: random.Random, taken: set[str]) -> str:
    name = "".join(rng.sample(SYLLABLES, 2)).capitalize()
    if name in taken:
        name = f"{name} {len(taken)}"  # enough syllables for a few hundred towns, then numbers
    taken.add(name)
    return name


async def _time_search(
    app: Any, directory: GeneratedDirectory, rng: random.Random, count: int
) -> list[float]:
    """Searches by activity, by town, and by both, through the API in process."""
    import httpx

    timings = []
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
        for _ in range(WARM_UP + count):
            word, town = rng.choice(WORDS), rng.choice(directory.towns)[0]
            search = rng.choice((word, town, f"{word} {town}"))
            started = time.perf_counter()
            response = await client.get("/services", params={"search": search, "per_page": 20})
            timings.append((time.perf_counter() - started) * 1000)
            response.raise_for_status()
    return timings[WARM_UP:]


def _time_matching(
    session: Any, directory: GeneratedDirectory, rng: random.Random, count: int
) -> list[float]:
    from catalogue.geocode import DistrictCentroidGeocoder, GeoPoint
    from catalogue.matching import MatchRequest, suggest

    geocoder = DistrictCentroidGeocoder(
        {
            f"{area}{district}": GeoPoint(latitude=latitude, longitude=longitude)
            for _, area, latitude, longitude in directory.towns
            for district in range(1, 7)
        }
    )
    timings = []
    for _ in range(WARM_UP + count):
        town = rng.choice(directory.towns)
        district = f"{town[1]}{rng.randint(1, 6)}"
        request = MatchRequest(
            needs=rng.sample(NEEDS, rng.choice((1, 2, 3))),
            age=rng.randint(16, 90),
            postcode_district=district,
            origin_postcode=district,
        )
        started = time.perf_counter()
        suggest(session, request, geocoder)
        timings.append((time.perf_counter() - started) * 1000)
    return timings[WARM_UP:]


def _percentile(timings: list[float], percent: int) -> float:
    return statistics.quantiles(timings, n=100, method="inclusive")[percent - 1]


def _short(size: int) -> str:
    return f"{size // 1000}k" if size % 1000 == 0 else str(size)


def _print(
    console: Console, results: dict[int, dict[str, list[float]]], small: int, large: int
) -> None:
    table = Table(title=f"catalogue on SQLite, milliseconds: {small:,} and {large:,} services")
    table.add_column("query")
    for size in (small, large):
        table.add_column(f"p50 {_short(size)}", justify="right")
        table.add_column(f"p95 {_short(size)}", justify="right")
    ratio = f"{_short(large)}/{_short(small)}"
    table.add_column(f"p50 {ratio}", justify="right")
    table.add_column(f"p95 {ratio}", justify="right")
    for name in results[small]:
        p50s = [_percentile(results[size][name], 50) for size in (small, large)]
        p95s = [_percentile(results[size][name], 95) for size in (small, large)]
        table.add_row(
            name,
            f"{p50s[0]:.1f}",
            f"{p95s[0]:.1f}",
            f"{p50s[1]:.1f}",
            f"{p95s[1]:.1f}",
            f"{p50s[1] / p50s[0]:.2f}",
            f"{p95s[1] / p95s[0]:.2f}",
        )
    console.print(table)
    size_ratio = large / small
    console.print(
        f"sublinear means a ratio well under {size_ratio:.0f} (the ratio of the sizes); "
        "target p95 under 20 ms at the large size."
    )
