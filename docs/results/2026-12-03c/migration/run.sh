#!/bin/sh
# Migration interval on the three laws that decide the recovery bar, seeds 1-6, 30 s per fit
# (not the bar's seed 0). Usage: sh run.sh "1 4 10 20"   (from the repository root's venv)
# The committed runs were made before migration_interval was an estimator parameter, from a
# worktree of 968fb73 (interval 1, i.e. every epoch = the old behaviour) and of d14b38e's
# search code with the interval read from an environment variable (4, 10, 20); same semantics
# as --set migration_interval=K. The "old8" runs counted epochs over both workers (a first
# try, every 8th report migrated, most often to the same worker), kept for the record.
set -e
ROOT=$(git rev-parse --show-toplevel)
for k in ${1:-1 4 10 20}; do
  for s in 1 2 3 4 5 6; do
    python "$ROOT/benchmarks/feynman_recovery.py" --problems I.10.7 I.40.1 I.29.16 --seed $s \
      --time-limit 30 --set migration_interval=$k --out "mig2_${k}_s$s.json" > "mig2_${k}_s$s.txt"
  done
done
python summarize.py
