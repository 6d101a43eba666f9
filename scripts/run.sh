#!/usr/bin/env bash
# The live demo: web server, Celery worker and beat, and the vendor emulator they poll, on
# embedded defaults. Ctrl-C stops all.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/bootstrap.sh
export DEBUG="${DEBUG:-1}"
.venv/bin/python manage.py migrate --no-input -v0
export RUNBOARD_EMULATOR_PORT="${RUNBOARD_EMULATOR_PORT:-9000}"
.venv/bin/python manage.py demo_setup --emulator-url "http://127.0.0.1:$RUNBOARD_EMULATOR_PORT"
echo "Runboard: http://127.0.0.1:${RUNBOARD_PORT:-8000}/"
exec .venv/bin/honcho --no-prefix start -f Procfile
