#!/usr/bin/env bash
# The whole test suite. Uses SQLite when DATABASE_URL is unset, PostgreSQL when it is set.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
RUNBOARD_WITH_BROWSER=1 source scripts/bootstrap.sh
export SECRET_KEY="${SECRET_KEY:-runboard-test-only-secret}"
exec .venv/bin/pytest "$@"
