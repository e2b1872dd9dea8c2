"""Autogenerate a migration against a scratch SQLite database at head: ``python -m ... MSG``."""

import sys
import tempfile
from pathlib import Path

from alembic import command
from alembic.config import Config

from core.db import MIGRATIONS, migrate


def main() -> None:
    message = " ".join(sys.argv[1:]) or "schema change"
    with tempfile.TemporaryDirectory() as scratch:
        url = f"sqlite:///{Path(scratch) / 'scratch.db'}"
        migrate(url)
        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))
        config.attributes["database_url"] = url
        command.revision(config, message=message, autogenerate=True)


if __name__ == "__main__":
    main()
