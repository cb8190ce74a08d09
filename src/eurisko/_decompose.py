"""The decomposition branch of a fit: symmetries and separability found first, searched apart.

Before its plain search (and before the dimensionless branches), `SymbolicRegressor.fit` asks a
smooth surrogate of the data (`eurisko.physics.separability`) whether the law depends on pairs
of columns only through their difference (translation symmetry: ``sqrt((x2-x1)^2 +
(y2-y1)^2)``). Each accepted pair becomes one column and the tests run again on the smaller
table. Without units pairs of positive columns are also tested for a scaling symmetry (``f``
depends on them only through ``x_i/x_j``; the poor man's dimensional analysis) on the same
surrogate, and an accepted pair becomes a ratio column (``m0/sqrt(1 - v^2/c^2)`` is
``f(m0, v_c)``). The merged problem is then searched: with units, by the dimensional analysis of
the translated columns (the difference keeps its unit, so ``G*m1*m2/((x2-x1)^2 + ...)`` becomes
a problem of few groups); without, by the exhaustive walk (`_branches.walk`, with the output
transforms) when at most three columns remain, else by an inner search. Without units and with
no symmetry accepted, a table of at most three varying columns is walked as it is, whatever its
rows (record kind ``"walk"``). Without units the table (merged or not) is also tested for
``f = g(A) + h(B)`` and ``f = g(A) * h(B)``; an accepted split has each part searched on its
own and the parts recombined. Every formula found comes back in the user's
variables as a guess of the plain search, which re-fits and scores it on the raw data, so a
wrong split costs time and nothing else.

The tests cost a surrogate fit (an RBF on at most 1000 rows) and a few hundred evaluations of
it per pair; they need 300 rows to judge (the calibration in `eurisko.physics.separability`),
so smaller tables skip them (and only the walk runs).
"""

from __future__ import annotations

import math
import time
import warnings
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from eurisko import _branches
from eurisko.expr.operators import VAR
from eurisko.expr.printing import to_string
from eurisko.expr.program import Program
from eurisko.search.engine import SearchProgress

MIN_ROWS = 300
# pairs tested per round: without units every pair is a candidate, so a cap bounds the cost
MAX_PAIRS = 15
MAX_PAIRS_WITH_UNITS = 28
# pairs of positive columns tested for a scaling symmetry per round (without units only)
MAX_SCALING_PAIRS = 15
MAX_ROUNDS = 3
# shares of fit's budget: the translated problem's search, and both parts of a separation
TRANSLATED_SHARE = 0.35
SEPARATED_SHARE = 0.3
# share of fit's time whose fifth (2 s at most) the walk of the raw table may take
WALK_SHARE = 0.35


def _share(budget: float | None, share: float, spent: float = 0.0) -> float | None:
    return None if budget is None else max(share * budget - spent, 1e-3)


def _surrogate(X: np.ndarray, y: np.ndarray, seed: int, max_rows: int = 1000
               ) -> tuple[Any, str]:
    """A surrogate good enough to judge a symmetry, and the function of ``y`` it models.

    A symmetry of ``f`` is one of ``g(f)`` for any ``g`` strictly monotone on the values of
    ``f``, so where ``y`` itself is too rough to model (a distance has a cone where it is
    zero) ``y**2`` and ``1/y`` are tried, when ``y`` keeps one sign."""
    from eurisko.physics import fit_surrogate
    from eurisko.physics.separability import MAX_RELATIVE_ERROR

    s = fit_surrogate(X, y, max_rows=max_rows, random_state=seed)
    if s.relative_error <= MAX_RELATIVE_ERROR or not (np.all(y > 0) or np.all(y < 0)):
        return s, "y"
    best = (s, "y")
    for space, t in (("y^2", y * y), ("1/y", 1.0 / y)):
        other = fit_surrogate(X, t, max_rows=max_rows, random_state=seed)
        if other.relative_error < best[0].relative_error:
            best = (other, space)
        if other.relative_error <= MAX_RELATIVE_ERROR:
            break
    return best


def skipped(reason: str) -> _branches.Branches:
    """The branch's record when it does not run at all, with the reason."""
    return _branches.Branches([], [{"kind": kind, "skipped": reason, "seconds": 0.0}
                                   for kind in ("symmetry", "walk", "separation")])


def run(X: np.ndarray, y: np.ndarray, w: np.ndarray, names: Sequence[str],
        units: Sequence[Any] | None, y_unit: Any, y_name: str,
        make_model: Callable[..., Any], operators: Sequence[str] | None,
        time_limit: float | None, max_evals: int | None, loss_threshold: float | None,
        exact_loss: float | None, progress: Callable[[SearchProgress], None] | None,
        random_state: int | None) -> tuple[_branches.Branches, bool]:
    """Test, split, search: ``(what was found, whether a formula fits exactly)``.

    ``units`` (one per column of ``X``, constants' columns included) turns on the same-unit
    rule for pairs and the dimensional analysis of the translated table; ``make_model`` gives
    an inner estimator with fit's settings. The record holds, in order, the symmetry tests
    (kind ``"symmetry"``: translations and, without units, ratios), without units the walk of
    the raw table (``"walk"``), and the separation tests (``"separation"``)."""
    from eurisko.physics.translation import Translated

    out = _branches.Branches([], [])
    t_start = time.monotonic()
    rows = w > 0
    live = [c for c in range(X.shape[1]) if np.ptp(X[rows, c]) > 0]
    skip = ""
    if int(rows.sum()) < MIN_ROWS:
        skip = (f"{int(rows.sum())} rows: the structure tests need at least {MIN_ROWS} to "
                "judge")
    elif len(live) < 2:
        skip = "fewer than 2 varying columns: nothing to split"
    seed = 0 if random_state is None else int(random_state)
    state = _State(out, X, y, w, names, operators, exact_loss, t_start)
    table = Translated.identity(X, names, units)
    budget = dict(make_model=make_model, time_limit=time_limit, max_evals=max_evals,
                  loss_threshold=loss_threshold, progress=progress)
    surrogate = None
    if skip:
        out.record.append({"kind": "symmetry", "skipped": skip, "seconds": 0.0})
    else:
        table, surrogate = _translations(table, y, rows, seed, state)
        entry = out.record[-1]
        if table.X.shape[1] < X.shape[1]:
            t0 = time.monotonic()
            _search_translated(table, units, y_unit, y_name, state, entry, **budget)
            entry["seconds"] = entry["test_seconds"] + time.monotonic() - t0
    found_before = state.exact
    if units is None:
        _raw_walk(live, table.X.shape[1] < X.shape[1], state, time_limit, max_evals)
    if skip:
        out.record.append({"kind": "separation", "skipped": skip, "seconds": 0.0})
        return _done(state), state.exact
    if state.exact:
        why = "the translated problem" if found_before else "the walk"
        out.record.append({"kind": "separation", "seconds": 0.0,
                           "skipped": f"a formula of {why} fits exactly"})
        return _done(state), True
    if units is not None:
        out.record.append({"kind": "separation", "seconds": 0.0,
                           "skipped": "with units the dimensional analysis splits the "
                                      "problem; separation is tried without units"})
    else:
        _separation(table, y, rows, surrogate, seed, state, **budget)
    return _done(state), state.exact


class _State:
    """What the branch has found so far, scored on the raw data."""

    def __init__(self, out: _branches.Branches, X: np.ndarray, y: np.ndarray, w: np.ndarray,
                 names: Sequence[str], operators: Sequence[str] | None,
                 exact_loss: float | None, t_start: float):
        self.out, self.X, self.y, self.w, self.names = out, X, y, w, list(names)
        self.operators, self.exact_loss, self.t_start = operators, exact_loss, t_start

    def add(self, programs: Sequence[Program | None], entry: dict[str, Any],
            n_evals: int) -> None:
        found = [p for p in programs if p is not None]
        losses = [_branches.raw_loss(p, self.X, self.y, self.w) for p in found]
        best = min(losses, default=math.inf)
        self.out.guesses.extend(found)
        self.out.n_evals += n_evals
        self.out.best_loss = min(self.out.best_loss, best)
        entry["n_evals"] = entry.get("n_evals", 0) + n_evals
        entry["best_loss"] = min(entry.get("best_loss", math.inf), best)
        entry.setdefault("formulas", []).extend(to_string(p, self.names) for p in found)

    @property
    def exact(self) -> bool:
        return self.exact_loss is not None and self.out.best_loss <= self.exact_loss

    def elapsed(self) -> float:
        return time.monotonic() - self.t_start


def _done(state: _State) -> _branches.Branches:
    state.out.seconds = state.elapsed()
    return state.out


def _translations(table: Any, y: np.ndarray, rows: np.ndarray, seed: int, state: _State,
                  allowed: Callable[[Any, int, int], bool] | None = None,
                  max_rows: int = 1000) -> tuple[Any, Any]:
    """Rounds of symmetry tests on the table: translation and, without units, scaling (of
    positive columns) on one surrogate per round; returns the table with the accepted pairs
    merged (differences, ratios) and the last surrogate of ``y`` itself on it (None when the
    last one modelled another function of ``y``), which the separation tests reuse.
    ``allowed(table, i, j)``: whether columns ``i`` and ``j`` of the round's table may merge
    (None: any pair); ``max_rows``: the surrogate's rows."""
    import sympy as sp

    from eurisko.physics import structure_tests
    from eurisko.physics.translation import candidate_pairs, disjoint, merge

    t0 = time.monotonic()
    entry: dict[str, Any] = {"kind": "symmetry", "tested": [], "accepted": []}
    if table.units is None:
        entry.update(scaling_tested=[], scaling_accepted=[])
    state.out.record.append(entry)
    yr = y[rows]
    surrogate, space = None, "y"
    for _ in range(MAX_ROUNDS):
        Xr = table.X[rows]
        live = [c for c in range(Xr.shape[1]) if np.ptp(Xr[:, c]) > 0]
        if len(live) < 2:
            break
        lunits = None if table.units is None else [table.units[c] for c in live]
        cap = MAX_PAIRS if lunits is None else MAX_PAIRS_WITH_UNITS
        pairs = _kept(candidate_pairs(Xr[:, live], lunits, len(live) ** 2), cap, allowed,
                      table, live)
        ratios: list[tuple[int, int]] = []
        if lunits is None:  # with units the dimensional analysis makes the ratios
            pos = [k for k, c in enumerate(live) if (Xr[:, c] > 0).all()]
            ratios = _kept([(pos[i], pos[j]) for i, j in
                            candidate_pairs(Xr[:, [live[k] for k in pos]], None,
                                            len(pos) ** 2)], MAX_SCALING_PAIRS, allowed,
                           table, live)
        if not pairs and not ratios:
            break
        surrogate, space = _surrogate(Xr[:, live], yr, seed, max_rows)
        entry["surrogate"] = f"{surrogate.description} (of {space})"
        evidence = structure_tests(surrogate, Xr[:, live], kinds=("translation",), pairs=pairs,
                                   random_state=seed) if pairs else []
        if ratios:
            evidence += structure_tests(surrogate, Xr[:, live], kinds=("scaling",),
                                        pairs=ratios, random_state=seed)
        for ev in evidence:
            i, j = ev.parts[0]
            key = "tested" if ev.kind == "translation" else "scaling_tested"
            entry[key].append({
                "pair": [table.names[live[i]], table.names[live[j]]],
                "violation": float(ev.violation), "accepted": bool(ev.accepted),
                **({"reason": ev.reason} if ev.reason else {})})
        accepted = sorted((ev for ev in evidence if ev.accepted), key=lambda ev: ev.violation)
        chosen = disjoint([(live[ev.parts[0][0]], live[ev.parts[0][1]]) for ev in accepted])
        if not chosen:
            break
        kind = {(live[ev.parts[0][0]], live[ev.parts[0][1]]): ev.kind
                for ev in reversed(accepted)}  # the smaller violation wins a pair
        before = set(table.differences)
        table = merge(table, [p for p in chosen if kind[p] == "translation"],
                      [p for p in chosen if kind[p] == "scaling"])
        for n, e in zip(table.names, table.expressions, strict=True):
            d = f"{n} = {sp.sstr(e)}"
            if not isinstance(e, sp.Symbol) and d not in before:
                entry["accepted" if isinstance(e, sp.Add) else "scaling_accepted"].append(d)
        surrogate = None  # the table changed: the separation tests need a new one
    entry["columns"] = list(table.names)
    entry["test_seconds"] = entry["seconds"] = time.monotonic() - t0
    return table, (surrogate if space == "y" else None)


def _kept(pairs: list[tuple[int, int]], cap: int,
          allowed: Callable[[Any, int, int], bool] | None, table: Any, live: list[int]
          ) -> list[tuple[int, int]]:
    """The first ``cap`` of ``pairs`` (indices into ``live``) that ``allowed`` lets merge."""
    if allowed is not None:
        pairs = [(i, j) for i, j in pairs if allowed(table, live[i], live[j])]
    return pairs[:cap]


def _search_translated(table: Any, units: Sequence[Any] | None, y_unit: Any, y_name: str,
                       state: _State, entry: dict[str, Any], *, make_model: Callable[..., Any],
                       time_limit: float | None, max_evals: int | None,
                       loss_threshold: float | None,
                       progress: Callable[[SearchProgress], None] | None) -> None:
    """The translated problem searched: by its dimensionless groups with units, else (or
    when its units do not balance) by an inner search; formulas written back."""
    from eurisko.physics import reduce_by_units

    if units is not None:
        reductions, note = reduce_by_units(table.X, state.y, state.w, list(table.names),
                                           list(table.units), y_unit, y_name=y_name,
                                           alternatives=len(_branches.REDUCED_SHARES))
        if reductions:
            found = _branches.run(
                reductions, make_model, table.names, state.operators, table.X, state.y,
                state.w, _share(time_limit, TRANSLATED_SHARE / sum(_branches.REDUCED_SHARES)),
                None if max_evals is None else max(1, int(TRANSLATED_SHARE * max_evals)),
                loss_threshold, state.exact_loss,
                _branches._offset(progress, state.elapsed(), state.out.n_evals))
            entry["searches"] = found.record
            state.add([table.write_back(p, state.operators) for p in found.guesses], entry,
                      found.n_evals)
            return
        entry["note"] = f"no dimensionless form of the translated columns: {note}"
    seeds: list[Program] = []
    if table.X.shape[1] <= _branches.MAX_ENUMERATED_GROUPS:
        exact, tags, n_evals, seeds = _walk(table.X, state, time_limit, max_evals,
                                            TRANSLATED_SHARE, entry)
        state.add([table.write_back(p, _branches._write_back_operators(state.operators, p))
                   for p in exact], entry, n_evals)
        if exact:
            entry["transform"] = tags[0]
            return
    model = _translated_fit(table, state, make_model, time_limit, max_evals, loss_threshold,
                            progress, seeds)
    entry["searches"] = [{"kind": "inner", "stop_reason": model.stop_reason_,
                          "n_evals": int(model.n_evals_)}]
    state.add([table.write_back(p, state.operators) for p in model.programs_], entry,
              int(model.n_evals_))


def _translated_fit(table: Any, state: _State, make_model: Callable[..., Any],
                    time_limit: float | None, max_evals: int | None,
                    loss_threshold: float | None,
                    progress: Callable[[SearchProgress], None] | None,
                    guesses: Sequence[Program], **params: Any) -> Any:
    """An inner fit of the merged table, with the translated problem's share of the budget
    (``params``: further settings of the inner estimator)."""
    model = make_model(
        time_limit=_share(time_limit, TRANSLATED_SHARE),
        max_evals=None if max_evals is None else max(1, int(TRANSLATED_SHARE * max_evals)),
        loss_threshold=loss_threshold,
        progress=_branches._offset(progress, state.elapsed(), state.out.n_evals), **params)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        model.fit(pd.DataFrame(table.X, columns=list(table.names)), state.y,
                  sample_weight=state.w, guesses=list(guesses))
    return model


def _walk(X: np.ndarray, state: _State, time_limit: float | None, max_evals: int | None,
          share: float, entry: dict[str, Any]
          ) -> tuple[list[Program], list[str | None], int, list[Program]]:
    """`_branches.walk` of a table of at most three columns for the fit's target, with the
    fit's exact-fit rule: ``(exact ones, their transforms, evaluations, seeds)``."""
    y, w = state.y, state.w
    y_var = float(np.average((y - np.average(y, weights=w)) ** 2, weights=w))
    return _branches.walk(X, y, w, state.operators,
                          state.exact_loss if y_var > 0 else None,
                          _branches.walk_time(time_limit, share), entry,
                          _branches.walk_evals(max_evals, share))


def _raw_walk(live: list[int], merged: bool, state: _State, time_limit: float | None,
              max_evals: int | None) -> None:
    """Without units, the walk of the user's table when it has at most three varying columns
    (record kind ``"walk"``): its exact formulas go to the plain search as guesses. Its best
    inexact ones do not: in every island they cost the search its diversity, and on eight
    laws it lost (docs/results/2026-12-07/walk-seeds: 2 of 8 found with them, 4 without).
    After an accepted symmetry whose merged table gave an
    exact formula, it is recorded as skipped; when that table gave none, the user's table is
    walked too (a symmetry accepted in error must not cost the small law its walk)."""
    entry: dict[str, Any] = {"kind": "walk"}
    state.out.record.append(entry)
    if merged and state.exact:
        entry.update(skipped="the table after the accepted symmetries gave an exact formula "
                             "(see the symmetry entry)", seconds=0.0)
        return
    if not live or len(live) > _branches.MAX_ENUMERATED_GROUPS:
        entry.update(skipped=f"{len(live)} varying columns: the walk takes 1 to "
                             f"{_branches.MAX_ENUMERATED_GROUPS}", seconds=0.0)
        return
    t0 = time.monotonic()
    entry["columns"] = [state.names[c] for c in live]
    exact, tags, n_evals, _ = _walk(state.X[:, live], state, time_limit, max_evals,
                                    WALK_SHARE, entry)
    where = np.asarray(live)

    def back(p: Program) -> Program:  # columns of the walked table -> the user's
        args = p.args.copy()
        is_var = p.codes == VAR
        args[is_var] = where[args[is_var]]
        return Program(p.codes.copy(), args, p.consts.copy())

    state.add([back(p) for p in exact], entry, n_evals)
    if exact:
        entry["transform"] = tags[0]
    entry["seconds"] = time.monotonic() - t0


def _separation(table: Any, y: np.ndarray, rows: np.ndarray, surrogate: Any, seed: int,
                state: _State, *, make_model: Callable[..., Any], time_limit: float | None,
                max_evals: int | None, loss_threshold: float | None,
                progress: Callable[[SearchProgress], None] | None) -> None:
    """``f = g(A) + h(B)`` or ``g(A) * h(B)`` tested on the table; when accepted, each part
    searched on its own data (read off the surrogate), the parts recombined, written back."""
    import sympy as sp

    from eurisko.evaluate.base import Dataset
    from eurisko.expr.sympy_bridge import from_sympy
    from eurisko.fit.lm import fit_program
    from eurisko.physics import find_decomposition, fit_surrogate, recombine, split_data

    t0 = time.monotonic()
    entry: dict[str, Any] = {"kind": "separation"}
    state.out.record.append(entry)
    Xr, yr = table.X[rows], y[rows]
    live = [c for c in range(Xr.shape[1]) if np.ptp(Xr[:, c]) > 0]
    if len(live) < 2:
        entry.update(skipped="fewer than 2 varying columns left", seconds=0.0)
        return
    Xl, lnames = Xr[:, live], [table.names[c] for c in live]
    if surrogate is None:
        surrogate = fit_surrogate(Xl, yr, random_state=seed)
    dec = find_decomposition(Xl, yr, surrogate=surrogate, kinds=("additive", "multiplicative"),
                             random_state=seed)
    entry["test_seconds"] = time.monotonic() - t0
    entry["surrogate"] = surrogate.description
    if dec is None:
        entry.update(accepted=None, seconds=time.monotonic() - t0)
        return
    op = " + " if dec.kind == "additive" else " * "
    entry["accepted"] = op.join("g(" + ", ".join(lnames[c] for c in p) + ")" for p in dec.parts)
    entry["violation"] = float(dec.evidence.violation)
    parts = split_data(dec, Xl, yr, lnames)
    formulas: list[list[sp.Expr]] = []
    n_evals = 0
    for part in parts:
        model = make_model(
            time_limit=_share(time_limit, SEPARATED_SHARE / len(parts)),
            max_evals=None if max_evals is None else max(1, int(SEPARATED_SHARE * max_evals
                                                                / len(parts))),
            # a part's data are the surrogate's values: as good as its error, no better
            loss_threshold=max(surrogate.error ** 2, 1e-300),
            progress=_branches._offset(progress, state.elapsed(), state.out.n_evals + n_evals))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            model.fit(part.X, part.y)
        n_evals += int(model.n_evals_)
        picks = dict.fromkeys([model.best_index_, len(model.programs_) - 1])
        formulas.append([model.sympy(i, real=True) for i in picks])
        entry.setdefault("parts", []).append(
            {"variables": list(part.variables), "formula": str(model.sympy()),
             "stop_reason": model.stop_reason_})
    programs: list[Program | None] = []
    data = Dataset.from_arrays(state.X, state.y, state.w)
    for combo in {(0, 0), (len(formulas[0]) - 1, len(formulas[1]) - 1)}:
        whole = recombine(dec, [formulas[0][combo[0]], formulas[1][combo[1]]], lnames)
        try:
            program = from_sympy(table.expression(whole), state.names, state.operators)
        except (ValueError, TypeError, ZeroDivisionError, NotImplementedError):
            continue
        # the parts' constants were fitted to the surrogate's values: re-fit them on the rows
        program, _, _ = fit_program(program, data, linear_scaling=False, max_iter=50)
        programs.append(program)
        n_evals += 50
    state.add(programs, entry, n_evals)
    entry["seconds"] = time.monotonic() - t0


# --- symmetries inside a template's functions ------------------------------------------------

# The surrogate's rows for the tests inside a template: the largest table of the tests'
# calibration (`eurisko.physics.separability`), at an eighth of the cost of 1000 rows. A
# template's search is fast, so the tests must be cheap to be worth their time.
TEMPLATE_SURROGATE_ROWS = 500


def run_template(X: np.ndarray, y: np.ndarray, w: np.ndarray, names: Sequence[str],
                 template: Any, make_model: Callable[..., Any],
                 operators: Sequence[str] | None, time_limit: float | None,
                 max_evals: int | None, loss_threshold: float | None,
                 exact_loss: float | None, progress: Callable[[SearchProgress], None] | None,
                 random_state: int | None) -> tuple[_branches.Branches, bool]:
    """The symmetry tests inside the functions of a ``template``: ``(found, exact)``.

    A pair of variables that only one function of the template uses (``theta`` and
    ``theta1`` in ``f(sigma) * exp(g(sigma, theta, theta1))``) is tested for a translation and
    a scaling symmetry of ``y``, as the free search's tests do. Since no other part of the
    formula sees the pair, a symmetry of ``y`` in it is one of that function (as far as the
    rest of the formula lets ``y`` tell), so an accepted pair becomes one column in that
    function's call, and a template search on the merged table finds a function of fewer
    variables. Its formulas come back in the user's variables, written function by
    function, so that they keep the template's form, as guesses for the template search on
    the raw data (which re-fits and scores them: a wrong merge costs time, nothing else).
    Record kind ``"symmetry"``, as in `run`."""
    from eurisko.physics.translation import Translated

    out = _branches.Branches([], [])
    t_start = time.monotonic()
    rows = w > 0
    owner = _own_columns(template)
    by_hole: dict[int, int] = {}
    for c, k in owner.items():
        if np.ptp(X[rows, c]) > 0:
            by_hole[k] = by_hole.get(k, 0) + 1
    skip = ""
    if int(rows.sum()) < MIN_ROWS:
        skip = (f"{int(rows.sum())} rows: the structure tests need at least {MIN_ROWS} to "
                "judge")
    elif max(by_hole.values(), default=0) < 2:
        skip = "no function of the template has two varying variables of its own"
    if skip:
        out.record.append({"kind": "symmetry", "skipped": skip, "seconds": 0.0})
        return out, False
    seed = 0 if random_state is None else int(random_state)
    state = _State(out, X, y, w, names, operators, exact_loss, t_start)
    column = {n: c for c, n in enumerate(names)}

    def hole_of(table: Any, c: int) -> int | None:
        """The function that owns every user variable of column ``c``, if one does."""
        holes = {owner.get(column.get(s.name, -1)) for s in table.expressions[c].free_symbols}
        return holes.pop() if len(holes) == 1 else None

    def allowed(table: Any, i: int, j: int) -> bool:
        k = hole_of(table, i)
        return k is not None and k == hole_of(table, j)

    table, _ = _translations(Translated.identity(X, names), y, rows, seed, state, allowed,
                             TEMPLATE_SURROGATE_ROWS)
    entry = out.record[-1]
    if table.X.shape[1] == X.shape[1]:
        return _done(state), False
    t0 = time.monotonic()
    # each function's columns of the merged table: those made of its variables alone
    cols = [[k for k in range(len(table.names))
             if {column.get(s.name) for s in table.expressions[k].free_symbols} <= set(vs)]
            for vs in template.hole_vars]
    merged = _merged_template(template, [[table.names[k] for k in ks] for ks in cols])
    model = _translated_fit(table, state, make_model, time_limit, max_evals, loss_threshold,
                            progress, [], template=merged)
    entry["searches"] = [{"kind": "inner", "template": merged,
                          "stop_reason": model.stop_reason_, "n_evals": int(model.n_evals_)}]
    inner = model._template
    back = [_template_written_back(p, inner, template, table, cols, operators)
            for p in model.programs_]
    state.add(back, entry, int(model.n_evals_))
    entry["seconds"] = entry["test_seconds"] + time.monotonic() - t0
    return _done(state), state.exact


def _own_columns(template: Any) -> dict[int, int]:
    """The columns only one function of ``template`` uses (and not its outer form), with the
    function's index."""
    seen: dict[int, list[int]] = {}
    for k, cols in enumerate(template.hole_vars):
        for c in cols:
            seen.setdefault(c, []).append(k)
    outer = {arg for code, arg in template.outer if code == VAR}
    return {c: ks[0] for c, ks in seen.items() if len(ks) == 1 and c not in outer}


def _merged_template(template: Any, hole_names: Sequence[Sequence[str]]) -> str:
    """``template``'s text with each function called with the names given (in order)."""
    import re

    text = template.text
    for name, args in zip(template.hole_names, hole_names, strict=True):
        text = re.sub(rf"\b{re.escape(name)}\s*\([^()]*\)", f"{name}({', '.join(args)})",
                      text, count=1)
    return text


def _template_written_back(p: Program, inner: Any, template: Any, table: Any,
                           hole_columns: Sequence[Sequence[int]],
                           operators: Sequence[str] | None) -> Program | None:
    """A formula of the merged template (``inner``, over ``table``'s columns) as one of the
    user's ``template`` (written, over the user's columns), each function written back on
    its own; None when a function cannot be (its operators)."""
    import sympy as sp

    from eurisko.expr.sympy_bridge import from_sympy, to_sympy

    parts = inner.parts(p)
    if parts is None:
        return None
    holes = []
    for h, cols, user_cols in zip(parts[0], hole_columns, template.hole_vars, strict=True):
        subs = {sp.Symbol(table.names[c], real=True): table.expressions[c] for c in cols}
        try:
            expr = to_sympy(h, [table.names[c] for c in cols]).xreplace(subs)
            holes.append(from_sympy(expr, [template.names[c] for c in user_cols], operators))
        except (ValueError, TypeError, ZeroDivisionError, NotImplementedError):
            return None
    return template.written(template.compose(holes, parts[1]))
