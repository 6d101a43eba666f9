#!/usr/bin/env bash
# Every benchmark at a tiny size, in seconds, so none rots: a bench that breaks fails CI. The
# figures printed here mean nothing; targets are judged at full size (see README, Benchmarks).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/bootstrap.sh
export DATABASE_URL="${BENCH_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/runboard_bench_tiny}"
export SECRET_KEY="${SECRET_KEY:-runboard-bench-only-secret}"
py=.venv/bin/python
$py -m bench.ingest --rows 2000 --steady 2000 --window 100 --definitions 2 --hours 1
$py -m bench.pages --instances 5000 --requests 2
$py -m bench.retention --days 1
$py -m bench.emulator --seconds 0.5 --clients 2
$py -m bench.rereads --runs-per-day 200 --polls 3
$py -m bench.lineage --dags 5 --batch 20
