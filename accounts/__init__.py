"""Accounts: users, API keys and sign-in sessions, for the API and the CLI alike."""
