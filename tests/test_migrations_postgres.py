"""PostgreSQL deployment of the schema: replicas that start together migrate one at a time
(an advisory lock), and the app's own database user may only append to the access log.

Each test makes a fresh database in the test cluster (scripts/with-postgres); on SQLite
they are skipped."""

import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from uuid import uuid4

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, make_url, text
from sqlalchemy.exc import DBAPIError

from core.db import MIGRATION_LOCK_KEY, MIGRATIONS, migrate


@pytest.fixture
def fresh_database(database_url: str) -> Iterator[str]:
    """The URL of a new, empty database beside the test database, dropped afterwards."""
    url = make_url(database_url)
    if url.get_backend_name() != "postgresql":
        pytest.skip("PostgreSQL only: run under scripts/with-postgres")
    name = f"fresh_{uuid4().hex[:12]}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f"CREATE DATABASE {name}"))
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f"DROP DATABASE {name} WITH (FORCE)"))
        admin.dispose()


def head() -> str:
    return ScriptDirectory(str(MIGRATIONS)).get_current_head() or ""


def version_of(url: str) -> list[str]:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return list(
                connection.execute(text("SELECT version_num FROM alembic_version")).scalars()
            )
    finally:
        engine.dispose()


# Each replica imports, then waits for the same moment to migrate, as processes that a
# deployment starts together would.
REPLICA = """
import sys, time
from core.db import migrate
time.sleep(max(0.0, float(sys.argv[2]) - time.time()))
migrate(sys.argv[1])
"""


def test_replicas_starting_together_all_migrate_and_the_schema_is_at_head(
    fresh_database: str,
) -> None:
    at = str(time.time() + 8)
    replicas = [
        subprocess.Popen(
            [sys.executable, "-c", REPLICA, fresh_database, at],
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(3)
    ]
    failures = [replica.communicate(timeout=120)[1] for replica in replicas]

    assert [replica.returncode for replica in replicas] == [0, 0, 0], failures
    assert version_of(fresh_database) == [head()]


def test_a_migration_waits_for_the_lock_another_replica_holds(fresh_database: str) -> None:
    other_replica = create_engine(fresh_database)
    with other_replica.connect() as holder:
        holder.execute(text("SELECT pg_advisory_lock(:key)"), {"key": MIGRATION_LOCK_KEY})
        with ThreadPoolExecutor(max_workers=1) as pool:
            migrating = pool.submit(migrate, fresh_database)
            time.sleep(2)
            assert not migrating.done(), "it waits while another replica migrates"
            holder.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": MIGRATION_LOCK_KEY})
            migrating.result(timeout=60)
    other_replica.dispose()
    assert version_of(fresh_database) == [head()]


def test_the_app_user_may_only_insert_and_select_the_access_log(fresh_database: str) -> None:
    owner = make_url(fresh_database)
    setup = create_engine(owner, isolation_level="AUTOCOMMIT")
    with setup.connect() as connection:
        connection.execute(text("DROP ROLE IF EXISTS socialrx_app"))
        connection.execute(text("CREATE ROLE socialrx_app LOGIN"))
    app_url = owner.set(username="socialrx_app").render_as_string(hide_password=False)
    try:
        migrate(app_url, owner_url=fresh_database)
        app = create_engine(app_url)
        with app.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO access_log (at, subject, organisation_kind, organisation_id, "
                    "action) VALUES (now(), 'someone', 'practice', 'A81001', 'GET /referrals')"
                )
            )
            assert connection.execute(text("SELECT count(*) FROM access_log")).scalar() == 1
            # Everything else it reads and writes as before.
            connection.execute(text("DELETE FROM idempotency_record"))
        for statement in (
            "UPDATE access_log SET subject = 'someone else'",
            "DELETE FROM access_log",
            "TRUNCATE access_log",
            "DROP TABLE referral CASCADE",
            "UPDATE alembic_version SET version_num = 'x'",
        ):
            with (
                app.connect() as connection,
                pytest.raises(DBAPIError, match=r"permission denied|must be owner"),
            ):
                connection.execute(text(statement))
        app.dispose()
        # Starting the app as its own user migrates nothing and needs no more rights.
        migrate(app_url)
        assert version_of(app_url) == [head()]
    finally:
        with setup.connect() as connection:
            connection.execute(text("DROP OWNED BY socialrx_app"))
            connection.execute(text("DROP ROLE socialrx_app"))
        setup.dispose()
