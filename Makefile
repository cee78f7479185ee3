# EM: the two commands a newcomer needs.
#
#   make run     the portal at http://127.0.0.1:8000 (demo / demo), on SQLite, with no services
#   make test    ruff, mypy, then pytest on SQLite and on PostgreSQL + Redis (exactly what CI runs)
#
# The work is done by the scripts in deploy/dev/, which this file only names; `make help` lists the rest.

SHELL := /bin/bash
.DEFAULT_GOAL := help

HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: help run test install install-dev portal lint typecheck imports test-sqlite test-postgres services chromium clean \
	clean-data

help: ## list the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-z-]+:.*## / {printf "  make %-14s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

run: ## EM at http://127.0.0.1:8000/ (migrate, collectstatic, demo user demo/demo); PORT=... moves it
	@HOST=$(HOST) PORT=$(PORT) bash deploy/dev/run.sh

test: ## the whole suite: install, ruff, mypy, pytest on SQLite, then on PostgreSQL + Redis
	@bash deploy/dev/test.sh

install: ## .venv with the server (pip install -e '.[server]'), if pyproject.toml changed
	@bash deploy/dev/venv.sh server

install-dev: ## .venv with the server and the dev tools ('.[server,dev]')
	@bash deploy/dev/venv.sh server,dev

portal: ## build the web portal (npm ci when package-lock.json changed, then npm run build)
	@bash deploy/dev/frontend.sh

lint: install-dev ## ruff check .
	@bash deploy/dev/test.sh ruff

typecheck: install-dev ## mypy .
	@bash deploy/dev/test.sh mypy

imports: install-dev ## lint-imports: layers import downwards only (contracts in pyproject.toml)
	@bash deploy/dev/test.sh imports

test-sqlite: install-dev ## pytest pass 1 only (SQLite, no services); PYTEST_ARGS="-k ..." narrows it
	@bash deploy/dev/test.sh sqlite

test-postgres: install-dev ## pytest pass 2 only (PostgreSQL + Redis, started when needed)
	@bash deploy/dev/test.sh services postgres

services: ## make sure PostgreSQL and Redis are up for pass 2
	@bash deploy/dev/services.sh

chromium: ## install Debian's Chromium for browser tests (root) and print its path
	@bash deploy/dev/chromium.sh

clean: ## remove caches (keeps .venv and .em-data)
	rm -rf .pytest_cache .mypy_cache .ruff_cache
	find . -path ./.venv -prune -o -name __pycache__ -type d -exec rm -rf {} +

clean-data: ## delete the embedded data in .em-data (SQLite database, files): the demo starts afresh
	rm -rf .em-data
