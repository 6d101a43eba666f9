#!/usr/bin/env bash
# The whole test suite. Uses SQLite when DATABASE_URL is unset, PostgreSQL when it is set.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
RUNBOARD_WITH_BROWSER=1 source scripts/bootstrap.sh
export SECRET_KEY="${SECRET_KEY:-runboard-test-only-secret}"
# Celery traffic of this run only: a task left unacknowledged by an earlier run (the test
# that kills a worker leaves one) must not reach this run's workers through a shared Redis.
export RUNBOARD_REDIS_PREFIX="${RUNBOARD_REDIS_PREFIX:-test-$(date +%s)-$$:}"
exec .venv/bin/pytest "$@"
