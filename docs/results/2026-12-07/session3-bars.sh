#!/usr/bin/env bash
# The bars measured in the third session of 2026-12-07, one after another on the 2-core box,
# from a checkout of the commit in session3-bars.COMMIT (a worktree, so that work on main
# does not change what runs). A helper engineer's processes ran at nice 10 at the same time
# (the kernel's autogroup scheduling off, so nice applies across sessions). Usage:
#   docs/results/2026-12-07/session3-bars.sh CHECKOUT   # outputs land next to this script
set -u
R=$(cd "$(dirname "$0")" && pwd)
cd "$1"
git rev-parse HEAD > $R/session3-bars.COMMIT
PY="env PYTHONPATH=$PWD/src /work/main/.venv/bin/python"
step() { echo "$(date -u +%H:%M:%S) $1 load: $(cut -d' ' -f1-3 /proc/loadavg)" >> $R/session3-bars.log; }
step "ten-law on Dask"
$PY benchmarks/feynman_recovery.py --cluster local --n-jobs 2 --out $R/feynman_recovery-dask-pruned.json > $R/feynman_recovery-dask-pruned.txt 2>&1
step "scaling"
$PY benchmarks/scaling.py > $R/scaling-nomalloc.txt 2>&1
step "nguyen 0.01"
$PY -m eurisko bench nguyen --noise 0.01 --jobs 2 --threads 1 --no-progress --out $R/nguyen-auto-3 > $R/nguyen-auto-3.txt 2>&1
step "throughput"
$PY benchmarks/throughput.py --repeats 5 > $R/throughput.txt 2>&1
step "vs operon"
$PY benchmarks/vs_operon.py --max-evals 500000 --out $R/vs_operon.json > $R/vs_operon.txt 2>&1
step "ten-law local"
$PY benchmarks/feynman_recovery.py --out $R/feynman_recovery-pruned.json > $R/feynman_recovery-pruned.txt 2>&1
step "done"
