"""A/B on the laws the 2026-12-07 run without units lost against 2026-12-03: does handing the
walk's best inexact formulas to the plain search (as guesses in every island) cost them?

    python docs/results/2026-12-07/walk-seeds/run.py > docs/results/2026-12-07/walk-seeds/out.txt

Each law (Feynman suite, seed 0, noise 0, 60 s, one process, two fits side by side) is fitted
three ways: as fit does now, with the walk handing on only exact formulas, and with
decompose=False. Exact recovery as `eurisko bench` judges it.

Run at 058ab87 (out.txt): with the seeds 2 of 8 laws, without 4, decompose=False 4. The
seeds were then removed (and `_decompose.WALK_SEEDS` with them), so "now" and "exact-only"
are the same fit after 058ab87.
"""

from __future__ import annotations

import multiprocessing as mp
import sys

LAWS = sys.argv[1:] or ["I.15.10", "I.30.3", "I.37.4", "I.40.1", "I.6.2", "I.48.2"]
VARIANTS = ("now", "exact-only", "decompose=False")


def one(task):
    law, variant = task
    from eurisko import _decompose
    from eurisko.bench import load_suite
    from eurisko.bench.judge import judge
    from eurisko.bench.methods import fit_eurisko

    if variant == "exact-only":
        _decompose.WALK_SEEDS = 0
    p = load_suite("feynman:" + law)[law]
    split = p.split(seed=0, noise=0.0)
    extra = {"decompose": False} if variant == "decompose=False" else {}
    fit = fit_eurisko(split.X_train, split.y_train, time_limit=60, seed=0, threads=1, **extra)
    rec = judge(fit, p, split, check_timeout=30, positive=False)
    return law, variant, rec["exact"], round(fit.seconds, 1), fit.extra.get("found_by"), \
        fit.equation[:70]


if __name__ == "__main__":
    tasks = [(law, v) for law in LAWS for v in VARIANTS]
    with mp.get_context("spawn").Pool(2, maxtasksperchild=1) as pool:
        for row in pool.imap(one, tasks):
            print(" | ".join(str(x) for x in row), flush=True)
