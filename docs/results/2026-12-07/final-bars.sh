#!/usr/bin/env bash
# The bars measured at the end of 2026-12-07 on one commit (COMMIT file), one after another on
# the quiet 2-core box. Each output lands next to this script.
set -u
cd "$(dirname "$0")/../../.."
R=docs/results/2026-12-07
git rev-parse HEAD > $R/final-bars.COMMIT
uptime > $R/final-bars.load_before.txt
PY=.venv/bin/python
$PY benchmarks/feynman_recovery.py --out $R/feynman_recovery-final.json > $R/feynman_recovery-final.txt 2>&1
$PY benchmarks/feynman_recovery.py --cluster local --n-jobs 2 --out $R/feynman_recovery-dask.json > $R/feynman_recovery-dask.txt 2>&1
$PY benchmarks/scaling.py > $R/scaling.txt 2>&1
$PY benchmarks/kill_worker.py > $R/kill_worker.txt 2>&1
$PY benchmarks/exports.py --out $R/exports.json > $R/exports.txt 2>&1
