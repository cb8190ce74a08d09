"""Throughput of the eurisko evaluation kernels against Operon's interpreter, in the same run.

Builds one random batch of postfix programs, evaluates it with eurisko's numba backend (the
losses path, which never stores predictions, and the predictions path) and with pyoperon's
``EvaluateTrees`` on the same trees and data, and prints node evaluations per second
(``sum(program lengths) * rows / seconds``, best of ``--repeats``) and the ratios.

Operon is a single-precision build (it computes in float32), so the like-for-like comparison is
eurisko with ``--dtype float32``; ``--dtype both`` (default) also reports eurisko in float64.

Two variants run by default: ``arith`` (operators + - * /) and ``transc`` (the same with about
15% of the nodes drawn from exp, sin, log).

Usage::

    python benchmarks/throughput.py                       # 2000 programs, <= 30 nodes, 10k rows
    python benchmarks/throughput.py --programs 500 --rows 2000 --repeats 3 --variants arith
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np

from eurisko.evaluate.base import Dataset
from eurisko.expr.operators import CONST, VAR, op_code
from eurisko.expr.program import ProgramBatch

ARITH = ("add", "sub", "mul", "div")
TRANSC = ("exp", "sin", "log")


# ----------------------------------------------------------------------------------------------
# random programs


def random_program(rng: np.random.Generator, size: int, n_features: int, transc_frac: float
                   ) -> tuple[list[int], list[int], list[float]]:
    """Postfix codes/args/consts of a random tree with exactly ``size`` nodes (odd if no unary)."""
    codes: list[int] = []
    args: list[int] = []
    consts: list[float] = []
    bin_codes = [op_code(o) for o in ARITH]
    un_codes = [op_code(o) for o in TRANSC]

    def build(n: int) -> None:
        if n == 1:
            if rng.random() < 0.6:
                codes.append(VAR)
                args.append(int(rng.integers(n_features)))
            else:
                codes.append(CONST)
                args.append(len(consts))
                consts.append(float(rng.uniform(-2.0, 2.0)))
            return
        # a share u of unary internal nodes makes about u / (2 - u) of all nodes unary
        # (a bit more, as size-2 subtrees shrink to leaves): 1.5 f gives about f
        u = 1.5 * transc_frac
        use_unary = transc_frac > 0 and rng.random() < u
        if use_unary:
            build(n - 1)
            codes.append(int(rng.choice(un_codes)))
            args.append(0)
        else:
            if n == 2:  # no binary tree has 2 nodes: make a leaf
                build(1)
                return
            left = int(rng.integers(1, n - 1))
            build(left)
            build(n - 1 - left)
            codes.append(int(rng.choice(bin_codes)))
            args.append(0)

    build(size)
    return codes, args, consts


def random_batch(rng: np.random.Generator, n_programs: int, max_size: int, n_features: int,
                 transc_frac: float) -> ProgramBatch:
    codes, args, consts = [], [], []
    node_off, const_off = [0], [0]
    for _ in range(n_programs):
        size = int(rng.integers(1, max_size + 1))
        c, a, k = random_program(rng, size, n_features, transc_frac)
        codes += c
        args += a
        consts += k
        node_off.append(len(codes))
        const_off.append(len(consts))
    return ProgramBatch(
        np.array(codes, np.int16), np.array(args, np.int32), np.array(node_off, np.int64),
        np.array(consts, np.float64), np.array(const_off, np.int64),
    )


# ----------------------------------------------------------------------------------------------
# Operon side


def to_operon(batch: ProgramBatch, op, var_hashes: list[int]) -> list:
    """The same trees as pyoperon Trees (Operon stores a node's first child last)."""
    types = {
        "add": op.NodeType.Add, "sub": op.NodeType.Sub, "mul": op.NodeType.Mul,
        "div": op.NodeType.Div, "exp": op.NodeType.Exp, "sin": op.NodeType.Sin,
        "log": op.NodeType.Log,
    }
    from eurisko.expr.operators import operator_of

    trees = []
    for i in range(batch.n_programs):
        p = batch.program(i)
        stack: list = []
        for code, arg in zip(p.codes.tolist(), p.args.tolist(), strict=True):
            if code == VAR:
                stack.append(("x", arg, ()))
            elif code == CONST:
                stack.append(("c", float(p.consts[arg]), ()))
            else:
                o = operator_of(code)
                kids = tuple(stack[len(stack) - o.arity:])
                del stack[len(stack) - o.arity:]
                stack.append((o.name, 0, kids))
        nodes: list = []

        def emit(t, nodes=nodes) -> None:
            kind, val, kids = t
            for k in reversed(kids):
                emit(k)
            if kind == "x":
                n = op.Node(op.NodeType.Variable)
                n.HashValue = var_hashes[val]
                n.Value = 1.0
            elif kind == "c":
                n = op.Node(op.NodeType.Constant)
                n.Value = val
            else:
                n = op.Node(types[kind])
            nodes.append(n)

        emit(stack[0])
        trees.append(op.Tree(nodes).UpdateNodes())
    return trees


# ----------------------------------------------------------------------------------------------


def make_backend(device: str, block_size: int | None, threads: int):
    """The eurisko backend for ``--device`` (a GPU backend plugs in here)."""
    if device == "cpu":
        from eurisko.evaluate.numba_backend import NumbaBackend

        return NumbaBackend(block_size=block_size, n_threads=threads)
    raise SystemExit(f"no eurisko backend for device {device!r} yet")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--programs", type=int, default=2000)
    ap.add_argument("--max-size", type=int, default=30)
    ap.add_argument("--rows", type=int, default=10_000)
    ap.add_argument("--features", type=int, default=5)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--dtype", choices=("float32", "float64", "both"), default="both")
    ap.add_argument("--device", choices=("cpu",), default="cpu",
                    help="eurisko backend device (only the numba CPU backend exists for now)")
    ap.add_argument("--variants", default="arith,transc",
                    help="comma list of: arith (+ - * /), transc (~15%% exp/sin/log nodes)")
    ap.add_argument("--block-size", type=int, default=None)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--no-operon", action="store_true", help="skip the Operon side")
    a = ap.parse_args(argv)

    import numba

    backend = make_backend(a.device, a.block_size, a.threads)
    try:
        if a.no_operon:
            raise ImportError("skipped")
        import pyoperon as op
    except ImportError as e:
        op = None
        print(f"pyoperon not available ({e}); eurisko numbers only", file=sys.stderr)

    dtypes = ["float32", "float64"] if a.dtype == "both" else [a.dtype]
    from eurisko.evaluate.numba_backend import kernel_module

    vm = kernel_module().VECTOR_MATH
    print(f"# {a.programs} programs of 1..{a.max_size} nodes, {a.rows} rows, {a.features} "
          f"features, {a.threads} threads; numba {numba.__version__}; vector math "
          f"{'libmvec' if vm else 'none (scalar libm)'}; best of {a.repeats}, round robin")
    print(f"# command: {' '.join([os.path.basename(sys.executable)] + sys.argv)}")
    rng = np.random.default_rng(a.seed)
    X = rng.uniform(0.5, 2.0, size=(a.rows, a.features))
    y = np.sin(X[:, 0]) * X[:, 1] + X[:, 2 % a.features] ** 2

    for variant in [v.strip() for v in a.variants.split(",") if v.strip()]:
        frac = {"arith": 0.0, "transc": 0.15}[variant]
        batch = random_batch(rng, a.programs, a.max_size, a.features, frac)
        node_evals = batch.n_nodes * a.rows
        tr = np.isin(batch.codes, [op_code(o) for o in TRANSC]).mean()
        print(f"\n## variant {variant}: {batch.n_nodes} nodes ({100 * tr:.1f}% exp/sin/log), "
              f"{node_evals / 1e9:.2f} G node-evaluations per pass")
        ds32 = Dataset.from_arrays(X, y, dtype=np.float32)
        runs: dict[str, object] = {}
        for dt in dtypes:
            data = ds32 if dt == "float32" else Dataset.from_arrays(X, y, dtype=np.float64)
            backend.losses(batch, data, True)  # JIT compile or cache load, warm caches
            backend.predict(batch, data)
            L = backend.losses(batch, data, True)
            out_e = np.empty((batch.n_programs, a.rows), dtype=dt)  # preallocated, as for Operon
            runs[f"eurisko losses {dt}"] = (
                lambda d=data, b=batch: backend.losses(b, d, True))
            runs[f"eurisko predict {dt}"] = (
                lambda d=data, o=out_e, b=batch: backend.predict(b, d, out=o))
            print(f"  (eurisko {dt}: {100 * np.mean(~np.isfinite(L.loss)):.1f}% of programs "
                  "non-finite; the losses path stops those at their first bad block)")
        if op is not None:
            # Operon's Dataset may view the numpy buffer without owning it: keep it alive
            X_op = np.asfortranarray(X.astype(np.float32))
            ods = op.Dataset(X_op)
            hashes = [v.Hash for v in sorted(ods.Variables, key=lambda v: v.Index)]
            trees = to_operon(batch, op, hashes)
            rng_all = op.Range(0, a.rows)
            out = np.zeros((len(trees), a.rows), dtype=np.float32)
            op.EvaluateTrees(trees, ods, rng_all, out, a.threads)  # warm up
            def operon_run(nthread, trees=trees, ods=ods, rng_all=rng_all, out=out):
                return lambda: op.EvaluateTrees(trees, ods, rng_all, out, nthread)

            runs[f"operon EvaluateTrees float32, {a.threads} thr"] = operon_run(a.threads)
            if a.threads > 1:  # Operon's own threading does not always pay: time 1 thread too
                runs["operon EvaluateTrees float32, 1 thr"] = operon_run(1)
            # sanity: the same trees give the same numbers
            ours = backend.predict(batch, ds32)
            idx = np.linspace(0, batch.n_programs - 1, min(50, batch.n_programs)).astype(int)
            fin = np.isfinite(out[idx]) & np.isfinite(ours[idx])
            fin &= np.abs(out[idx]) < 1e4
            close = np.isclose(ours[idx][fin], out[idx][fin], rtol=1e-3, atol=1e-3).mean()
            agree = np.mean(np.isfinite(out[idx]) == np.isfinite(ours[idx]))
            print(f"  sanity vs Operon on {len(idx)} programs: {100 * close:.2f}% of finite "
                  f"values |v|<1e4 agree to 1e-3; finite/non-finite pattern agrees on "
                  f"{100 * agree:.2f}% of values")
        # round robin, so that a noisy neighbour slows every contender alike; keep the best
        best = dict.fromkeys(runs, np.inf)
        for _ in range(a.repeats):
            for k, fn in runs.items():
                t0 = time.perf_counter()
                fn()
                best[k] = min(best[k], time.perf_counter() - t0)
        res = {k: node_evals / t for k, t in best.items()}
        width = max(len(k) for k in res)
        peer = max((v for k, v in res.items() if k.startswith("operon")), default=None)
        for k, v in res.items():
            line = f"  {k:<{width}}  {v / 1e9:7.3f} G node-evals/s"
            if peer and not k.startswith("operon"):
                line += f"   x{v / peer:.2f} vs Operon's best"
            print(line)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
