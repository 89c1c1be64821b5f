# make run   - install what is missing, start Redis if needed, migrate, scan, two workers and the web server
# make test  - the same set-up, then the whole test suite twice: on SQLite, then on PostgreSQL
#              (make test-sqlite / make test-postgres run one pass; PYTEST_ARGS are passed to pytest)
VENV ?= .venv
PYTHON ?= python3
export VENV
#: The PostgreSQL server of the second pass and a database on it that exists; the tests create and
#: drop their own databases there (tests/databases.py).
TEST_POSTGRES_URL ?= postgresql+psycopg://postgres@127.0.0.1/test

.PHONY: run test test-sqlite test-postgres setup tools clean

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

test: test-sqlite test-postgres

test-sqlite: setup
	bash scripts/ensure-tools.sh chromium nginx
	@echo "=== test pass: SQLite (a database file per test) ==="
	MEDIASERVER_TEST_DATABASE_URL= $(VENV)/bin/python -m pytest $(PYTEST_ARGS)

test-postgres: setup
	bash scripts/ensure-tools.sh chromium nginx
	@echo "=== test pass: PostgreSQL at $(TEST_POSTGRES_URL) (a database per test) ==="
	MEDIASERVER_TEST_DATABASE_URL='$(TEST_POSTGRES_URL)' $(VENV)/bin/python -m pytest $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache
