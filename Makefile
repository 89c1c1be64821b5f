# make run   - install what is missing, start Redis if needed, migrate, scan, two workers and the web server
# make test  - the same set-up, then: the import contracts, the JavaScript tests and the unit tests (once),
#              then two passes side by side: the integration and browser tests on SQLite, and the
#              integration tests on PostgreSQL (each pass's output is shown when it ends)
#              (make lint / test-js / test-unit / test-sqlite / test-postgres run one step; PYTEST_ARGS go to pytest)
VENV ?= .venv
PYTHON ?= python3
export VENV
#: The PostgreSQL server of the second pass and a database on it that exists; the tests create and
#: drop their own databases there (tests/databases.py).
TEST_POSTGRES_URL ?= postgresql+psycopg://postgres@127.0.0.1/test
#: Every pass ends with its 15 slowest tests.
PYTEST = $(VENV)/bin/python -m pytest --durations=15 $(PYTEST_ARGS)

.PHONY: run test lint test-js test-unit test-sqlite test-postgres setup tools clean

$(VENV)/.installed: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -q --upgrade pip
	$(VENV)/bin/pip install -q -r requirements.txt
	touch $@

tools:
	bash scripts/ensure-tools.sh venv ffmpeg redis

setup: tools $(VENV)/.installed
	bash scripts/ensure-redis.sh

run: setup
	bash scripts/run.sh

# The two database passes run at once: a pass keeps one core about two-thirds busy (it waits on
# ffmpeg, sockets and timers), so two share the 2-core machine with room to spare, and the suite takes
# the time of the longer one (docs/PERFORMANCE.md, "The test suite").
test: lint test-js test-unit
	$(MAKE) --no-print-directory -j2 --output-sync=target test-sqlite test-postgres

lint: $(VENV)/.installed
	@echo "=== import contracts (pyproject.toml, ARCHITECTURE.md) ==="
	PYTHONPATH=. $(VENV)/bin/lint-imports --no-logo

test-js:
	bash scripts/ensure-tools.sh node
	@echo "=== JavaScript: the DOM-free modules (node --test) ==="
	node --test tests/js/

test-unit: $(VENV)/.installed
	@echo "=== unit tests: the pure cores, no app, no database ==="
	$(PYTEST) tests/unit

# Everything that builds an app (tests/integration) runs on both databases. The browser tests
# (tests/e2e) run once, since what they check does not depend on the database kind, split so that the
# two passes take about as long: the player's (which, like the integration tests, need every clip
# transcoded) first in the PostgreSQL pass, the party, deployment and security ones last in the SQLite pass.
PLAYER_E2E = tests/e2e/test_player.py

test-sqlite: setup
	bash scripts/ensure-tools.sh chromium nginx
	@echo "=== integration tests, and the browser tests but the player's, on SQLite (a copy of one migrated file per test) ==="
	MEDIASERVER_TEST_DATABASE_URL= $(PYTEST) tests/integration tests/e2e --ignore=$(PLAYER_E2E)

test-postgres: setup
	bash scripts/ensure-tools.sh chromium
	@echo "=== the player's browser tests, and the integration tests, on PostgreSQL at $(TEST_POSTGRES_URL) ==="
	MEDIASERVER_TEST_DATABASE_URL='$(TEST_POSTGRES_URL)' $(PYTEST) $(PLAYER_E2E) tests/integration

clean:
	rm -rf $(VENV) .pytest_cache
