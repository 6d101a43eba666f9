#!/usr/bin/env bash
# Static checks CI runs beside the tests.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/bootstrap.sh
export SECRET_KEY="${SECRET_KEY:-runboard-lint-only-secret}"
.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/mypy dashboard instances
.venv/bin/lint-imports --no-cache
.venv/bin/hadolint Dockerfile
.venv/bin/python manage.py check
.venv/bin/python manage.py makemigrations --check --dry-run
