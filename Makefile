# make run   - install what is missing, start Redis if needed, migrate, scan, two workers and the web server
# make test  - the same set-up, then the whole test suite
VENV ?= .venv
PYTHON ?= python3
export VENV

.PHONY: run test setup tools clean

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

test: setup
	bash scripts/ensure-tools.sh chromium
	$(VENV)/bin/python -m pytest $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache
