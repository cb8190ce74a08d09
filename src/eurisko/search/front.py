"""From the hall of fame to the final Pareto front, and the rule that picks one formula.

During the search, formulas are rated with linear scaling (y ~ a + b f). The front shows the
formulas a user can copy: ``a`` and ``b`` are folded into the program (and dropped where that
is no worse), constants are polished once more by Levenberg-Marquardt without scaling, and
complexity is counted on that final program.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from eurisko.evaluate.base import Backend, Dataset
from eurisko.evaluate.losses import baseline_loss
from eurisko.expr.operators import CONST, op_code
from eurisko.expr.program import Program, ProgramBatch
from eurisko.expr.simplify import simplify, without_sign_folds
from eurisko.expr.template import Template
from eurisko.fit import fit_constants
from eurisko.search.hall_of_fame import HallOfFame
from eurisko.search.tidy import pruned, tidied

LOSS_FLOOR = 1e-14  # normalised MSE below this is indistinguishable from round-off
FLAT_RATIO = 1e-7  # smallest/largest singular value of a Jacobian: below, constants are tied
PRUNE_TOL = 1e-6  # a term whose removal moves predictions by less than this x their spread goes
PRUNE_ROWS = 2000  # ... judged on at most this many rows, spread over the data
PIN_VALUES = (0.0, 1.0)  # what a tied constant is pinned to (1 takes the constant's sign)


@dataclass
class FrontEntry:
    complexity: int
    program: Program
    loss: float


def fold_scaling(p: Program, a: float, b: float) -> list[Program]:
    """Variants of ``a + b * p`` with and without each of ``a`` and ``b``."""
    mul, add = op_code("mul"), op_code("add")
    out = [p]
    k = p.n_consts
    pb = Program(np.append(p.codes, [CONST, mul]), np.append(p.args, [k, 0]),
                 np.append(p.consts, b))
    out.append(pb)
    for q in (p, pb):
        m = q.n_consts
        out.append(Program(np.append(q.codes, [CONST, add]), np.append(q.args, [m, 0]),
                           np.append(q.consts, a)))
    return out


def final_front(hof: HallOfFame, data: Dataset, backend: Backend, linear_scaling: bool,
                polish_iterations: int = 30,
                operators: Sequence[str] | None = None,
                allowed: Callable[[Program], bool] | None = None,
                template: Template | None = None) -> list[FrontEntry]:
    """The Pareto front of final formulas (loss = plain weighted MSE, no scaling).

    ``operators``: the search's operator set, which simplification may bring in once the
    polished constants show an identity (``cos(x - 1.5707963)`` is ``sin(x)``). ``allowed``:
    the final formulas that may enter (the user's constraints: folding in ``a + b*f`` adds two
    levels of depth, so a searched formula may keep only its unfolded variants).

    ``template``: the search kept this fixed outer form (`eurisko.expr.template`); every
    rewrite here (simplification, sign folds, pinned and snapped constants, the tidy steps) is
    then made within each hole alone, and a formula not of the form never enters."""
    simp = _simplifier(operators, template)
    candidates: list[Program] = []
    for _, p, _, (a, b) in hof.front():
        if linear_scaling:
            candidates.extend(simplify(q, operators) for q in fold_scaling(p, a, b))
        elif template is not None:
            from eurisko.search.template import unscaled_variants

            candidates.extend(simp(q) for q in unscaled_variants(template, p))
        else:
            candidates.append(p)
    if not candidates:
        return []
    batch = ProgramBatch.from_programs(candidates)
    losses = backend.losses(batch, data, False).loss
    y_var = _weighted_var(data)
    if template is None:  # (a term dropped across a template's holes would break its form)
        sample = data.rows(np.unique(np.linspace(0, data.n_rows - 1, PRUNE_ROWS).astype(int)))
        before = candidates
        candidates = pruned(
            candidates, lambda ps: backend.predict(ProgramBatch.from_programs(ps), sample),
            PRUNE_TOL, float(np.std(sample.y)), operators)
        changed = [i for i, (p, q) in enumerate(zip(before, candidates, strict=True)) if p is not q]
        if changed:
            losses = np.array(losses, dtype=float, copy=True)
            losses[changed] = backend.losses(
                ProgramBatch.from_programs([candidates[i] for i in changed]), data, False).loss
            batch = ProgramBatch.from_programs(candidates)
    if polish_iterations > 0 and len(batch.consts):
        fitted = fit_constants(batch, data, backend, max_iter=polish_iterations,
                               linear_scaling=False)
        for i in range(len(candidates)):
            if fitted.loss[i] < losses[i]:
                a, b = batch.const_offsets[i], batch.const_offsets[i + 1]
                candidates[i] = candidates[i].with_consts(fitted.consts[a:b])
                losses[i] = fitted.loss[i]
    candidates, losses = _resimplified(candidates, np.asarray(losses, dtype=float), data,
                                       backend, operators, template)
    within = None if template is None else simp  # (pinning simplifies with no operators)
    candidates, losses = pin_tied_constants(candidates, np.asarray(losses, dtype=float), data,
                                            backend, simplifier=within)
    candidates, losses = snapped_by_evidence(candidates, losses, data, backend, operators,
                                             simplifier=within)
    candidates, losses = tidied(
        candidates, losses,
        lambda ps: backend.losses(ProgramBatch.from_programs(ps), data, False).loss,
        lambda old: old * (1 + 1e-6) + 1e-15 * y_var, operators, template)
    if allowed is not None:
        losses = np.where([allowed(p) for p in candidates], losses, np.inf)
    if template is not None:
        losses = np.where([template.matches(p) for p in candidates], losses, np.inf)
    return pareto(candidates, losses)


def _simplifier(operators: Sequence[str] | None, template: Template | None
                ) -> Callable[[Program], Program]:
    """``simplify`` with ``operators``; within a template, of each hole alone."""
    if template is None:
        return lambda p: simplify(p, operators)

    def simp(p: Program) -> Program:
        q = template.holewise(lambda _, h: simplify(h, operators), p)
        return p if q is None else q

    return simp


def pareto(programs: Sequence[Program], losses: Sequence[float]) -> list[FrontEntry]:
    """The programs that beat every simpler one, by increasing complexity (the first of equal
    ones; non-finite losses left out)."""
    best: dict[int, tuple[Program, float]] = {}
    for p, loss in zip(programs, losses, strict=True):
        if not np.isfinite(loss):
            continue
        c = p.complexity()
        if c not in best or loss < best[c][1]:
            best[c] = (p, float(loss))
    front, floor = [], float("inf")
    for c in sorted(best):
        p, loss = best[c]
        if loss < floor:
            front.append(FrontEntry(c, p, loss))
            floor = loss
    return front


def _weighted_var(data: Dataset) -> float:
    """The yardstick of round-off tolerances: var(y), or the loss of the best constant under
    the data's other loss."""
    y = np.asarray(data.y, dtype=np.float64)
    if not data.loss.is_l2:
        return baseline_loss(y, data.w, data.loss)
    return float(np.average((y - np.average(y, weights=data.w)) ** 2, weights=data.w))


def _resimplified(programs: list[Program], losses: np.ndarray, data: Dataset, backend: Backend,
                  operators: Sequence[str] | None, template: Template | None = None
                  ) -> tuple[list[Program], np.ndarray]:
    """Simplify again after polishing (constants have moved) and try dropping sign folds; keep
    a rewrite whose loss is no worse, to rounding (within ``template``: in each hole)."""
    programs, losses = list(programs), np.array(losses, dtype=float, copy=True)
    simp = _simplifier(operators, template)
    unfold = without_sign_folds if template is None else (
        lambda p: template.holewise(lambda _, h: without_sign_folds(h), p))
    changed = {}
    for i, p in enumerate(programs):
        q = simp(p)
        if not (np.array_equal(q.codes, p.codes) and np.array_equal(q.args, p.args)
                and np.array_equal(q.consts, p.consts)):
            changed[i] = q
    # |e| and sqrt(e^2) where e >= 0 on every row: the loss alone tells, as dropping the fold
    # changes the predictions wherever e < 0
    unsigned = {i: q for i, p in enumerate(programs)
                if (q := unfold(changed.get(i, p))) is not None}
    y_var = _weighted_var(data)
    for rewrites in (changed, unsigned):
        if not rewrites:
            continue
        idx = sorted(rewrites)
        new = backend.losses(ProgramBatch.from_programs([rewrites[i] for i in idx]), data,
                             False).loss
        for i, loss in zip(idx, new, strict=True):
            if loss <= losses[i] * (1 + 1e-6) + 1e-15 * y_var:
                programs[i], losses[i] = rewrites[i], float(loss)
    return programs, losses


def _tied_direction(jac: np.ndarray, sqw: np.ndarray | None) -> np.ndarray | None:
    """The flat direction of a program's constants (unit vector), or None when all are tied
    to the data. ``jac`` is (n_consts, n_rows)."""
    J = jac if sqw is None else jac * sqw
    if not np.all(np.isfinite(J)):
        return None
    _, sv, vt = np.linalg.svd(J.T, full_matrices=False)
    if sv[0] == 0.0:  # no constant changes the output at all
        return np.ones(len(sv)) / np.sqrt(len(sv))
    if sv[-1] > FLAT_RATIO * sv[0]:
        return None
    return vt[-1]


def _pinned_fits(programs: list[Program], trials: list[tuple[int, int, float]], data: Dataset,
                 backend: Backend, steps: int = 8):
    """LM fits with one constant per trial held, walked to its pinned value in ``steps``.

    Tied constants often have to travel far (0.0218 -> 1 moves its partner 2108 -> 1): LM from
    the far end stalls, so the pinned constant moves geometrically and the others follow.
    """
    tb = ProgramBatch.from_programs([programs[i] for i, _, _ in trials])
    at = np.asarray(tb.const_offsets[:-1]) + np.array([p for _, p, _ in trials], dtype=np.int64)
    fixed = np.zeros(len(tb.consts), dtype=bool)
    fixed[at] = True
    start = tb.consts[at]
    target = np.array([v for _, _, v in trials])
    consts = tb.consts.copy()
    fit = None
    for s in range(1, steps + 1):
        geometric = np.abs(start) ** (1 - s / steps) * np.sign(target)
        consts[at] = np.where((target == 0) | (start == 0), target, geometric)
        if s == steps:
            consts[at] = target
        step = ProgramBatch(tb.codes, tb.args, tb.node_offsets, consts, tb.const_offsets)
        fit = fit_constants(step, data, backend, max_iter=30 if s == steps else 10,
                            linear_scaling=False, fixed=fixed)
        consts = fit.consts.copy()
    return fit, tb


SNAP_RTOL = 0.01  # a constant this close to a short number is offered it...
SNAP_MAX_CONSTS = 6  # ... in formulas of at most this many constants


def snapped_by_evidence(programs: list[Program], losses: np.ndarray, data: Dataset,
                        backend: Backend, operators: Sequence[str] | None = None,
                        simplifier: Callable[[Program], Program] | None = None
                        ) -> tuple[list[Program], np.ndarray]:
    """Constants set to short numbers (``6.28301 -> 2*pi``, ``1.00067 -> 1``, ``0.0014 ->
    0``) where the data cannot tell them apart, the other constants re-fitted.

    Noise moves a fitted constant a few digits off the law's, so no tolerance on the constant
    itself says when it is the law's. The loss does: a snapped constant is a parameter fewer,
    and the Bayesian information criterion pays for a parameter with ``log(n)`` in
    ``n * log(loss)`` over ``n`` rows. So each snap is kept while ``n * log(new / old) <=
    k * log(n)`` for the ``k`` constants snapped so far, against the loss before any snap;
    on exact data any wrong snap multiplies the loss by orders of magnitude and is refused.
    Greedy: one constant per formula per round, the one that costs least, each to the
    shortest number the data accept (0, then by denominator). ``simplifier`` replaces
    ``simplify`` with ``operators`` on the snapped formulas."""
    from eurisko.expr.short_numbers import short_candidates

    programs, losses = list(programs), np.array(losses, dtype=float, copy=True)
    w = np.asarray(data.w if data.w is not None else np.ones(len(data.y)), dtype=np.float64)
    n = int(np.count_nonzero(w > 0))
    if n < 3:
        return programs, losses
    base = losses.copy()
    start = [p.consts.tolist() for p in programs]  # a constant's candidates come from its
    held: dict[int, set[int]] = {i: set() for i in range(len(programs))}  # value here too
    for _ in range(SNAP_MAX_CONSTS):
        trials: list[tuple[int, int, float]] = []
        for i, p in enumerate(programs):
            if not (0 < base[i] < np.inf) or not 0 < p.n_consts <= SNAP_MAX_CONSTS:
                continue
            for k, c in enumerate(p.consts.tolist()):
                if k in held[i] or c == 0:
                    continue
                # shortest first: 0, then the candidates as short_candidates orders them, of
                # the value before any snap (re-fits after other snaps move it) and of now
                offer = dict.fromkeys((0.0, *short_candidates(start[i][k], SNAP_RTOL),
                                       *short_candidates(c, SNAP_RTOL)))
                trials.extend((i, k, v) for v in offer if v != c)
        if not trials:
            break
        tb = ProgramBatch.from_programs([programs[i] for i, _, _ in trials])
        fixed = np.zeros(len(tb.consts), dtype=bool)
        consts = tb.consts.copy()
        for t, (i, k, v) in enumerate(trials):
            at = tb.const_offsets[t]
            consts[at + k] = v
            fixed[[at + h for h in (*held[i], k)]] = True
        fit = fit_constants(ProgramBatch(tb.codes, tb.args, tb.node_offsets, consts,
                                         tb.const_offsets), data, backend, max_iter=30,
                            linear_scaling=False, fixed=fixed)
        first: dict[tuple[int, int], tuple[float, int]] = {}  # per constant: the shortest
        for t, (i, k, _) in enumerate(trials):                 # number the data accept
            loss = float(fit.loss[t])
            bic = n * np.log(loss / base[i]) if loss > 0 else -np.inf
            if (np.isfinite(loss) and bic <= (len(held[i]) + 1) * np.log(n)
                    and (i, k) not in first):
                first[(i, k)] = (loss, t)
        best: dict[int, tuple[float, int]] = {}  # per formula: the constant that costs least
        for (i, _), (loss, t) in first.items():
            if i not in best or loss < best[i][0]:
                best[i] = (loss, t)
        if not best:
            break
        for i, (loss, t) in best.items():
            a, b = tb.const_offsets[t], tb.const_offsets[t + 1]
            programs[i] = programs[i].with_consts(fit.consts[a:b])
            losses[i] = loss
            held[i].add(trials[t][1])
    simp = simplifier or (lambda p: simplify(p, operators))
    for i in held:  # 0 - x is -x, 1*x is x: ``operators`` as the search's (neg may be new)
        if held[i]:
            programs[i] = simp(programs[i])
    return programs, losses


def pin_tied_constants(programs: list[Program], losses: np.ndarray, data: Dataset,
                       backend: Backend, max_rounds: int = 4,
                       simplifier: Callable[[Program], Program] | None = None
                       ) -> tuple[list[Program], np.ndarray]:
    """Pin constants the data cannot tell apart to 0 or ±1, re-fitting the others.

    A search readily finds ``0.0218*sqrt(2108 + 2108/u)``: exact, but its three constants are
    tied (only ``0.0218**2 * 2108`` matters), so no rounding of them gives back ``sqrt(1 + 1/u)``.
    Where the Jacobian of a program's constants is singular, the constant that moves most along
    the flat direction is pinned (0 first, then ±1), the rest re-fitted by LM, and the pinned
    program kept (simplified) when its loss is no worse: the same formula, with constants that
    the data fixes and that round cleanly. Repeats while some program still has tied constants.
    ``simplifier`` replaces ``simplify`` on the pinned programs.
    """
    simp = simplifier or simplify
    programs, losses = list(programs), np.array(losses, dtype=float, copy=True)
    sqw = None if data.w is None else np.sqrt(np.asarray(data.w, dtype=np.float64))
    y_var = _weighted_var(data)
    for _ in range(max_rounds):
        idx = [i for i, p in enumerate(programs) if p.n_consts and np.isfinite(losses[i])]
        if not idx:
            break
        batch = ProgramBatch.from_programs([programs[i] for i in idx])
        _, jac = backend.jacobian(batch, data)
        trials: list[tuple[int, int, float]] = []  # (program index, pinned const, value)
        for j, i in enumerate(idx):
            a, b = batch.const_offsets[j], batch.const_offsets[j + 1]
            v = _tied_direction(np.asarray(jac[a:b], dtype=np.float64), sqw)
            if v is None:
                continue
            pin = int(np.argmax(np.abs(v)))
            c = float(programs[i].consts[pin])
            trials.extend((i, pin, value * (-1.0 if c < 0 else 1.0)) for value in PIN_VALUES)
        if not trials:
            break
        fit, tb = _pinned_fits(programs, trials, data, backend)
        changed = set()
        for t, (i, _, _) in enumerate(trials):
            if i in changed or not fit.loss[t] <= losses[i] * (1 + 1e-6) + 1e-15 * y_var:
                continue
            a, b = tb.const_offsets[t], tb.const_offsets[t + 1]
            programs[i] = simp(programs[i].with_consts(fit.consts[a:b]))
            changed.add(i)
        if not changed:
            break
        done = sorted(changed)
        res = backend.losses(ProgramBatch.from_programs([programs[i] for i in done]), data, False)
        losses[done] = res.loss
    return programs, losses


def inlier_losses(programs: Sequence[Program], data: Dataset, backend: Backend
                  ) -> tuple[np.ndarray, float]:
    """What the selection compares under a loss other than l2: each program's loss on the rows
    that the last (most accurate) program fits, and the best constant's loss on them.

    Those rows are the ones whose residual lies within 3 robust standard deviations (1.4826
    MAD) of the median residual of the last program. Gross outliers add about the same loss
    to every good formula, which squeezes the ratios the selection rule reads (an exact law
    and a rough approximation both sit within 1.5x of each other); on the rows the best
    formula explains, the ratios are as telling as least squares' on clean data.
    """
    if not len(programs):
        raise ValueError("the front is empty")
    y = np.asarray(data.y, dtype=np.float64)
    with np.errstate(all="ignore"):
        f = np.asarray(backend.predict(ProgramBatch.from_programs([programs[-1]]), data)[0],
                       dtype=np.float64)
        r = f - y
        med = np.median(r)
        keep = np.abs(r - med) <= 3.0 * 1.482602218505602 * np.median(np.abs(r - med))
    if not np.isfinite(r).all() or keep.sum() < 2:
        keep = np.ones(len(y), dtype=bool)
    sub = data.rows(keep)
    losses = backend.losses(ProgramBatch.from_programs(list(programs)), sub, False).loss
    return np.asarray(losses, dtype=float), baseline_loss(sub.y, sub.w, data.loss)


MODEL_SELECTIONS = ("auto", "best", "accuracy", "score", "bic", "mdl")
SMALL_DATA_ROWS = 100  # "auto" judges fronts fitted on fewer rows than this by "mdl"


def select_index(losses: np.ndarray, complexities: np.ndarray, y_var: float,
                 model_selection: str = "best", n_rows: int | None = None,
                 n_symbols: int | None = None) -> int:
    """The front row a rule selects (PySR's three rules, BIC, MDL and "auto").

    Losses are normalised by the variance of y and clipped below at ``LOSS_FLOOR`` (so two
    exact fits that differ only in round-off tie). The score of a row is its drop of log-loss
    per unit of complexity from the row before it (0 for the first row).

    - ``"best"`` (PySR's default): among the rows whose loss is within 1.5x of the lowest,
      the highest score.
    - ``"accuracy"``: the lowest loss.
    - ``"score"``: the highest score over the whole front.
    - ``"bic"``: the lowest ``n log(loss) + complexity log(n)`` for ``n_rows`` rows, the
      Bayesian information criterion with each unit of complexity counted as a parameter.
      Each unit must buy a factor ``n**(1/n)`` of loss (1.16 on 20 rows, 1.05 on 100): on few
      rows a larger formula has to explain more than noise to be chosen.
    - ``"mdl"``: the lowest ``n log(loss) + complexity (log(n) + 2 log(n_symbols))``: BIC plus
      the length of the formula's own code, each node one choice among the ``n_symbols`` it
      could have been (the search's operators, the variables and a constant), as in the
      minimum description length of Bartlett, Desmond & Ferreira (2023). A search that tries
      millions of formulas on 20 rows finds some that thread the noise; charging each node
      for the choice it made is what makes such a find cost what it is worth. Each unit must
      buy a factor ``(n * n_symbols**2)**(1/n)`` of loss (2.1 on 20 rows and 13 symbols).
    - ``"auto"``: ``"mdl"`` below ``SMALL_DATA_ROWS`` rows (``"bic"`` without
      ``n_symbols``); from there on, the lowest BIC
      among the rows of PySR's 1.5x window. On many rows BIC's penalty is small against
      ``n log(loss ratio)``, and over the whole front it would buy a bloated formula's last
      per cent; inside the window it still reads a ratio the noise cannot explain, which the
      steepest drop does not: on I.15.10 at 1% noise, ``m_0*v/cos(v/c)`` (8 nodes) has 1.39x
      the loss of ``m_0*v/sqrt(1 - (v/c)^2)`` (11 nodes), 750 log 1.39 = 247 against
      3 log 750 = 20. Exact fits sit on the floor, so among them the simplest wins.

    Ties go to the simpler formula.
    """
    if len(losses) == 0:
        raise ValueError("the front is empty")
    if model_selection not in MODEL_SELECTIONS:
        raise ValueError(f"model_selection must be one of {', '.join(MODEL_SELECTIONS)}, got "
                         f"{model_selection!r}")
    nl = np.maximum(np.asarray(losses, dtype=float) / max(y_var, 1e-300), LOSS_FLOOR)
    comps = np.asarray(complexities, dtype=float)
    window = nl <= 1.5 * nl.min()
    if model_selection == "auto":
        if n_rows is None or n_rows < 2:  # a run saved without its rows: PySR's rule
            model_selection = "best"
        elif n_rows < SMALL_DATA_ROWS:
            model_selection = "bic" if n_symbols is None else "mdl"
    if model_selection == "accuracy":
        return int(np.argmin(nl))
    if model_selection in ("bic", "mdl", "auto"):
        if n_rows is None or n_rows < 2:
            raise ValueError(f"model_selection={model_selection!r} needs the number of rows "
                             "(n_rows >= 2)")
        per_unit = np.log(n_rows)
        if model_selection == "mdl":
            if n_symbols is None or n_symbols < 1:
                raise ValueError("model_selection='mdl' needs the number of symbols a formula "
                                 "is written in (n_symbols >= 1)")
            per_unit += 2.0 * np.log(n_symbols)
        crit = n_rows * np.log(nl) + comps * per_unit
        if model_selection == "auto":
            crit[~window] = np.inf
        return int(np.flatnonzero(crit <= crit.min() + 1e-9 * abs(crit.min()))[0])
    ok = window if model_selection == "best" else np.ones(len(nl), dtype=bool)
    best_i, best_score = int(np.argmax(ok)), -np.inf
    for i in range(len(nl)):
        if not ok[i]:
            continue
        if i == 0:
            score = 0.0
        else:
            dc = max(comps[i] - comps[i - 1], 1)
            score = -(np.log(nl[i]) - np.log(nl[i - 1])) / dc
        if score > best_score + 1e-12:
            best_i, best_score = i, score
    return best_i
