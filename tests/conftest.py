"""Shared fixtures.  Each backend's fixtures live in their own plugin module."""

pytest_plugins = [
    "tests.fixtures.postgres",
    "tests.fixtures.redis",
    "tests.fixtures.s3",
]
