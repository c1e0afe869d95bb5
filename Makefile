# Two commands matter: `make up` runs the platform, `make test` runs every test.
# Both install what they need (engine, images, venv, proxy, browser) on a fresh machine.
SHELL := /bin/bash
VENV := .venv
PYTEST_ARGS ?=
# parallel pytest workers: most of a test's time is waiting for a lab or a deadline, so three
# workers share two cores well; a module's tests (and every Kubernetes test) stay in one worker
TEST_WORKERS ?= 3

.PHONY: up down test test-ds images images-ds images-ds-background engine dev bench check lint

engine:
	@scripts/ensure-engine.sh

images: engine
	@scripts/build-images.sh

# the DS lab image (stellars-lab-ds:dev): minutes on a fresh machine
images-ds: engine
	@scripts/build-images.sh lab-ds

# the same, while the tests run: its tests come last and wait for it (tests/dsimage.py)
images-ds-background: images
	@scripts/build-images.sh --background lab-ds

dev:
	@scripts/setup-dev.sh

# the compose stack (Traefik with TLS + hub); up.sh builds or pulls the images it needs
up: engine
	@scripts/up.sh

down:
	@scripts/down.sh

# ruff (format and lint) and mypy on the package, the tests and the benchmarks: clean, or the tests do not run
lint: dev
	@scripts/lint.sh

test: images images-ds-background dev lint
	@$(VENV)/bin/python -m pytest -n $(TEST_WORKERS) --dist loadscope $(PYTEST_ARGS)

# only the DS lab image's tests (marked `ds`), e.g. after changing docker/lab-ds
test-ds: images images-ds dev lint
	@$(VENV)/bin/python -m pytest -m ds $(PYTEST_ARGS)

bench: images images-ds dev
	@$(VENV)/bin/python -m bench

check: dev
	@$(VENV)/bin/stellars-hub check
