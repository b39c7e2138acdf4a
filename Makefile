# Two commands do everything: `make run` and `make test`. See README.md.
SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

APP_PY := .venv/bin/python
RASA := .venv-rasa/bin/rasa
export PYTHONPATH := $(CURDIR)
export RASA_TELEMETRY_ENABLED := false
export TF_CPP_MIN_LOG_LEVEL := 3

PG_PORT ?= 55432
PG_URL := postgresql+psycopg://postgres@127.0.0.1:$(PG_PORT)/postgres

.PHONY: help install index train db run run-cluster redis-start redis-stop test gates test-unit test-e2e validate pg-start pg-stop clean

help:
	@echo "make run    install, build the KB index, train if needed, migrate the CRM, start everything"
	@echo "make test   install and run the whole test suite"
	@echo "make run-cluster   the same behind HAProxy with 2 gateways, 2 Rasa, 2 action servers, PostgreSQL, Redis"

install:
	@scripts/install_envs.sh

index: db
	@scripts/build_index.sh

train: install
	@scripts/train.sh >/dev/null

db: install
	@echo "==> [db] migrating the CRM store"
	@$(APP_PY) -m crm migrate
	@$(APP_PY) -m crm seed --no-users | tail -n 1
	@$(APP_PY) -m worker import-if-empty

gates: install
	@scripts/gates.sh

validate: install
	@$(RASA) data validate --config config.yml --domain domain.yml --data data --fail-on-warnings 2>&1 | grep -vE "Warning|warn\(|^\s*$$" | tail -n 5

run: install index
	@model=$$(scripts/train.sh) && $(APP_PY) -m gateway.console.devusers && scripts/services.sh "$$model"

# The scale-out topology on loopback (docs/reliability.md): PostgreSQL, Redis, 2 gateways, 2 Rasa,
# 2 action servers, the KB worker, HAProxy in front; one command.
run-cluster: install index
	@scripts/system_packages.sh
	@model=$$(scripts/train.sh) && scripts/cluster.sh "$$model"

redis-start:
	@scripts/redis_server.sh start >/dev/null

redis-stop:
	@scripts/redis_server.sh stop

pg-start:
	@PG_PORT=$(PG_PORT) crm/devtools/pg_server.sh start >/dev/null

pg-stop:
	@PG_PORT=$(PG_PORT) crm/devtools/pg_server.sh stop

test: install index
	@scripts/gates.sh
	@scripts/system_packages.sh
	@scripts/train.sh >/dev/null
	@$(MAKE) --no-print-directory pg-start
	@TEST_POSTGRES_URL=$(PG_URL) $(APP_PY) -m pytest tests -q -p no:cacheprovider && rc=0 || rc=$$?; \
		$(MAKE) --no-print-directory pg-stop >/dev/null || true; exit $$rc

clean:
	rm -rf var/kb var/log models
