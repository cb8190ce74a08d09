#!/usr/bin/env bash
# The Feynman suite with units (issue 15, bar 1): 99 laws, noise 0 (then 0.01), 60 s per fit,
# eurisko only (Operon takes no units: its figures are in docs/results/feynman-full), two runs
# at a time with one process each. Resumable: the same command skips the runs already saved.
set -u
cd "$(dirname "$0")/../../../.."
uptime > docs/results/2026-12-06/feynman-units/load_before.txt
git rev-parse HEAD > docs/results/2026-12-06/feynman-units/COMMIT
.venv/bin/eurisko bench feynman --units --noise "${NOISE:-0}" --time-limit 60 --seeds 1 \
    --methods eurisko --jobs 2 --threads 1 --no-progress \
    --out docs/results/2026-12-06/feynman-units >> docs/results/2026-12-06/feynman-units/log.txt 2>&1
