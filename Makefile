# make run   - install what is missing, start Redis if needed, migrate, scan, two workers and the web server
# make test  - the same set-up, then: the import contracts, the JavaScript tests and the unit tests (once),
#              then three passes side by side: the integration tests on SQLite, the same on PostgreSQL,
#              and the browser tests (make lint / test-js / test-unit / test-sqlite / test-postgres /
#              test-e2e run one step; PYTEST_ARGS go to every pytest)
VENV ?= .venv
PYTHON ?= python3
export VENV
#: The PostgreSQL server of the second pass and a database on it that exists; the tests create and
#: drop their own databases there (tests/databases.py).
TEST_POSTGRES_URL ?= postgresql+psycopg://postgres@127.0.0.1/test
#: Every pass ends with its 15 slowest tests.
PYTEST = $(VENV)/bin/python -m pytest --durations=15 $(PYTEST_ARGS)

.PHONY: run test lint test-js test-unit test-sqlite test-postgres test-e2e setup tools clean

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

# Three passes run at once (each keeps one core about two-thirds busy: it waits on ffmpeg, sockets and
# timers), and the suite takes the time of the longest (docs/PERFORMANCE.md, "The test suite"); each
# pass's output is shown when it ends.
test: lint test-js test-unit
	$(MAKE) --no-print-directory -j3 --output-sync=target test-sqlite test-postgres test-e2e

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

# Everything that builds an app (tests/integration) runs on both databases. Once, on SQLite, since what
# they check does not depend on the database kind: the browser tests (tests/e2e, in the order of its
# conftest: the player's first, the party's, which measure sync, last), and the tests of every clip
# (`every_clip`: each clip's ladder, each clip played), which need all of ../shared/media transcoded
# and so run where the browser tests transcode it anyway.
test-sqlite: setup
	@echo "=== integration tests on SQLite (a copy of one migrated file per test) ==="
	MEDIASERVER_TEST_DATABASE_URL= $(PYTEST) tests/integration -m "not every_clip"

test-postgres: setup
	@echo "=== integration tests on PostgreSQL at $(TEST_POSTGRES_URL) (a database per test) ==="
	MEDIASERVER_TEST_DATABASE_URL='$(TEST_POSTGRES_URL)' $(PYTEST) tests/integration -m "not every_clip"

test-e2e: setup
	bash scripts/ensure-tools.sh chromium nginx
	@echo "=== browser tests (headless Chromium, nginx) and the tests of every clip, on SQLite ==="
	MEDIASERVER_TEST_DATABASE_URL= $(PYTEST) tests/e2e tests/integration -m "e2e or every_clip"

clean:
	rm -rf $(VENV) .pytest_cache
