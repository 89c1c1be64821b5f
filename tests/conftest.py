"""The whole suite's plugin: a database per test (tests/databases.py: SQLite copies of one migrated
template, or PostgreSQL with MEDIASERVER_TEST_DATABASE_URL). Fixtures that build apps are in
tests/app_fixtures.py, imported by the integration and end-to-end conftests only: unit tests build no app."""

pytest_plugins = ["tests.databases"]
