"""Scale-out bar: evaluations per second with 1 and 2 workers, local processes and Dask.

Four configurations in one run, on the same data and settings: local worker processes with 1
and 2 workers, and a Dask ``LocalCluster`` (single-threaded worker processes) with 1 and 2.
Each runs the search (8 islands per worker, as ``SymbolicRegressor`` does) for ``--seconds``
after a warm-up fit (workers started, kernels compiled), and reports evaluations per second,
the driver's busy fraction (share of the loop the driver was not waiting for a reply) and
the mean size of an epoch's reply. Targets: Dask@2 / local@2 >= 0.9, Dask@2 / Dask@1 >= 1.7.

One driver feeds about ``1 / busy`` times as many workers as it has now before it becomes the
bottleneck (docs/benchmarks.md#scale-out): the busy fraction and the bytes per reply are the
inputs of that model.

Usage::

    python benchmarks/scaling.py                    # 4 x 30 s, about 3 minutes in all
    python benchmarks/scaling.py --seconds 5        # a smoke run
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from collections.abc import Sequence

import numpy as np

from eurisko.evaluate.base import Dataset
from eurisko.expr.operators import DEFAULT_OPERATORS
from eurisko.search.engine import run_search
from eurisko.search.executors import LocalProcesses
from eurisko.search.island import SearchConfig


def _data(rows: int, seed: int) -> Dataset:
    """A Feynman-like law of four columns (I.12.11-style: a product, a sine and a ratio)."""
    rng = np.random.default_rng(seed)
    X = rng.uniform(1, 5, (rows, 4))
    y = X[:, 0] * (X[:, 1] + X[:, 2] * np.sin(X[:, 3])) / X[:, 2]
    return Dataset.from_arrays(X, y, np.ones(rows))


def _measure(executor_of, n_workers: int, data: Dataset, seconds: float, seed: int) -> dict:
    cfg = SearchConfig(operators=DEFAULT_OPERATORS, n_islands=8 * n_workers)
    run_search(data, cfg, seed=seed, executor=executor_of(), max_evals=1)  # warm-up
    t0 = time.perf_counter()
    state = run_search(data, cfg, seed=seed, executor=executor_of(), time_limit=seconds)
    wall = time.perf_counter() - t0
    return {"evals_per_s": state.n_evals / wall, "n_evals": state.n_evals, "wall": wall,
            "driver_busy": state.stats["driver_busy"], "reply_bytes": state.stats["reply_bytes"],
            "replies": state.stats["replies"]}


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seconds", type=float, default=30.0, help="search time per config (30)")
    ap.add_argument("--rows", type=int, default=1000, help="rows of data (1000)")
    ap.add_argument("--seed", type=int, default=0, help="data and search seed (0)")
    args = ap.parse_args(argv)
    try:
        import distributed
    except ImportError:
        print("needs Dask: pip install 'eurisko[dask]'", file=sys.stderr)
        return 2
    from eurisko.search.dask_executor import DaskExecutor, local_cluster

    data = _data(args.rows, args.seed)
    print(f"scaling: {args.seconds:g} s per configuration, {args.rows} rows, "
          f"{os.cpu_count()} cores, Python {platform.python_version()}", flush=True)
    results: dict[str, dict] = {}
    for n in (1, 2):
        results[f"local@{n}"] = _measure(lambda n=n: LocalProcesses(n), n, data, args.seconds,
                                         args.seed)
        print(f"  local@{n}: {results[f'local@{n}']['evals_per_s']:.0f} evals/s", flush=True)
        cluster = local_cluster(n)  # what SymbolicRegressor(cluster="local") starts
        client = distributed.Client(cluster, set_as_default=False)
        client.wait_for_workers(n)
        try:
            results[f"dask@{n}"] = _measure(lambda c=client: DaskExecutor(c), n, data,
                                            args.seconds, args.seed)
        finally:
            client.close()
            cluster.close()
        print(f"  dask@{n}: {results[f'dask@{n}']['evals_per_s']:.0f} evals/s", flush=True)

    print()
    print(f"{'config':<8} {'evals/s':>10} {'n_evals':>10} {'busy':>6} {'bytes/reply':>12} "
          f"{'replies':>8}")
    for name, r in results.items():
        print(f"{name:<8} {r['evals_per_s']:>10.0f} {r['n_evals']:>10d} "
              f"{r['driver_busy']:>6.3f} {r['reply_bytes']:>12.0f} {r['replies']:>8d}")
    eps = {k: r["evals_per_s"] for k, r in results.items()}
    print()
    print(f"dask@2 / local@2 = {eps['dask@2'] / eps['local@2']:.2f}  (target >= 0.9)")
    print(f"dask@2 / dask@1  = {eps['dask@2'] / eps['dask@1']:.2f}  (target >= 1.7)")
    print(f"local@2 / local@1 = {eps['local@2'] / eps['local@1']:.2f}  (for comparison)")
    busy = results["dask@2"]["driver_busy"]
    print(f"one driver feeds about {2 / max(busy, 1e-9):.0f} Dask workers at this rate "
          f"(2 / busy fraction at 2 workers)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
