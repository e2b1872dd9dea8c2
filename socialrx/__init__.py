"""The composition root of socialrx: settings, database, Temporal client, worker and CLI."""
