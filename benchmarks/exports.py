"""Exports bar: every export agrees with ``predict`` to 1e-6 relative, on random inputs, for
every formula on the fronts of the ten named Feynman laws.

For each law: 1000 rows sampled in its published ranges (seed 0), one short
``SymbolicRegressor(time_limit=10, n_jobs=1)`` fit, then every row of the Pareto front exported
(`numpy()` called and its ``source`` run as a file, `c_code()` compiled with ``cc``, `pytorch()`
in float64, `jax()` with x64 on) and evaluated on 2000 fresh random rows in the ranges (seed 1),
against ``model.predict(X, i)``. Printed per law and export: the worst relative error
``|export - predict| / |predict|`` over the finite predictions, and the rows where one is NaN or
infinite and the other is not. An export that cannot run here (no ``cc``, torch or jax not
installed) is reported as skipped.

Usage::

    python benchmarks/exports.py                              # the bar, ~3 minutes
    python benchmarks/exports.py --time-limit 2 --problems I.6.2a I.12.11   # a smoke run
"""

from __future__ import annotations

import argparse
import ctypes
import importlib.util
import json
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from eurisko import SymbolicRegressor
from eurisko.bench import load_problem

BAR = 1e-6
EXPORTS = ("numpy", "numpy_file", "c", "torch", "jax")
HERE = Path(__file__).resolve().parent


def ten_laws() -> tuple[str, ...]:
    spec = importlib.util.spec_from_file_location("feynman_recovery",
                                                  HERE / "feynman_recovery.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return tuple(module.PROBLEMS)


def compare(got: np.ndarray, want: np.ndarray) -> tuple[float, int]:
    """Worst relative error over the finite ``want``, and the rows whose non-finiteness
    differs (NaN against a number, inf against NaN...)."""
    got = np.asarray(got, dtype=np.float64)
    fin = np.isfinite(want)
    with np.errstate(all="ignore"):
        rel = np.abs(got[fin] - want[fin]) / np.abs(want[fin])
        rel = np.where(want[fin] == 0, np.abs(got[fin]), rel)
    bad = int((np.isnan(got) != np.isnan(want)).sum()
              + (~fin & ~np.isnan(want) & (got != want)).sum())
    bad += int((~np.isfinite(rel)).sum())
    worst = float(np.max(rel[np.isfinite(rel)], initial=0.0))
    return worst, bad


def exporters(model: SymbolicRegressor, n: int, tmp: Path) -> dict[str, Callable | str]:
    """Per export: a function ``(i, X) -> y`` for front row ``i``, or why it is skipped."""
    out: dict[str, Callable | str] = {}
    out["numpy"] = lambda i, X: model.numpy(i)(X)

    def from_file(i, X):
        namespace: dict = {}
        exec(compile(model.numpy(i).source, "formula.py", "exec"), namespace)
        return namespace["f"](X)

    out["numpy_file"] = from_file
    cc = shutil.which("cc") or shutil.which("gcc")
    if cc is None:
        out["c"] = "skipped: no C compiler"
    else:
        src = "\n".join(model.c_code(i, function_name=f"f{i}") for i in range(n))
        (tmp / "front.c").write_text(src)
        subprocess.run([cc, "-std=c99", "-O2", "-shared", "-fPIC", "-o", str(tmp / "front.so"),
                        str(tmp / "front.c"), "-lm"], check=True)
        lib = ctypes.CDLL(str(tmp / "front.so"))

        def c_rows(i, X):
            X = np.ascontiguousarray(X, dtype=np.float64)
            y = np.empty(len(X))
            getattr(lib, f"f{i}_rows")(X.ctypes.data_as(ctypes.c_void_p), ctypes.c_long(len(X)),
                                        y.ctypes.data_as(ctypes.c_void_p))
            return y

        out["c"] = c_rows
    try:
        import torch

        out["torch"] = lambda i, X: model.pytorch(i)(torch.tensor(X)).detach().numpy()
    except ImportError:
        out["torch"] = "skipped: torch not installed (pip install 'eurisko[torch]')"
    try:
        import jax

        jax.config.update("jax_enable_x64", True)

        def jax_rows(i, X):
            fn, params = model.jax(i)
            return np.asarray(fn(X, params))

        out["jax"] = jax_rows
    except ImportError:
        out["jax"] = "skipped: jax not installed (pip install 'eurisko[jax]')"
    return out


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--time-limit", type=float, default=10.0, help="seconds per fit (10)")
    ap.add_argument("--problems", nargs="+", help="Feynman names (default: the ten laws)")
    ap.add_argument("--rows", type=int, default=2000, help="random rows per check (2000)")
    ap.add_argument("--out", help="JSON file for the per-law results")
    args = ap.parse_args(argv)
    names = args.problems or list(ten_laws())

    results = []
    worst = dict.fromkeys(EXPORTS, 0.0)
    mismatches = dict.fromkeys(EXPORTS, 0)
    skipped: dict[str, str] = {}
    n_formulas = 0
    print(f"{'law':<10} {'formulas':>8}  " + "  ".join(f"{e:>12}" for e in EXPORTS))
    for name in names:
        problem = load_problem(name)
        X, y = problem.sample(1000, seed=0)
        model = SymbolicRegressor(time_limit=args.time_limit, n_jobs=1,
                                  random_state=0).fit(X, y)
        rng = np.random.default_rng(1)
        Xdf = pd.DataFrame({v: rng.uniform(*problem.ranges[v], args.rows)
                            for v in problem.variables})
        Xr = Xdf.to_numpy()
        n = len(model.programs_)
        n_formulas += n
        row = {"law": name, "formulas": n, "worst": {}, "mismatched_rows": {}}
        with tempfile.TemporaryDirectory() as tmp:
            fns = exporters(model, n, Path(tmp))
            for e in EXPORTS:
                fn = fns[e]
                if isinstance(fn, str):
                    skipped[e] = fn
                    continue
                w, bad = 0.0, 0
                for i in range(n):
                    with np.errstate(all="ignore"):
                        want = model.predict(Xdf, i)
                    wi, bi = compare(fn(i, Xr), want)
                    w, bad = max(w, wi), bad + bi
                row["worst"][e], row["mismatched_rows"][e] = w, bad
                worst[e] = max(worst[e], w)
                mismatches[e] += bad
        results.append(row)
        cells = [f"{row['worst'][e]:12.2e}" if e in row["worst"] else f"{'skipped':>12}"
                 for e in EXPORTS]
        print(f"{name:<10} {n:>8}  " + "  ".join(cells), flush=True)

    print()
    print(f"{n_formulas} formulas on {len(names)} fronts, {args.rows} random rows each; "
          f"bar: worst relative error <= {BAR:g} and no NaN/inf mismatch")
    ok = True
    for e in EXPORTS:
        if e in skipped:
            print(f"  {e:<11} {skipped[e]}")
            ok = False
            continue
        passed = worst[e] <= BAR and mismatches[e] == 0
        ok &= passed
        print(f"  {e:<11} worst {worst[e]:.2e} ({worst[e] / BAR:.2g} x the bar), "
              f"{mismatches[e]} mismatched rows: {'met' if passed else 'NOT met'}")
    if args.out:
        Path(args.out).write_text(json.dumps({"results": results, "worst": worst,
                                              "mismatched_rows": mismatches,
                                              "skipped": skipped}, indent=1) + "\n")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
