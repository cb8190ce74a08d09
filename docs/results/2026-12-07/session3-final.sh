#!/usr/bin/env bash
# The ten-law bar on Dask and on local processes with the final pruning rule (on predictions),
# then the several-targets benchmark, from a checkout of the commit in session3-final.COMMIT;
# machine otherwise idle. Usage: docs/results/2026-12-07/session3-final.sh CHECKOUT
set -u
R=$(cd "$(dirname "$0")" && pwd)
cd "$1"
git rev-parse HEAD > $R/session3-final.COMMIT
PY="env PYTHONPATH=$PWD/src /work/main/.venv/bin/python"
step() { echo "$(date -u +%H:%M:%S) $1 load: $(cut -d' ' -f1-3 /proc/loadavg)" >> $R/session3-final.log; }
step "ten-law on Dask"
$PY benchmarks/feynman_recovery.py --cluster local --n-jobs 2 --out $R/feynman_recovery-dask-final.json > $R/feynman_recovery-dask-final.txt 2>&1
step "ten-law local"
$PY benchmarks/feynman_recovery.py --out $R/feynman_recovery-local-final.json > $R/feynman_recovery-local-final.txt 2>&1
step "several targets"
$PY benchmarks/several_targets.py --out $R/several_targets.json > $R/several_targets.txt 2>&1
step "done"
