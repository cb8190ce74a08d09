"""Re-run today's exact-recovery check on recoveries claimed in saved results.

When the checker changes (a false positive fixed, a rounding rule added), earlier result files
still hold verdicts of the old rule. This script re-judges every claimed recovery in the files
given (``feynman_recovery.py`` and ``vs_operon.py`` JSON, ``eurisko bench`` ``results.jsonl``)
and lists the claims the current rule no longer accepts; it never rewrites a file.

Usage::

    python benchmarks/recheck_results.py docs/results/*/feynman_recovery*.json \\
        docs/results/*/vs_operon*.json docs/results/*/*/results.jsonl
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path

import sympy as sp

from eurisko.bench import check_recovery, load_problem

# Feynman variable names that SymPy would read as its own objects
_NAMES = {n: sp.Symbol(n) for n in ("E", "S", "I", "N", "Q", "gamma", "beta", "lambda")}


def _plain(expr: sp.Expr) -> sp.Expr:
    return expr.xreplace({s: sp.Symbol(s.name) for s in expr.free_symbols})


def claims(path: Path) -> Iterator[tuple[str, sp.Expr, sp.Expr]]:
    """(label, model, truth) for each claimed recovery in one results file."""
    if path.suffix == ".jsonl":
        for line in path.read_text().splitlines():
            try:
                r = json.loads(line)
            except json.JSONDecodeError:
                continue  # a line cut short by a kill
            if r.get("exact"):
                label = f"{r['problem']} {r['method']} noise={r['noise']} seed={r['seed']}"
                yield label, sp.sympify(r["model"]), sp.sympify(r["truth"])
        return
    for r in json.loads(path.read_text())["results"]:
        rec = r.get("eurisko", r)  # vs_operon nests each method's result
        if rec.get("found"):
            model = sp.sympify(rec["equation"].replace("^", "**"), locals=_NAMES)
            yield r["problem"], _plain(model), load_problem(r["problem"]).formula


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("files", nargs="+", type=Path)
    ap.add_argument("--check-timeout", type=float, default=30.0)
    args = ap.parse_args(argv)
    n = changed = 0
    for path in args.files:
        for label, model, truth in claims(path):
            n += 1
            verdict = check_recovery(model, truth, timeout=args.check_timeout)
            if not verdict.exact:
                changed += 1
                print(f"NO LONGER EXACT  {path}  {label}: {verdict.reason}", flush=True)
    print(f"{n} claimed recoveries re-checked, {changed} no longer pass")
    return 1 if changed else 0


if __name__ == "__main__":
    sys.exit(main())
