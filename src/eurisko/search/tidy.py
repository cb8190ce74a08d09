"""Last rewrites of the final front: the same formula, written as a reader (or a checker that
rounds constants) wants it, each kept only where the data show it loses nothing.

- Snapped constants: ``9.999999999993*y - 3.333333333331*x^3`` is ``10*y - 10/3*x^3``, and
  ``cos(t - 0.785398163397692)`` is ``cos(t - pi/4)``; a constant within 1e-9 (relative) of
  p/q or p*pi/q (q up to 12) becomes it, and `to_sympy` then writes it so.
- Reciprocal roots: ``m*sqrt(c/(c - v^2/c))`` is ``m/sqrt(1 - v^2/c^2)``. Over the reals
  ``sqrt(E) = 1/sqrt(1/E)`` wherever either side is defined, but SymPy's complex square root
  tells them apart (and takes ``|c|`` out of ``sqrt(c^2*X)``), so an exact checker rejects the
  first form of the law; the rewrite is kept when it is no larger.
- Positive forms: ``I2*sqrt(I1/I2)`` is ``sqrt(I1*I2)``, ``y*sqrt(x^2/y^2 + 1)`` is
  ``sqrt(x^2 + y^2)``, ``-log(V1/V2)`` is ``log(V2/V1)`` and ``exp(-(log(s^2) + x^2)/2)`` is
  ``exp(-x^2/2)/s`` where the variables are positive,
  as physical data mostly are. Over the reals the pairs differ (an exact checker rejects the
  first of each), so the rewrite is tried on every formula and kept only when it is smaller and
  the data give it the same loss: a variable negative on some row changes the loss.
- Roots of exponentials: ``sqrt(exp(-x^2))`` is ``exp(-x^2/2)`` for every real ``x``, which
  SymPy does not see; kept when at most one node larger (the sign a ``1/sqrt`` folds).
- Pruned terms: the search can stop on a formula that is exact to rounding but carries terms
  too small to matter (``G*m/(r*(1.45e10*r/G + log(log(r))))``, where ``log(log(r))`` is
  1e-10 of the other term); each sum or difference loses such a term where the predictions
  move by less than a millionth of y's spread (`pruned`), before the constants are polished.
- Expanded products: ``-2*(x*y + (0.70710678*(x - 1.5))^2) + 2.25`` is ``3*x - x^2 - 2*x*y``;
  SymPy's expansion is kept when it is no larger, as the irrational-looking constants of the
  factored form no longer survive rounding to a few digits.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from eurisko.expr.operators import CONST, VAR, is_operator, op_code
from eurisko.expr.program import Program
from eurisko.expr.short_numbers import nearest_short
from eurisko.expr.simplify import simplify
from eurisko.expr.template import Template
from eurisko.expr.tree import Node, from_tree, node_count, to_tree

SNAP_RTOL = 1e-9  # a constant this close to a short fraction is taken to be it
SNAP_ZERO = 1e-12  # ... and one this small (relative to the largest) to be 0
ROOT_ARG_MAX = 20  # nodes under a sqrt worth handing to SymPy
ABSORB_TERMS = 12  # a root's sum this small has its terms factored one by one
MAX_TERMS = 200  # expansions that could be longer are not tried: ((a + b)^2)^...^2 never ends

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
        if not e.has(sp.Add) or not e.has(sp.Mul, sp.Pow) or _terms(e) > MAX_TERMS:
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


def reciprocal_roots(program: Program, operators: Sequence[str] | None) -> Program | None:
    """``program`` with each ``sqrt(E)`` written ``1/sqrt(F)``, ``F`` being SymPy's reduced
    ``1/E``, where that makes the whole no larger; else None."""
    import sympy as sp

    from eurisko.expr.sympy_bridge import from_sympy, to_sympy

    sqrt, div = op_code("sqrt"), op_code("div")
    if sqrt not in program.codes or (div not in program.codes and operators is not None
                                     and "div" not in operators):
        return None
    hit = False

    def flip(arg: Node) -> Node | None:
        e = to_sympy(from_tree(arg))
        if e.has(sp.Abs) or _terms(e) > MAX_TERMS:
            return None
        best = None
        r = sp.cancel(1 / e)
        for f in (r, sp.expand(r)):  # a tuple: a set's order varies with the hash seed
            if f.has(sp.zoo, sp.nan, sp.oo, sp.I):
                continue
            node = to_tree(from_sympy(f, operators=operators))
            if best is None or node_count(node) < node_count(best):
                best = node
        return None if best is None else (div, (CONST, 1.0), (sqrt, best))

    def walk(node: Node) -> Node:
        nonlocal hit
        if node[0] in (VAR, CONST):
            return node
        node = (node[0], *(walk(c) for c in node[1:]))
        if node[0] == sqrt and node_count(node[1]) <= ROOT_ARG_MAX:
            new = flip(node[1])
            # one node more is fine here: the 1 of 1/sqrt(F) usually folds away
            if new is not None and node_count(new) <= node_count(node) + 1:
                hit = True
                return new
        return node

    try:
        tree = walk(to_tree(program))
        if not hit:
            return None
        q = simplify(from_tree(tree), operators)
    except (ValueError, TypeError, RecursionError, OverflowError, ZeroDivisionError):
        return None
    return q if len(q) <= len(program) else None


def positive_form(program: Program, operators: Sequence[str] | None) -> Program | None:
    """``program`` rewritten as if every variable were positive (factors moved into a root,
    powers merged, ``-log(A)`` as ``log(1/A)``, logarithms out of exponentials) when that
    has fewer nodes, or as many and fewer operations; else None. The caller's loss check on
    the data decides whether the variables are positive there."""
    import sympy as sp

    from eurisko.expr.sympy_bridge import from_sympy, to_sympy

    if not any(is_operator(n) and op_code(n) in program.codes for n in ("sqrt", "log", "pow")):
        return None
    try:
        e = to_sympy(program)
        if _terms(e) > MAX_TERMS:
            return None
        pos = {s: sp.Symbol(s.name, positive=True) for s in e.free_symbols}
        # SymPy splits sqrt(a*b) of positive symbols on sight: merge back over the reals
        f = _log_flipped(_absorbed(_exp_logs(e.xreplace(pos))))
        f = sp.powsimp(f.xreplace({v: k for k, v in pos.items()}), force=True)
        if f.has(sp.zoo, sp.nan, sp.oo, sp.I):
            return None
        q = simplify(from_sympy(f, operators=operators), operators)
        # smaller, or as small with fewer operations in SymPy's view (no Abs, no log)
        if len(q) < len(program) or (len(q) == len(program) and f != e
                                     and sp.count_ops(f) < sp.count_ops(e)):
            return q
    except (ValueError, TypeError, RecursionError, OverflowError, ZeroDivisionError):
        return None
    return None


def exp_roots(program: Program, operators: Sequence[str] | None) -> Program | None:
    """``program`` with each power of an exponential, ``exp(u)^r``, written ``exp(r*u)``
    when that is no larger; else None."""
    import sympy as sp

    from eurisko.expr.sympy_bridge import from_sympy, to_sympy

    if not (op_code("exp") in program.codes and any(
            is_operator(n) and op_code(n) in program.codes for n in ("sqrt", "pow", "div"))):
        return None
    try:
        e = to_sympy(program)
        f = e.replace(lambda x: x.is_Pow and isinstance(x.base, sp.exp),
                      lambda x: sp.exp(x.exp * x.base.args[0]))
        if f == e:
            return None
        q = simplify(from_sympy(f, operators=operators), operators)
    except (ValueError, TypeError, RecursionError, OverflowError, ZeroDivisionError):
        return None
    # one node more is fine: 1/sqrt(exp(u)) folds the sign that exp(-u/2) spells out
    return q if len(q) <= len(program) + 1 else None


def _exp_logs(e):
    """``exp(a*log(u) + v)`` as ``u^a * exp(v)`` (``u > 0``), a power whose exponent is a
    whole or half number written exactly: the log transform's ``exp(-(log(s^2) + x^2)/2)`` is
    ``exp(-x^2/2)/s``."""
    import sympy as sp

    def split(x):
        terms = sp.Add.make_args(sp.expand(x.args[0], mul=True, multinomial=False,
                                           power_exp=False, log=False))
        if not any(t.has(sp.log) for t in terms):
            return x
        return sp.Mul(*[sp.exp(t) for t in terms])

    e = e.replace(lambda x: isinstance(x, sp.exp) and x.args[0].has(sp.log), split)
    return e.replace(
        lambda x: x.is_Pow and x.exp.is_Float and float(2 * x.exp).is_integer(),
        lambda x: x.base ** sp.Rational(int(2 * x.exp), 2))


def _absorbed(e):
    """Positive factors of a product moved into its one root of a sum: ``y*sqrt(x^2/y^2 + 1)``
    is ``sqrt(x^2 + y^2)`` (needs ``y > 0``)."""
    import sympy as sp

    if not e.args or e.is_Atom:
        return e
    e = e.func(*[_absorbed(a) for a in e.args])
    if not e.is_Mul:
        return e
    roots = [f for f in e.args if f.is_Pow and f.base.is_Add and f.exp.is_Rational
             and not f.exp.is_Integer]
    if len(roots) != 1:
        return e
    root = roots[0]
    inside = root.base.free_symbols
    movable = [f for f in e.args if f is not root and (f in inside or (
        f.is_Pow and f.base in inside and f.exp.is_Rational))]
    if not movable:
        return e
    rest = [f for f in e.args if f is not root and f not in movable]
    factor = sp.Mul(*movable) ** (1 / root.exp)
    # into every term, each term then put in lowest terms: ((x2 - x1)/y)^2 * y^2 is
    # (x1 - x2)^2; or the whole expanded, whichever is smaller
    forms = [sp.expand(root.base * factor)]
    if _terms(root.base) <= ABSORB_TERMS:
        forms.append(sp.Add(*[sp.factor(sp.cancel(t * factor)) for t in root.base.args]))
    inner = min(forms, key=sp.count_ops)
    return sp.Mul(*rest) * inner ** root.exp


def _log_flipped(e):
    """``-c*log(A)`` as ``c*log(1/A)``: the sign into the logarithm (needs ``A > 0``)."""
    import sympy as sp

    if not e.args or e.is_Atom:
        return e
    e = e.func(*[_log_flipped(a) for a in e.args])
    if not e.is_Mul:
        return e
    coeff, rest = e.as_coeff_Mul()
    logs = [f for f in sp.Mul.make_args(rest) if isinstance(f, sp.log)]
    if coeff >= 0 or len(logs) != 1:
        return e
    others = [f for f in sp.Mul.make_args(rest) if f is not logs[0]]
    return -coeff * sp.Mul(*others) * sp.log(sp.cancel(1 / logs[0].args[0]))


def _terms(e) -> int:
    """An upper bound on the terms of ``e`` fully expanded (capped just above MAX_TERMS)."""
    import sympy as sp

    cap = MAX_TERMS + 1
    if e.is_Add:
        return min(cap, sum(_terms(a) for a in e.args))
    if e.is_Mul:
        n = 1
        for a in e.args:
            n = min(cap, n * _terms(a))
        return n
    if e.is_Pow and e.exp.is_Integer and abs(e.exp) > 1:  # denominators expand too
        base = _terms(e.base)
        return 1 if base == 1 else min(cap, base ** min(abs(int(e.exp)), 64))
    inner = [_terms(a) for a in e.args if isinstance(a, sp.Expr)]
    return max([1, *inner])  # a function's argument is expanded on its own


def _term_drops(node: Node, add: int, sub: int, mul: int) -> list[Node]:
    """Every tree made from ``node`` by dropping one term of one sum or difference."""
    if node[0] in (VAR, CONST):
        return []
    out = []
    if node[0] in (add, sub):
        a, b = node[1], node[2]
        out.append(a)
        out.append(b if node[0] == add else (mul, (CONST, -1.0), b))
    for k in range(1, len(node)):
        for child in _term_drops(node[k], add, sub, mul):
            out.append(node[:k] + (child,) + node[k + 1:])
    return out


def pruned(programs: list[Program], predict: Callable[[list[Program]], np.ndarray],
           rtol: float, spread: float, operators: Sequence[str] | None, max_rounds: int = 8,
           chunk: int = 256) -> list[Program]:
    """Drop terms of sums and differences that change nothing on the data: each round tries
    every single drop of every formula and keeps, per formula, the smallest variant whose
    predictions stay within ``rtol`` times the formula's own spread (standard deviation over
    the rows, at most ``spread``, that of y) of its predictions before pruning, in root mean
    square (not of the last round's, so small changes cannot add up). The formula's own
    spread, as a formula still to be scaled (``a + b*f``) may predict on any scale.
    ``predict`` maps programs to their ``(n_programs, n_rows)`` predictions."""
    programs = list(programs)
    add, sub, mul = op_code("add"), op_code("sub"), op_code("mul")
    live = [i for i, p in enumerate(programs) if add in p.codes or sub in p.codes]
    if not live:
        return programs
    with np.errstate(all="ignore"):
        ref = {i: row for i, row in zip(live, predict([programs[i] for i in live]), strict=True)
               if np.all(np.isfinite(row))}
    live = [i for i in live if i in ref]
    tol = {i: rtol * min(float(np.std(ref[i])), spread) for i in live}
    for _ in range(max_rounds):
        trial: list[tuple[int, Program]] = []
        for i in live:
            try:
                drops = _term_drops(to_tree(programs[i]), add, sub, mul)
                trial.extend((i, simplify(from_tree(d), operators)) for d in drops)
            except (ValueError, RecursionError):
                continue
        best: dict[int, Program] = {}
        for k in range(0, len(trial), chunk):
            part = trial[k:k + chunk]
            with np.errstate(all="ignore"):
                pred = predict([q for _, q in part])
                for (i, q), row in zip(part, pred, strict=True):
                    off = float(np.sqrt(np.mean((row - ref[i]) ** 2)))
                    if off <= tol[i] and (i not in best or len(q) < len(best[i])):
                        best[i] = q
        live = [i for i in best if len(best[i]) < len(programs[i])]
        for i in live:
            programs[i] = best[i]
        if not live:
            break
    return programs


def sympy_shorter(program: Program, operators: Sequence[str] | None) -> Program | None:
    """``program`` as SymPy writes it (``x + x`` is ``2*x``, ``0.5*(2*x)`` is ``x``),
    constants snapped, when that has fewer nodes; else None. (The final rewrite of each
    function of a template, where the function's own scale makes such folds common.)"""
    from eurisko.expr.sympy_bridge import from_sympy, to_sympy

    try:
        q = _snapped_simple(from_sympy(to_sympy(program), operators=operators), operators)
    except (ValueError, TypeError, RecursionError, OverflowError):
        return None
    return q if len(q) < len(program) else None


def _snapped_simple(program: Program, operators: Sequence[str] | None) -> Program:
    s = snapped(program)
    return simplify(program if s is None else s, operators)


def tidied(programs: list[Program], losses: np.ndarray, evaluate: Losses, tolerance: Callable,
           operators: Sequence[str] | None, template: Template | None = None
           ) -> tuple[list[Program], np.ndarray]:
    """Flip square roots, expand, take roots of exponentials, write for positive variables,
    then snap constants; each rewrite kept where ``evaluate`` gives it a loss within
    ``tolerance(old_loss)``. Within a ``template`` each rewrite is made in each hole alone,
    so the outer form stays as the user wrote it."""
    programs, losses = list(programs), np.array(losses, dtype=float, copy=True)
    more = () if template is None else (lambda p: sympy_shorter(p, operators),)
    for bare in (*more,
                 lambda p: reciprocal_roots(p, operators),
                 lambda p: expanded(p, operators),
                 lambda p: exp_roots(p, operators),
                 lambda p: positive_form(p, operators),
                 lambda p: None if snapped(p) is None else _snapped_simple(p, operators)):
        rewrite = bare if template is None else (
            lambda p, r=bare: template.holewise(lambda _, h: r(h), p))
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
