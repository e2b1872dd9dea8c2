"""``socialrx seed --synthetic N``: N realistic, clearly labelled synthetic referrals in the
read model, for demos and benchmarks only.

Each referral goes through the process as far as chance takes it, with the drop-off, waits
and outcome change a service of this kind sees: some are never reached, some decline, some
find no service, organisations answer in days or never, most who start are followed up and
most improve a little. Nothing here starts a workflow, and nobody real appears: each person
is "Synthetic Person" with an NHS number from the 999 range that is never issued, and every
referral is marked ``synthetic`` in ``referral_milestone``. Each referral also has its
timeline (one audit event per step reached) and its tasks as the pages and the JSON API read
them: the link worker's open task for the next step of an open referral (the last one done
for a closed one), and the organisation's "respond" task for each service referral still
waiting for an answer. Two
synthetic teams with their practices and link workers join the demo ones, all named
"Synthetic ...".

Rows go in by batches: PostgreSQL's COPY, or executemany on SQLite.
"""

import json
import math
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import UUID

from rich.progress import Progress
from sqlalchemy import JSON, Date, Engine, Table, Uuid
from sqlmodel import Session, SQLModel

from activities.report_facts import SERVICE_USE, change_row, need_codes_text
from catalogue.demo import service_documents
from domain.enums import (
    ActorKind,
    AssigneeKind,
    ClosureReason,
    ProjectionAction,
    ReferralStatus,
    ServiceReferralStatus,
    TaskKind,
    TaskStatus,
)
from domain.measures import DEFAULT_THRESHOLDS, INSTRUMENTS
from domain.messages import MeasureAnswers
from domain.report_tables import OutcomeChange, ReferralMilestone
from domain.tables import (
    AuditEvent,
    LinkWorker,
    LinkWorkerTeam,
    Person,
    Practice,
    Referral,
    ServiceReferral,
    Task,
    UtcDateTime,
    table_of,
)
from reports.snapshots import forget_snapshots
from socialrx.demo import DEMO_PEOPLE

BATCH = 20_000
# A person's lift: how far they move the better way on every instrument, in quarter-ranges.
LIFT_MEAN, LIFT_SD = 0.35, 0.6
# Service use falls by this share of the lift: on average 8.75% fewer contacts after (the
# Rotherham evaluation saw up to a fifth fewer). Tested: it is what the generator produces.
SERVICE_USE_FALL_PER_LIFT = 0.25
INTENDED_SERVICE_USE_CHANGE = -SERVICE_USE_FALL_PER_LIFT * LIFT_MEAN
DAY = timedelta(days=1)
SYNTHETIC_TEAMS = {
    "syn-north-pcn": ["SYN001", "SYN002", "SYN003", "SYN004"],
    "syn-south-pcn": ["SYN005", "SYN006", "SYN007"],
}
NEEDS = [
    "sp-arts", "sp-physical-activity", "sp-nature", "sp-learning", "sp-volunteering",
    "sp-social-groups", "sp-self-care", "sp-mental-wellbeing", "sp-money", "sp-housing",
    "sp-employment", "sp-carers", "sp-food", "sp-digital-inclusion",
]  # fmt: skip
# The link worker's next task for an open referral, by status, and when it falls due.
NEXT_TASK = {
    ReferralStatus.ASSIGNED: (TaskKind.FIRST_CONTACT, 3 * DAY),
    ReferralStatus.CONTACTING: (TaskKind.WHAT_MATTERS_CONVERSATION, 7 * DAY),
    ReferralStatus.ASSESSED: (TaskKind.CHOOSE_SERVICE, 3 * DAY),
    ReferralStatus.CONNECTING: (TaskKind.CONFIRM_UPTAKE, 14 * DAY),
    ReferralStatus.ENGAGED: (TaskKind.FOLLOW_UP, 13 * 7 * DAY),
}
# The milestone each timeline entry marks.
TIMELINE = [
    ("first_attempt_at", ProjectionAction.CONTACT_ATTEMPTED),
    ("assessed_at", ProjectionAction.ASSESSED),
    ("connected_at", ProjectionAction.CONNECTED),
    ("took_up_at", ProjectionAction.UPTAKE_CONFIRMED),
    ("followed_up_at", ProjectionAction.FOLLOW_UP_RECORDED),
    ("closed_at", ProjectionAction.CLOSED),
]


def _test_nhs_numbers(count: int) -> list[str]:
    """Valid NHS numbers (mod 11 check digit) from 999 000 0000 up: a range never issued."""
    numbers: list[str] = []
    body = 999_000_000
    while len(numbers) < count:
        digits = [int(d) for d in str(body)]
        check = 11 - sum(d * w for d, w in zip(digits, range(10, 1, -1), strict=True)) % 11
        if check != 10:
            numbers.append(f"{body}{0 if check == 11 else check}")
        body += 1
    return numbers


TEST_NHS_NUMBERS = _test_nhs_numbers(1000)


def synthetic_people() -> list[SQLModel]:
    rows: list[SQLModel] = []
    for number, (team, practices) in enumerate(SYNTHETIC_TEAMS.items(), start=1):
        rows.append(LinkWorkerTeam(id=team, name=f"Synthetic team {number}"))
        rows += [Practice(ods_code=ods, name=f"Synthetic practice {ods[3:]}", team_id=team)
                 for ods in practices]  # fmt: skip
        rows += [LinkWorker(id=f"{team}-lw{n}", name=f"Synthetic link worker {number}.{n}",
                            team_id=team, is_team_lead=n == 1) for n in range(1, 5)]  # fmt: skip
    return rows


@dataclass(frozen=True)
class Town:
    """The practices, link workers and services synthetic referrals are spread across."""

    practices: list[tuple[str, str]]  # (ods, team)
    workers: dict[str, list[str]]  # team -> link workers
    services: list[tuple[str, str]]  # (service, organisation)

    @classmethod
    def load(cls) -> "Town":
        people = [*DEMO_PEOPLE, *synthetic_people()]
        workers: dict[str, list[str]] = {}
        for row in people:
            if isinstance(row, LinkWorker):
                workers.setdefault(row.team_id, []).append(row.id)
        practices = [(p.ods_code, p.team_id) for p in people if isinstance(p, Practice)]
        services = [(d["id"], d["organization"]["id"]) for d in service_documents()]
        return cls(practices, workers, services)


def load_synthetic_people(session: Session) -> None:
    for row in synthetic_people():
        session.merge(row)
    session.commit()


@dataclass
class Rows:
    referrals: list[dict[str, Any]]
    people: list[dict[str, Any]]
    milestones: list[dict[str, Any]]
    service_referrals: list[dict[str, Any]]
    changes: list[dict[str, Any]]
    tasks: list[dict[str, Any]]
    timeline: list[dict[str, Any]]


class Generator:
    def __init__(self, seed: int, now: datetime, town: Town | None = None) -> None:
        self.rng = random.Random(seed)
        self.now = now
        self.town = town or Town.load()
        self.outcome_pool = _outcome_pool(random.Random(seed + 1), now)

    def _days(self, median: float, spread: float = 0.8, cap: float = 60.0) -> timedelta:
        return min(cap, self.rng.lognormvariate(math.log(median), spread)) * DAY

    def _uuid(self) -> UUID:
        return UUID(int=self.rng.getrandbits(128), version=4)

    def batch(self, size: int) -> Rows:
        rows = Rows([], [], [], [], [], [], [])
        for _ in range(size):
            self._one(rows)
        return rows

    def _one(self, rows: Rows) -> None:
        rng, now = self.rng, self.now
        referral_id = self._uuid()
        ods, team = rng.choice(self.town.practices)
        referred = now - rng.random() * 365 * DAY
        m: dict[str, Any] = dict.fromkeys(
            ("first_attempt_at", "contacted_at", "assessed_at", "connected_at", "took_up_at",
             "followed_up_at", "closed_at", "closure_reason"),
        )  # fmt: skip
        needs = rng.sample(NEEDS, rng.choice((1, 1, 2, 2, 3)))
        at = referred
        reason: ClosureReason | None = None
        service_rows: list[dict[str, Any]] = []

        def reached(p: float, median: float) -> bool:
            nonlocal at
            step = at + self._days(median)
            if step > now or rng.random() > p:
                return False
            at = step
            return True

        if reached(0.97, 3):
            m["first_attempt_at"] = at
            if reached(0.86, 2):
                m["contacted_at"] = at
                if reached(0.86, 7):
                    m["assessed_at"] = at
                    if reached(0.9, 3):
                        m["connected_at"] = at
                        service_rows = self._service_referrals(referral_id, at)
                        started = [s["responded_at"] for s in service_rows
                                   if s["status"] == ServiceReferralStatus.STARTED]  # fmt: skip
                        if started:
                            m["took_up_at"] = at = min(started) + self._days(5, cap=20)
                            reason = self._follow_up(rows, referral_id, m, at)
                        else:
                            reason = ClosureReason.NO_SUITABLE_SERVICE
                    else:
                        reason = rng.choice(
                            (ClosureReason.NO_SUITABLE_SERVICE, ClosureReason.DECLINED)
                        )
                else:
                    reason = rng.choice((ClosureReason.DECLINED, ClosureReason.INELIGIBLE))
            else:
                reason = ClosureReason.UNABLE_TO_CONTACT
        if reason is not None and rng.random() < 0.02:
            reason = ClosureReason.CONSENT_WITHDRAWN
        closes = at + 14 * DAY  # the system closes a referral about two weeks after its end
        if reason is not None and closes <= now:
            m["closed_at"], m["closure_reason"] = closes, reason
        worker = rng.choice(self.town.workers[team])
        rows.referrals.append({
            "id": referral_id, "practice_ods": ods, "status": _status(m), "link_worker_id": worker,
            "closure_reason": m["closure_reason"], "need_codes": needs, "created_at": referred,
            "updated_at": at, "closed_at": m["closed_at"],
        })  # fmt: skip
        rows.people.append({
            "referral_id": referral_id, "nhs_number": rng.choice(TEST_NHS_NUMBERS),
            "given_name": "Synthetic", "family_name": "Person", "birth_date": referred.date()
            - timedelta(days=rng.randint(18 * 365, 90 * 365)), "postcode": "MB1 1AA",
            "reason": "Synthetic referral for demonstrations and benchmarks",
        })  # fmt: skip
        rows.milestones.append({
            "referral_id": referral_id, "practice_ods": ods, "team_id": team,
            "link_worker_id": worker, "need_codes": need_codes_text(needs),
            "referred_at": referred, "follow_up_due": m.pop("follow_up_due", False),
            "synthetic": True, **m,
        })  # fmt: skip
        rows.service_referrals += service_rows
        rows.tasks += _tasks(referral_id, worker, _status(m), m, at, service_rows)
        rows.timeline += _timeline(referral_id, worker, referred, m)

    def _service_referrals(self, referral_id: UUID, sent: datetime) -> list[dict[str, Any]]:
        rng, result = self.rng, []
        for service, organisation in rng.sample(self.town.services, rng.choice((1, 1, 1, 2))):
            answer = sent + self._days(4, cap=13.9)
            roll = rng.random()
            if answer > self.now:
                status, answered = ServiceReferralStatus.PENDING, None
            elif roll < 0.08:
                status, answered = ServiceReferralStatus.AUTO_DECLINED, sent + 14 * DAY
            elif roll < 0.2:
                status, answered = ServiceReferralStatus.DECLINED, answer
            elif roll < 0.32:
                status, answered = ServiceReferralStatus.DID_NOT_ATTEND, answer
            else:
                status, answered = ServiceReferralStatus.STARTED, answer
            if answered is not None and answered > self.now:
                status, answered = ServiceReferralStatus.PENDING, None
            result.append({
                "id": self._uuid(), "referral_id": referral_id, "service_id": service,
                "organisation_id": organisation, "status": status, "sent_at": sent,
                "respond_by": sent + 14 * DAY, "responded_at": answered,
            })  # fmt: skip
        return result

    def _follow_up(
        self, rows: Rows, referral_id: UUID, m: dict[str, Any], started: datetime
    ) -> ClosureReason | None:
        rng, recorded = self.rng, []
        for number, weeks in ((1, 13), (2, 17)):
            opens = started + weeks * 7 * DAY
            if opens > self.now:
                return None
            m["follow_up_due"] = True
            if rng.random() < 0.82:
                at = opens + rng.random() * 14 * DAY
                if at > self.now:
                    return None
                m["followed_up_at"] = m["followed_up_at"] or at
                recorded.append((number, at))
        for index, (number, at) in enumerate(recorded):
            for change in rng.choice(self.outcome_pool):
                rows.changes.append(change | {
                    "referral_id": referral_id, "checkpoint": f"follow_up_{number}",
                    "latest": index == len(recorded) - 1, "recorded_at": at,
                })  # fmt: skip
        return ClosureReason.COMPLETED if recorded else ClosureReason.LOST_TO_FOLLOW_UP


def _tasks(
    referral_id: UUID,
    worker: str,
    status: ReferralStatus,
    m: dict[str, Any],
    last_step: datetime,
    service_rows: list[dict[str, Any]],
) -> list[dict[str, Any]]:
    """Drawn from what already happened (no random numbers), so the referrals stay the same."""
    task = {"referral_id": referral_id, "assignee_kind": AssigneeKind.LINK_WORKER,
            "assignee_id": worker, "subject_id": None, "created_at": last_step}  # fmt: skip
    if status is ReferralStatus.CLOSED:
        tasks = [task | {"step_key": "synthetic", "kind": TaskKind.FIRST_CONTACT,
                         "status": TaskStatus.DONE, "due_at": None,
                         "closed_at": m["closed_at"]}]  # fmt: skip
    else:
        kind, due_in = NEXT_TASK[status]
        tasks = [task | {"step_key": "synthetic", "kind": kind, "status": TaskStatus.OPEN,
                         "due_at": last_step + due_in, "closed_at": None}]  # fmt: skip
    for row in service_rows:
        if row["status"] is ServiceReferralStatus.PENDING:
            tasks.append({
                "referral_id": referral_id, "step_key": "synthetic",
                "kind": TaskKind.RESPOND_TO_REFERRAL, "assignee_kind": AssigneeKind.ORGANISATION,
                "assignee_id": row["organisation_id"], "subject_id": str(row["id"]),
                "status": TaskStatus.OPEN, "due_at": row["respond_by"],
                "created_at": row["sent_at"], "closed_at": None,
            })  # fmt: skip
    return tasks


def _timeline(
    referral_id: UUID, worker: str, referred: datetime, m: dict[str, Any]
) -> list[dict[str, Any]]:
    steps = [(referred, ProjectionAction.RECEIVED)]
    steps += [(m[field], action) for field, action in TIMELINE if m[field] is not None]
    actor = {"referral_id": referral_id, "actor_kind": ActorKind.LINK_WORKER.value,
             "actor_id": worker, "detail": {}}  # fmt: skip
    return [actor | {"action": action.value, "at": at} for at, action in steps]


def _status(m: dict[str, Any]) -> ReferralStatus:
    if m["closed_at"] is not None:
        return ReferralStatus.CLOSED
    for field, status in (
        ("took_up_at", ReferralStatus.ENGAGED),
        ("connected_at", ReferralStatus.CONNECTING),
        ("assessed_at", ReferralStatus.ASSESSED),
        ("first_attempt_at", ReferralStatus.CONTACTING),
    ):
        if m[field] is not None:
            return status
    return ReferralStatus.ASSIGNED


def _outcome_pool(
    rng: random.Random, now: datetime, size: int = 1000
) -> list[list[dict[str, Any]]]:
    """Sets of one person's changes on every instrument, scored by the real domain code."""
    pool = []
    for _ in range(size):
        lift = rng.gauss(LIFT_MEAN, LIFT_SD)  # most people improve a little; some get worse
        changes = []
        for (code, version), instrument in INSTRUMENTS.items():
            before = _answers(rng, instrument.items, instrument.minimum, instrument.maximum,
                              code, baseline=True)  # fmt: skip
            after = {item: _moved(rng, value, instrument.minimum, instrument.maximum,
                                  lift if instrument.direction_of(item) == "higher_is_better"
                                  else -lift, code) for item, value in before.items()}  # fmt: skip
            with_baseline = rng.random() < 0.95
            row = change_row(
                UUID(int=0),
                "",
                MeasureAnswers(instrument=code, version=version, answers=before)
                if with_baseline else None,
                MeasureAnswers(instrument=code, version=version, answers=after),
                now,
                DEFAULT_THRESHOLDS,
            )  # fmt: skip
            fields = row.model_dump(exclude={"referral_id", "checkpoint", "latest", "recorded_at"})
            changes.append(fields)
        pool.append(changes)
    return pool


def _answers(
    rng: random.Random, items: Sequence[str], low: int, high: int, code: str, baseline: bool
) -> dict[str, int]:
    if code == SERVICE_USE:
        scale = {"gp_consultations": 4.0, "ae_attendances": 0.8,
                 "outpatient_appointments": 1.2, "inpatient_stays": 0.3}  # fmt: skip
        return {item: min(high, int(rng.expovariate(1 / scale[item]))) for item in items}
    middle = low + (high - low) * 0.4
    return {item: max(low, min(high, round(rng.gauss(middle, (high - low) / 5)))) for item in items}


def _moved(rng: random.Random, value: int, low: int, high: int, lift: float, code: str) -> int:
    if code == SERVICE_USE:
        # A count drawn around its expected value, never noise clipped at zero: symmetric
        # noise on small counts, clipped, raises the average, and turned the intended fall
        # into a rise (+22.8% on the commissioner page). ``lift`` comes signed by the item's
        # direction: negative for a person who improves, since fewer contacts is better
        # (the old formula subtracted it, and so raised the counts of those who improved).
        expected = value * max(0.0, 1 + SERVICE_USE_FALL_PER_LIFT * lift)
        return min(high, _poisson(rng, expected))
    step = lift * (high - low) / 4 + rng.gauss(0, 0.5)
    return max(low, min(high, round(value + step)))


def _poisson(rng: random.Random, mean: float) -> int:
    """A Poisson count (Knuth's method; the means here are small)."""
    limit, count, product = math.exp(-mean), 0, rng.random()
    while product > limit:
        count += 1
        product *= rng.random()
    return count


# --- writing ------------------------------------------------------------------------------


TABLES: list[tuple[str, Table]] = [
    ("referrals", table_of(Referral)),
    ("people", table_of(Person)),
    ("milestones", table_of(ReferralMilestone)),
    ("service_referrals", table_of(ServiceReferral)),
    ("changes", table_of(OutcomeChange)),
    ("tasks", table_of(Task)),
    ("timeline", table_of(AuditEvent)),
]


def _written(table: Table) -> list[Any]:
    """The columns a batch fills: all but a generated key, which the database numbers."""
    return [c for c in table.columns if c is not table.autoincrement_column]


def _values(table: Table, rows: list[dict[str, Any]], sqlite: bool) -> list[tuple[Any, ...]]:
    """Rows as the driver takes them; on SQLite in the very form SQLAlchemy stores (UUIDs as
    32 hex digits, moments as naive UTC text), so the ORM reads them back as its own."""
    columns = _written(table)
    names = [c.name for c in columns]
    converted = {c.name: convert for c in columns if (convert := _converter(c.type, sqlite))}
    for row in rows:  # converted in place: a batch's rows are written once, then dropped
        for name, convert in converted.items():
            value = row.get(name)
            if value is not None:
                row[name] = convert(value)
    return [tuple(map(row.get, names)) for row in rows]


def _converter(column_type: Any, sqlite: bool) -> Callable[[Any], Any] | None:
    """One conversion per column, chosen once: most values pass through untouched."""
    if isinstance(column_type, JSON):
        return json.dumps
    if not sqlite:
        return None
    if isinstance(column_type, UtcDateTime):
        # Every moment made here is already UTC.
        return lambda value: value.strftime("%Y-%m-%d %H:%M:%S.%f")
    if isinstance(column_type, Date):
        return date.isoformat
    if isinstance(column_type, Uuid):
        return lambda value: value.hex
    return None


def write(engine: Engine, rows: Rows) -> None:
    """One batch in one transaction: COPY on PostgreSQL, the driver's executemany on SQLite
    (SQLAlchemy's own parameter handling would be most of the time)."""
    with engine.begin() as connection:
        raw: Any = connection.connection.driver_connection
        sqlite = engine.dialect.name == "sqlite"
        cursor = raw.cursor()
        try:
            for attribute, table in TABLES:
                values = _values(table, getattr(rows, attribute), sqlite)
                written = _written(table)
                columns = ", ".join(f'"{c.name}"' for c in written)
                if sqlite:
                    marks = ", ".join("?" for _ in written)
                    cursor.executemany(
                        f'INSERT INTO "{table.name}" ({columns}) VALUES ({marks})', values
                    )
                    continue
                with cursor.copy(f'COPY "{table.name}" ({columns}) FROM STDIN') as copy:
                    for record in values:
                        copy.write_row(record)
        finally:
            cursor.close()


def seed_synthetic(
    engine: Engine,
    count: int,
    *,
    seed: int = 5,
    now: datetime | None = None,
    progress: Callable[[int], None] | None = None,
    town: Town | None = None,
) -> None:
    """Add ``count`` synthetic referrals (the demo people and directory must be loaded),
    spread over ``town``'s practices and services (default: every one)."""
    with Session(engine) as session:
        load_synthetic_people(session)
    generator = Generator(seed, now or datetime.now(UTC), town)
    done = 0
    while done < count:
        size = min(BATCH, count - done)
        write(engine, generator.batch(size))
        done += size
        if progress:
            progress(size)
    # Written without applying steps, which is what tells a report snapshot its facts changed.
    forget_snapshots(engine)


def seed_with_progress(engine: Engine, count: int, seed: int = 5) -> None:
    with Progress(transient=False) as bar:
        task = bar.add_task("synthetic referrals", total=count)
        seed_synthetic(engine, count, seed=seed, progress=lambda n: bar.advance(task, n))
