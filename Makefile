# Two commands matter: `make up` runs the platform, `make test` runs every test.
# Both install what they need (engine, images, venv, proxy, browser) on a fresh machine.
SHELL := /bin/bash
VENV := .venv
PYTEST_ARGS ?=
# parallel pytest workers: most of a test's time is waiting for a lab or a deadline, so three
# workers share two cores well; a module's tests (and every Kubernetes test) stay in one worker
TEST_WORKERS ?= 3

.PHONY: up down test images engine dev bench check lint

engine:
	@scripts/ensure-engine.sh

images: engine
	@scripts/build-images.sh

dev:
	@scripts/setup-dev.sh

# the compose stack (Traefik with TLS + hub); up.sh builds or pulls the images it needs
up: engine
	@scripts/up.sh

down:
	@scripts/down.sh

# ruff (format and lint) and mypy on the package: clean, or the tests do not run
lint: dev
	@$(VENV)/bin/ruff format --check src
	@$(VENV)/bin/ruff check src
	@$(VENV)/bin/mypy src/stellars_hub

test: images dev lint
	@$(VENV)/bin/python -m pytest -n $(TEST_WORKERS) --dist loadgroup -m "not alone" $(PYTEST_ARGS)
	@$(VENV)/bin/python -m pytest -m alone $(PYTEST_ARGS) || [ $$? -eq 5 ]  # 5: none selected

bench: images dev
	@$(VENV)/bin/python -m bench

check: dev
	@$(VENV)/bin/stellars-hub check
