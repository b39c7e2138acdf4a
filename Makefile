# Two commands do everything: `make run` and `make test`. See README.md.
SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

APP_PY := .venv/bin/python
RASA := .venv-rasa/bin/rasa
export PYTHONPATH := $(CURDIR)
export RASA_TELEMETRY_ENABLED := false
export TF_CPP_MIN_LOG_LEVEL := 3

KB_SOURCE ?= kb/data/reference_faq.yml
INDEX_STAMP := var/kb/.built-from-source
PG_URL := postgresql+psycopg://postgres@127.0.0.1:55432/postgres

.PHONY: help install index train db run test test-unit test-e2e validate pg-start pg-stop clean

help:
	@echo "make run    install, build the KB index, train if needed, migrate the CRM, start everything"
	@echo "make test   install and run the whole test suite"

install:
	@scripts/install_envs.sh

$(INDEX_STAMP): $(KB_SOURCE) $(wildcard kb/*.py) $(wildcard kb/data/*.json) | install
	@echo "==> [index] building the knowledge-base index from $(KB_SOURCE)"
	@$(APP_PY) -m kb build --source $(KB_SOURCE)
	@mkdir -p $(dir $@) && touch $@

index: install $(INDEX_STAMP)

train: install
	@scripts/train.sh >/dev/null

db: install
	@echo "==> [db] migrating the CRM store"
	@$(APP_PY) -m crm migrate
	@$(APP_PY) -m crm seed

validate: install
	@$(RASA) data validate --config config.yml --domain domain.yml --data data --fail-on-warnings 2>&1 | grep -vE "Warning|warn\(|^\s*$$" | tail -n 5

run: install index db
	@model=$$(scripts/train.sh) && scripts/services.sh "$$model"

pg-start:
	@crm/devtools/pg_server.sh start

pg-stop:
	@crm/devtools/pg_server.sh stop

test: install index
	@scripts/system_packages.sh
	@scripts/train.sh >/dev/null
	@$(MAKE) --no-print-directory pg-start
	@TEST_POSTGRES_URL=$(PG_URL) $(APP_PY) -m pytest tests -q -p no:cacheprovider

clean:
	rm -rf var/kb var/log models
