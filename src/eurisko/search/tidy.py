"""Last rewrites of the final front: the same formula, written as a reader (or a checker that
rounds constants) wants it, each kept only where the data show it loses nothing.

- Snapped constants: ``9.999999999993*y - 3.333333333331*x^3`` is ``10*y - 10/3*x^3``, and
  ``cos(t - 0.785398163397692)`` is ``cos(t - pi/4)``; a constant within 1e-9 (relative) of
  p/q or p*pi/q (q up to 12) becomes it, and `to_sympy` then writes it so.
- Expanded products: ``-2*(x*y + (0.70710678*(x - 1.5))^2) + 2.25`` is ``3*x - x^2 - 2*x*y``;
  SymPy's expansion is kept when it is no larger, as the irrational-looking constants of the
  factored form no longer survive rounding to a few digits.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from eurisko.expr.program import Program
from eurisko.expr.short_numbers import nearest_short
from eurisko.expr.simplify import simplify

SNAP_RTOL = 1e-9  # a constant this close to a short fraction is taken to be it
SNAP_ZERO = 1e-12  # ... and one this small (relative to the largest) to be 0

Losses = Callable[[list[Program]], np.ndarray]


def snapped(program: Program) -> Program | None:
    """``program`` with constants near short fractions set to them, or None if none moves."""
    consts = program.consts.tolist()
    if not consts:
        return None
    big = max(abs(c) for c in consts)
    new = []
    for c in consts:
        short = 0.0 if abs(c) <= SNAP_ZERO * big else nearest_short(c, SNAP_RTOL)
        new.append(c if short is None else short)
    if new == consts:
        return None
    return program.with_consts(np.array(new))


def expanded(program: Program, operators: Sequence[str] | None) -> Program | None:
    """SymPy's expansion of ``program``, terms whose coefficient is rounding noise dropped
    and constants snapped, when that has fewer nodes than ``program`` snapped; else None."""
    import sympy as sp

    from eurisko.expr.sympy_bridge import from_sympy, to_sympy

    try:
        e = to_sympy(program)
        if not e.has(sp.Add) or not e.has(sp.Mul, sp.Pow):
            return None
        x = sp.expand(e, power_exp=False, log=False)
        if x == e:
            return None
        if isinstance(x, sp.Add):  # (a - b)(a + b) leaves 1e-12 * a*b behind: not a term
            coeffs = [abs(float(t.as_coeff_Mul()[0])) for t in x.args]
            big = max(coeffs)
            x = sp.Add(*[t for t, c in zip(x.args, coeffs, strict=True)
                         if c > SNAP_RTOL * big])
        q = _snapped_simple(from_sympy(x, operators=operators), operators)
    except (ValueError, TypeError, RecursionError, OverflowError):
        return None
    return q if len(q) < len(_snapped_simple(program, operators)) else None


def _snapped_simple(program: Program, operators: Sequence[str] | None) -> Program:
    s = snapped(program)
    return simplify(program if s is None else s, operators)


def tidied(programs: list[Program], losses: np.ndarray, evaluate: Losses, tolerance: Callable,
           operators: Sequence[str] | None) -> tuple[list[Program], np.ndarray]:
    """Expand, then snap constants; each rewrite kept where ``evaluate`` gives it a loss
    within ``tolerance(old_loss)``."""
    programs, losses = list(programs), np.array(losses, dtype=float, copy=True)
    for rewrite in (lambda p: expanded(p, operators),
                    lambda p: None if snapped(p) is None else _snapped_simple(p, operators)):
        trial = {i: q for i, p in enumerate(programs)
                 if np.isfinite(losses[i]) and (q := rewrite(p)) is not None}
        if not trial:
            continue
        idx = sorted(trial)
        new = evaluate([trial[i] for i in idx])
        for i, loss in zip(idx, new, strict=True):
            if loss <= tolerance(losses[i]):
                programs[i], losses[i] = trial[i], float(loss)
    return programs, losses
