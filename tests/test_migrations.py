from sqlalchemy import Engine, inspect
from sqlmodel import SQLModel


def test_migrations_create_every_table_the_models_declare(engine: Engine) -> None:
    in_database = set(inspect(engine).get_table_names())
    declared = set(SQLModel.metadata.tables)
    assert declared <= in_database, f"tables without a migration: {declared - in_database}"
