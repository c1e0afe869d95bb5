# Two commands matter: `make up` runs the platform, `make test` runs every test.
# Both install what they need (engine, images, venv, proxy, browser) on a fresh machine.
SHELL := /bin/bash
VENV := .venv
PYTEST_ARGS ?=

.PHONY: up down test images engine dev bench check

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

test: images dev
	@$(VENV)/bin/python -m pytest $(PYTEST_ARGS)

bench: images dev
	@$(VENV)/bin/python -m bench

check: dev
	@$(VENV)/bin/stellars-hub check
