"""Kill test: a fit on 2 workers loses one to SIGKILL half-way and still finishes.

For local processes and for Dask (a ``LocalCluster`` of 2 worker processes): one
``SymbolicRegressor`` fit with ``run_dir`` (checkpoints every second); at half its time limit
one worker process is killed with SIGKILL. The fit must finish by its own rule, say what
happened in ``faults_``, and end with a front at least as good as the last checkpoint written
before the kill (for every complexity there, a formula as simple and at least as accurate).

Usage::

    python benchmarks/kill_worker.py                     # both executors, 20 s fits
    python benchmarks/kill_worker.py --executors dask --time-limit 10
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import signal
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np


def _front(run_dir: Path) -> list[tuple[int, float]]:
    info = json.loads((run_dir / "state.json").read_text())
    return [(int(h["complexity"]), float(h["loss"])) for h in info["hof"]]


def _pids(executor: str) -> list[int]:
    if executor == "dask":
        from eurisko.search.dask_executor import get_client

        client, _ = get_client("local", 2)
        return sorted(client.run(os.getpid).values())
    return sorted(p.pid for p in mp.active_children() if "resource_tracker" not in p.name)


def run(executor: str, time_limit: float, seed: int) -> bool:
    from eurisko import SymbolicRegressor

    rng = np.random.default_rng(seed)
    X = rng.uniform(1, 5, (1000, 3))
    y = X[:, 0] * np.exp(-X[:, 1] / X[:, 2]) + np.sqrt(X[:, 2])
    run_dir = Path(tempfile.mkdtemp(prefix=f"kill-{executor}-"))
    cluster = "local" if executor == "dask" else None
    model = SymbolicRegressor(n_jobs=2, cluster=cluster, time_limit=time_limit,
                              random_state=seed, run_dir=run_dir, checkpoint_every=1.0,
                              decompose=False, exact_fit_tol=None)
    before: dict = {}

    def kill() -> None:
        before["front"] = _front(run_dir) if (run_dir / "state.json").exists() else []
        pids = _pids(executor)
        before["pid"] = pids[0]
        os.kill(pids[0], signal.SIGKILL)
        before["at"] = time.monotonic() - t0

    if executor == "dask":
        from eurisko.search.dask_executor import get_client

        get_client("local", 2)  # started before the clock, as the fit would find it
    t0 = time.monotonic()
    timer = threading.Timer(time_limit / 2, kill)
    timer.start()
    model.fit(X, y)
    timer.join()
    after = _front(run_dir)
    ok_front = all(any(c2 <= c and l2 <= loss * (1 + 1e-12) for c2, l2 in after)
                   for c, loss in before["front"])
    ok = bool(model.faults_) and model.stop_reason_ == "time limit" and ok_front \
        and bool(before["front"])
    print(f"{executor}: killed pid {before['pid']} at {before['at']:.1f} s; fit ended by "
          f"'{model.stop_reason_}' after {model.elapsed_:.1f} s, {model.n_evals_} evals; "
          f"{len(model.faults_)} group(s) reopened {[f['islands'] for f in model.faults_]}; "
          f"front at the last checkpoint before the kill: {len(before['front'])} entries, "
          f"best {min((loss for _, loss in before['front']), default=float('nan')):.3g}; "
          f"final best {min(loss for _, loss in after):.3g}; "
          f"{'PASS' if ok else 'FAIL'}", flush=True)
    return ok


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--executors", nargs="+", default=["local", "dask"],
                    choices=["local", "dask"], help="which to test (both)")
    ap.add_argument("--time-limit", type=float, default=20.0, help="seconds per fit (20)")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    results = [run(e, args.time_limit, args.seed) for e in args.executors]
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
