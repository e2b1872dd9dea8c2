"""The directory migration upgrades a database that already holds organisations and services
(SQLite rebuilds those tables to alter them), and downgrades again."""

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlmodel import Session

from catalogue.demo import load_demo_directory
from catalogue.tables import Service
from core.db import MIGRATIONS, make_engine

BEFORE_DIRECTORY = "f09e5a1c4639"


def test_upgrade_keeps_existing_rows_and_downgrades(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["database_url"] = url
    command.upgrade(config, BEFORE_DIRECTORY)
    engine = make_engine(url)
    with engine.begin() as connection:
        connection.exec_driver_sql("INSERT INTO organization VALUES ('o', 'Old', '', NULL, NULL)")
        connection.exec_driver_sql(
            "INSERT INTO service (id, organization_id, name, description, status) "
            "VALUES ('s', 'o', 'Old service', '', 'active')"
        )
    engine.dispose()

    command.upgrade(config, "head")
    with Session(engine) as session:
        old = session.get(Service, "s")
        assert old is not None and old.hsds_extra == {}
        load_demo_directory(session)
    engine.dispose()

    command.downgrade(config, BEFORE_DIRECTORY)
    command.upgrade(config, "head")
    engine.dispose()
