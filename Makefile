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
# the time of the longer one (docs/PERFORMANCE.md, "The test suite"). The browser tests, which measure
# sync in milliseconds, come last in the SQLite pass, when the PostgreSQL pass is done.
test: lint test-js test-unit
	$(MAKE) --no-print-directory -j2 --output-sync=target test-sqlite test-postgres

lint: $(VENV)/.installed
	@echo "=== import contracts (pyproject.toml, ARCHITECTURE.md) ==="
	PYTHONPATH=. $(VENV)/bin/lint-imports

test-js:
	bash scripts/ensure-tools.sh node
	@echo "=== JavaScript: the DOM-free modules (node --test) ==="
	node --test tests/js/

test-unit: $(VENV)/.installed
	@echo "=== unit tests: the pure cores, no app, no database ==="
	$(PYTEST) tests/unit

# The database-kind pass: everything that builds an app (tests/integration) on both databases; the
# browser tests (tests/e2e) once, here, since what they check does not depend on the database kind.
test-sqlite: setup
	bash scripts/ensure-tools.sh chromium nginx
	@echo "=== integration and browser tests on SQLite (a copy of one migrated file per test) ==="
	MEDIASERVER_TEST_DATABASE_URL= $(PYTEST) tests/integration tests/e2e

test-postgres: setup
	@echo "=== integration tests on PostgreSQL at $(TEST_POSTGRES_URL) (a database per test) ==="
	MEDIASERVER_TEST_DATABASE_URL='$(TEST_POSTGRES_URL)' $(PYTEST) tests/integration

clean:
	rm -rf $(VENV) .pytest_cache
