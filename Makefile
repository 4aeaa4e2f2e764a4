# Stemcrate: `make run` to use it, `make test` to check it. Both install what they need first.
PYTHON ?= python3.11
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cat requirements.txt 2>/dev/null | cksum | cut -d' ' -f1)
# Debian packages the app needs at run time and for its tests.
SYSTEM_PACKAGES := ffmpeg libsndfile1 redis-server fluidsynth fluid-soundfont-gm chromium chromium-driver
# A machine without the local CPU wheel of torch can name the PyTorch CPU index here.
TORCH_INDEX ?=
PIP_EXTRA := $(if $(TORCH_INDEX),--extra-index-url $(TORCH_INDEX),)
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/stemcrate

.PHONY: run test test-postgres lint format install system-deps clean

run: install
	$(PY) manage.py migrate --noinput
	$(PY) manage.py ensure_admin
	$(PY) manage.py runstack

test: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(PY) manage.py ensure_redis
	$(PY) -m pytest

# The same suite against PostgreSQL (CI runs both).
test-postgres: install
	$(PY) manage.py ensure_redis
	DATABASE_URL=$(TEST_DATABASE_URL) $(PY) -m pytest

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

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
