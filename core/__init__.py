"""Infrastructure below every package that does I/O: settings, the database engine and
migrations, the Temporal connection, logging. Imports ``domain`` only."""
