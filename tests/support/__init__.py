"""Helpers shared by tests: drivers, data builders, server starters. Not tests, not fixtures."""
