"""The easier problems a fit with units tries before its plain search, and what they found.

`SymbolicRegressor.fit` with ``X_units``/``y_units`` runs a short search on each dimensionless
version of the problem (`eurisko.physics.reduce_by_units`), writes the formulas it finds back
in the user's variables and hands them to the plain search as guesses: they are re-fitted and
scored on the raw data there, so the front only ever holds what the raw data confirm, and a
law found on the groups ends the plain search early by the exact-fit rule. The exhaustive
walk of a small problem also walks output transforms of its target (``sin``, square, ``log``,
``1/t``), whose formula may be small where the law's is not.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
import time
import warnings
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from eurisko.expr.printing import to_string
from eurisko.expr.program import Program, const
from eurisko.search.engine import SearchProgress
from eurisko.search.front import FrontEntry, pareto

if TYPE_CHECKING:  # the physics package imports SymPy: loaded only for a fit with units
    from eurisko.physics import Constant, Reduction

# Share of the time (and evaluation) budget the dimensionless problems may use, first analysis
# first; each stops early on an exact fit, and the plain search gets what they leave.
REDUCED_SHARES = (0.35, 0.15)


def constants_of(spec: Any) -> list[Constant]:
    """``physical_constants``: names from pint's table (``"c"``) or ``(value, unit)`` pairs,
    in a list or a dict ``{name: "c" | (value, unit)}``."""
    if spec is None:
        return []
    from eurisko.physics import physical_constant

    if isinstance(spec, str):
        raise TypeError("physical_constants must be a list of names such as ['c', 'h'] or a "
                        f"dict of name: (value, unit), not the string {spec!r}")
    if isinstance(spec, Mapping):
        return [physical_constant(v, name=str(k)) for k, v in spec.items()]
    return [physical_constant(v) for v in spec]


@dataclasses.dataclass
class Branches:
    """What the dimensionless problems found: guesses for the plain search and a record."""

    guesses: list[Program]
    record: list[dict[str, Any]]
    seconds: float = 0.0
    n_evals: int = 0
    best_loss: float = float("inf")  # on the raw data, in the user's units


def units_of(user_columns: Sequence[str], X_units: Any, y_units: Any,
             constants: list[Constant]) -> tuple[list[Any], Any]:
    """The unit of every column (the constants' last) and of ``y``."""
    from eurisko.physics import parse_unit, parse_units

    if X_units is None or y_units is None:
        missing = "y_units" if X_units is not None else "X_units"
        raise ValueError(f"give {missing} too: dimensional analysis needs the units of every "
                         "column and of y")
    units = parse_units(X_units, list(user_columns), what="X_units")
    units += [c.unit for c in constants]
    y_unit = parse_unit(y_units if isinstance(y_units, str) else str(y_units), "y")
    return units, y_unit


def plan(X: np.ndarray, y: np.ndarray, w: np.ndarray, names: Sequence[str],
         units: Sequence[Any], y_unit: Any, y_name: str) -> tuple[list[Reduction], str]:
    """The dimensionless problems (``X`` already holds the constants' columns), or a reason."""
    from eurisko.physics import reduce_by_units

    return reduce_by_units(X, y, w, list(names), list(units), y_unit, y_name=y_name,
                           alternatives=len(REDUCED_SHARES))


def run(reductions: list[Reduction], make_model: Callable[..., Any], names: Sequence[str],
        operators: Sequence[str] | None, X: np.ndarray, y: np.ndarray, w: np.ndarray,
        time_limit: float | None, max_evals: int | None, loss_threshold: float | None,
        exact_loss: float | None, progress: Callable[[SearchProgress], None] | None
        ) -> Branches:
    """Search each reduction in turn (until one fits exactly); the formulas come back as
    programs in ``names``, each scored on the raw data."""
    from eurisko.physics import scale_constant

    out = Branches([], [])
    t_start = time.monotonic()
    for reduction, share in zip(reductions, REDUCED_SHARES, strict=False):
        t0 = time.monotonic()
        tags: list[str | None] = []  # the output transform each found formula came from
        entry: dict[str, Any] = {"kind": "dimensionless", "problem": reduction.describe(),
                                 "groups": list(reduction.names)}
        if reduction.n_groups == 0:  # y = C * scale: one least-squares constant
            c = scale_constant(reduction.target, np.ones_like(reduction.target),
                               reduction.weights)
            found, tags, n_evals = [const(float(c))], [None], 1
        else:
            found, tags, n_evals, seeds = _enumerated(reduction, operators, exact_loss,
                                                      time_limit, max_evals, share, y, w,
                                                      entry)
        if reduction.n_groups and not found:
            model = make_model(
                time_limit=None if time_limit is None else share * time_limit,
                max_evals=None if max_evals is None else max(1, int(share * max_evals)),
                loss_threshold=(None if loss_threshold is None
                                else loss_threshold * reduction.loss_factor),
                progress=_offset(progress, time.monotonic() - t_start + 0.0, out.n_evals),
            )
            frame = pd.DataFrame(reduction.X, columns=list(reduction.names))
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                model.fit(frame, reduction.target, sample_weight=reduction.weights,
                          guesses=seeds)
            found, n_evals = list(model.programs_), n_evals + int(model.n_evals_)
            tags = [None] * len(found)
            entry["stop_reason"] = model.stop_reason_
        positive = [n for n, col in zip(names, X.T, strict=True) if (col > 0).all()]
        backs, back_tags = [], []
        for q, tag in zip(found, tags, strict=True):
            for p in reduction.write_back(q, names, _write_back_operators(operators, q),
                                          positive):
                backs.append(p)
                back_tags.append(tag)
        losses = [raw_loss(p, X, y, w) for p in backs]
        out.guesses.extend(backs)
        out.n_evals += n_evals
        best = min(losses, default=float("inf"))
        out.best_loss = min(out.best_loss, best)
        entry.update(seconds=time.monotonic() - t0, n_evals=n_evals, best_loss=best,
                     formulas=[to_string(p, list(names)) for p in backs])
        if losses and (tag := back_tags[int(np.argmin(losses))]) is not None:
            entry["transform"] = tag
        out.record.append(entry)
        if exact_loss is not None and best <= exact_loss:
            break
    out.seconds = time.monotonic() - t_start
    return out


# Reduced problems of this many groups at most are first walked exhaustively (brute force).
MAX_ENUMERATED_GROUPS = 3
# The numbers the walk may write (physics has 2*pi where h meets hbar), by number of groups:
# each more multiplies the formulas of a size; on one group four cost about 0.6 s to 8 nodes.
ENUMERATION_CONSTANTS = {1: (1.0, 2.0, math.pi, 2 * math.pi), 2: (1.0, 2.0, math.pi)}


# AI Feynman's output transforms: a law whose formula is big may be small for a function of
# its target (theta = asin(n*sin(theta2)) is sin(theta) = n*sin(theta2), r = sqrt(...) is
# r^2 = ..., a Gaussian is a square under log). Name: (T, unary operators of T^-1, innermost
# first). T^-1 is a true inverse only where the target stays in the range `_valid` checks.
_TRANSFORMS: dict[str, tuple[Callable[[np.ndarray], np.ndarray], tuple[str, ...]]] = {
    "square": (np.square, ("sqrt",)),  # ("sqrt", "neg") where t < 0 on every row
    "inv": (np.reciprocal, ("inv",)),
    "log": (np.log, ("exp",)),
    "sin": (np.sin, ("asin",)),
}
# Seeds for the search handed on per transform when nothing is exact: each costs it time.
TRANSFORM_SEEDS = 2
# Formulas with no fitted number handed on, the lowest loss on the target first, whichever
# transform they came from: on noisy data the law is among them (`EnumerationResult.free`).
FREE_SEEDS = 4


def output_transforms(t: np.ndarray, w: np.ndarray
                      ) -> tuple[list[tuple[str, np.ndarray, tuple[str, ...]]], dict[str, str]]:
    """The transforms worth walking for target ``t``: ``[(name, T(t), inverse operators)]``,
    the identity first, and ``{name: why not}`` for those that are not invertible on the
    rows that count (positive weight; the others get 0)."""
    rows = w > 0
    u = t[rows]
    pos, neg = bool((u > 0).all()), bool((u < 0).all())
    why = {"square": "" if pos or neg else "t changes sign",
           "inv": "" if (u != 0).all() else "t = 0 on some rows",
           "log": "" if pos else "t <= 0 on some rows",
           "sin": "" if (np.abs(u) <= math.pi / 2).all() else "|t| > pi/2 on some rows"}
    out: list[tuple[str, np.ndarray, tuple[str, ...]]] = [("identity", t, ())]
    skipped: dict[str, str] = {}
    for name, (forward, inverse) in _TRANSFORMS.items():
        if why[name]:
            skipped[name] = why[name]
            continue
        v = np.zeros_like(t)
        with np.errstate(all="ignore"):
            v[rows] = forward(u)
        if not np.isfinite(v).all():
            skipped[name] = "not finite"
            continue
        out.append((name, v, ("sqrt", "neg") if name == "square" and neg else inverse))
    return out, skipped


def inverted(program: Program, inverse: Sequence[str]) -> Program:
    """``T^-1(program)``: the inverse's unary operators applied to the root, in postfix."""
    from eurisko.expr.operators import op_code

    codes = np.concatenate([program.codes, [op_code(n) for n in inverse]])
    args = np.concatenate([program.args, np.zeros(len(inverse), dtype=program.args.dtype)])
    return Program(codes, args, program.consts.copy())


def _write_back_operators(operators: Sequence[str] | None, program: Program
                          ) -> Sequence[str] | None:
    """The operators a formula of the groups is written back with: the search's and those it
    already uses. An output transform's inverse (``asin`` for ``sin``, not in the default set)
    is the only way to a law that needs it, and a search seeded with such a formula may keep
    it; the formula is still re-fitted and scored on the raw data, and the kernels evaluate
    every registered operator, so the search's ``operators`` bound what it builds, not what
    it is handed."""
    from eurisko.expr.operators import FIRST_OP, operator_of, resolve_operators

    used = {operator_of(int(c)).name for c in program.codes if c >= FIRST_OP}
    ops = resolve_operators(operators)
    if used <= set(ops):
        return operators
    return (*ops, *sorted(used - set(ops)))


def _enumerated(reduction: Reduction, operators: Sequence[str] | None,
                exact_loss: float | None, time_limit: float | None,
                max_evals: int | None, share: float,
                y: np.ndarray, w: np.ndarray, entry: dict[str, Any]
                ) -> tuple[list[Program], list[str | None], int, list[Program]]:
    """`walk` on the groups of a reduction of at most `MAX_ENUMERATED_GROUPS` groups, with
    the fit's exact loss on ``y`` put in the reduced problem's units."""
    if reduction.n_groups > MAX_ENUMERATED_GROUPS:
        return [], [], 0, []
    y_var = float(np.average((y - np.average(y, weights=w)) ** 2, weights=w))
    return walk(reduction.X, reduction.target, reduction.weights, operators,
                None if exact_loss is None or not y_var > 0
                else exact_loss * reduction.loss_factor,
                walk_time(time_limit, share), entry, walk_evals(max_evals, share))


WALK_SAMPLE = 32  # rows a walk builds its formulas on (enumerate_targets' n_sample)


def walk_evals(max_evals: int | None, share: float) -> float | None:
    """The walk's evaluation cap, as `walk_time` its seconds: a fifth of its branch's share
    of the fit's budget (None: no budget)."""
    return None if max_evals is None else 0.2 * share * max_evals


def walk_time(time_limit: float | None, share: float) -> float | None:
    """The walk's time cap: a fifth of its branch's share of the fit's time, 2 s at most;
    none without a time limit (the walk is then bounded by size, so a fit budgeted in
    evaluations stays reproducible)."""
    return None if time_limit is None else min(2.0, 0.2 * share * time_limit)


def walk(X: np.ndarray, t: np.ndarray, tw: np.ndarray, operators: Sequence[str] | None,
         exact_loss: float | None, time_limit: float | None, entry: dict[str, Any],
         max_evals: float | None = None
         ) -> tuple[list[Program], list[str | None], int, list[Program]]:
    """Every small formula of a table of at most three columns ``X`` for the target ``t``
    (weights ``tw``) and its output transforms in one walk: ``(exact ones, the transform each
    came from, evaluations, seeds for a search)``; ``entry["enumeration"]`` records it.

    A formula is exact when its weighted loss on ``t`` is at most ``exact_loss`` (the fit's
    exact-fit rule in ``t``'s units; None: 1e-14 of ``t``'s variance); for a transformed
    target the same tolerance is relative to its own variance (its loss is not the loss on
    ``t``), and a formula exact there counts only if its inverse is exact on ``t`` too (else
    it is a seed). The walk ends when ``t`` itself has an exact formula, and a transform's
    exact formulas are handed on only when ``t`` has none (``c/sqrt(c^2/v^2 - 1)``, from the
    square, is as small as ``v/sqrt(1 - v^2/c^2)`` but not the law as written). ``time_limit``
    caps the walk's seconds (`walk_time`), ``max_evals`` its evaluations (counted as the
    fit counts them, in passes over all rows; the same walk on every machine); with neither
    it is bounded by size only."""
    from eurisko.evaluate.reference import eval_program
    from eurisko.search.enumerate import enumerate_targets

    t_var = float(np.average((t - np.average(t, weights=tw)) ** 2, weights=tw))
    tol = 1e-14 if exact_loss is None or not t_var > 0 else \
        min(1e-6, max(exact_loss / t_var, 1e-16))
    transforms, skipped = output_transforms(t, tw)
    results = enumerate_targets(
        X, [v for _, v, _ in transforms], tw, operators=operators, exact_tol=tol,
        constants=ENUMERATION_CONSTANTS[min(max(X.shape[1], 1), 2)], stop_with_first=True,
        time_limit=time_limit, n_sample=WALK_SAMPLE,
        max_candidates=None if max_evals is None else
        max(1, int(max_evals * len(t) / min(WALK_SAMPLE, len(t)))))
    found: list[Program] = []
    tags: list[str | None] = []
    seeds: list[Program] = []
    free: list[Program] = []
    counts: dict[str, int] = {}
    Zt = np.ascontiguousarray(X.T)
    for (name, _, inverse), res in zip(transforms, results, strict=True):
        free += [inverted(f.program, inverse) for f in res.free]
        exact = [inverted(f.program, inverse) for f in res.exact]
        if inverse:  # exact on T(t) is not exact on t: confirm on t
            with np.errstate(all="ignore"):
                loss = [float(np.sum(tw * (eval_program(p, Zt) - t) ** 2) / np.sum(tw))
                        for p in exact]
            seeds += [p for p, v in zip(exact, loss, strict=True) if not v <= tol * t_var]
            exact = [p for p, v in zip(exact, loss, strict=True) if v <= tol * t_var]
            seeds += [inverted(f.program, inverse) for f in res.best[:TRANSFORM_SEEDS]]
        else:
            seeds += [f.program for f in res.best]
        found += exact
        tags += [name] * len(exact)
        counts[name] = len(exact)
    if counts.get("identity"):  # the target's own law reads as the law is written
        found, tags = found[:counts["identity"]], tags[:counts["identity"]]
    if free and not found:
        with np.errstate(all="ignore"):
            loss = np.array([float(np.sum(tw * (eval_program(p, Zt) - t) ** 2) / np.sum(tw))
                             for p in free])
        loss[~np.isfinite(loss)] = np.inf
        seeds += [free[k] for k in np.argsort(loss, kind="stable")[:FREE_SEEDS]
                  if np.isfinite(loss[k])]
    res = results[0]
    n_evals = int(sum(s.n_candidates for s in res.sizes) * res.n_sample / max(len(t), 1))
    entry["enumeration"] = {"stop_reason": res.stop_reason, "seconds": res.seconds,
                            "max_size": res.max_size_done, "exact": len(found),
                            "transforms": counts, "skipped": skipped}
    return found, tags, n_evals, seeds


def raw_loss(p: Program, X: np.ndarray, y: np.ndarray, w: np.ndarray,
             loss_spec: Any = None) -> float:
    """Weighted MSE of ``p`` on the user's data (the decomposition's yardstick), or the mean
    of ``loss_spec`` (an `evaluate.losses.LossSpec`) when given."""
    from eurisko.evaluate.reference import eval_program

    with np.errstate(all="ignore"):
        f = np.asarray(eval_program(p, np.ascontiguousarray(X.T)), dtype=np.float64)
        if loss_spec is not None and not loss_spec.is_l2:
            loss = float(np.sum(w * loss_spec.value(f - y)) / np.sum(w))
        else:
            loss = float(np.sum(w * (f - y) ** 2) / np.sum(w))
    return loss if np.isfinite(loss) else float("inf")


def _offset(progress: Callable[[SearchProgress], None] | None, seconds: float, n_evals: int,
            last: bool = False) -> Callable[[SearchProgress], None] | None:
    """Progress of one part, reported as part of the whole fit (``done`` only for the
    ``last`` part, the plain search)."""
    if progress is None:
        return None

    def report(p: SearchProgress) -> None:
        progress(dataclasses.replace(p, elapsed=p.elapsed + seconds,
                                     n_evals=p.n_evals + n_evals, done=last and p.done))
    return report


# Factors a physical constant may come with in a law (2*pi*hbar = h, 4*pi*epsilon_0, ...).
_FACTORS = dict((
    ("1", 1.0), ("2", 2.0), ("1/2", 0.5), ("3", 3.0), ("1/3", 1 / 3), ("4", 4.0),
    ("1/4", 0.25), ("pi", math.pi), ("2*pi", 2 * math.pi), ("4*pi", 4 * math.pi),
    ("1/(2*pi)", 1 / (2 * math.pi)), ("1/(4*pi)", 1 / (4 * math.pi))))
_MAX_POWER = 3


def name_constants(front: list[FrontEntry], names: Sequence[str],
                   constants: Sequence[tuple[str, float]], loss_of: Callable[[Program], float],
                   operators: Sequence[str] | None, y_var: float) -> list[FrontEntry]:
    """Numbers in the front that are products of the physical constants (8.98755e16 = c**2)
    written with the constants' names, where the loss on the data stays the same
    (``loss_of`` gives it in the units of the front's losses, ``y_var`` the target's
    variance in those units)."""
    import sympy as sp

    from eurisko.expr.sympy_bridge import from_sympy, to_sympy

    logs = np.log([abs(v) for _, v in constants])
    powers = np.array(list(itertools.product(range(-_MAX_POWER, _MAX_POWER + 1),
                                             repeat=len(constants))), dtype=float)
    powers = powers[np.argsort(np.abs(powers).sum(axis=1), kind="stable")]
    targets = powers @ logs
    syms = [sp.Symbol(n, real=True) for n, _ in constants]

    def named(value: float):
        if value == 0 or not math.isfinite(value):
            return None
        for text, factor in _FACTORS.items():
            hit = np.flatnonzero(np.abs(targets + math.log(factor) - math.log(abs(value)))
                                 < 1e-9)
            hit = [i for i in hit if powers[i].any()]
            if hit:
                e = powers[hit[0]]
                mono = sp.Mul(*[s ** int(k) for s, k in zip(syms, e, strict=True) if k])
                return (1 if value > 0 else -1) * sp.sympify(text) * mono
        return None

    out = []
    for entry in front:
        # SymPy's own products merge the factors that scaling the data leaves behind
        # (7.56e22*(T*(1.32e-23*k_B)) is 1.0*T*k_B), and a factor of 1 to rounding goes
        expr = to_sympy(entry.program, list(names))
        subs = {f: n for f in expr.atoms(sp.Float) if (n := named(float(f))) is not None}
        subs.update({f: sp.Integer(round(float(f))) for f in expr.atoms(sp.Float)
                     if f not in subs and abs(abs(float(f)) - 1) < 1e-12})
        if subs or len(expr.atoms(sp.Float)) < entry.program.n_consts:
            try:
                program = from_sympy(expr.xreplace(subs), list(names), operators)
            except (ValueError, TypeError):
                program = None
            if program is not None:
                loss = loss_of(program)
                if (loss <= entry.loss * (1 + 1e-6) + 1e-15 * y_var
                        and program.complexity() <= entry.complexity + 2 * len(subs)):
                    entry = FrontEntry(program.complexity(), program, loss)
        out.append(entry)
    return pareto([e.program for e in out], [e.loss for e in out])
