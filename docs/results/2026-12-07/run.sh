#!/usr/bin/env bash
# Issue 15's bars on all 99 Feynman laws, 60 s per fit, eurisko only (Operon takes no units:
# its figures are in docs/results/feynman-full), two runs at a time with one process each.
#   docs/results/2026-12-07/run.sh units 0      -> feynman-units-0/     (bar 1, noise 0)
#   docs/results/2026-12-07/run.sh units 0.01   -> feynman-units-0.01/  (bar 1, noise 0.01)
#   docs/results/2026-12-07/run.sh plain 0      -> feynman-plain-0/     (bar 2, no units)
# Resumable: the same command skips the runs already saved. Per-law table:
#   python docs/results/2026-12-06/feynman-units/summarize.py FOLDER > FOLDER/summary.md
set -u
kind=$1 noise=$2
cd "$(dirname "$0")/../../.."
out=docs/results/2026-12-07/feynman-$kind-$noise
mkdir -p "$out"
uptime >> "$out/load_before.txt"
git rev-parse HEAD >> "$out/COMMIT"
flag=""
[ "$kind" = units ] && flag="--units"
.venv/bin/eurisko bench feynman $flag --noise "$noise" --time-limit 60 --seeds 1 \
    --methods eurisko --jobs 2 --threads 1 --no-progress --out "$out" >> "$out/log.txt" 2>&1
