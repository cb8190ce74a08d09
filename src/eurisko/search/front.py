"""From the hall of fame to the final Pareto front, and the rule that picks one formula.

During the search, formulas are rated with linear scaling (y ~ a + b f). The front shows the
formulas a user can copy: ``a`` and ``b`` are folded into the program (and dropped where that
is no worse), constants are polished once more by Levenberg-Marquardt without scaling, and
complexity is counted on that final program.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from eurisko.evaluate.base import Backend, Dataset
from eurisko.expr.operators import CONST, op_code
from eurisko.expr.program import Program, ProgramBatch
from eurisko.expr.simplify import simplify
from eurisko.fit import fit_constants
from eurisko.search.hall_of_fame import HallOfFame

LOSS_FLOOR = 1e-14  # normalised MSE below this is indistinguishable from round-off


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
                polish_iterations: int = 30) -> list[FrontEntry]:
    """The Pareto front of final formulas (loss = plain weighted MSE, no scaling)."""
    candidates: list[Program] = []
    for _, p, _, (a, b) in hof.front():
        if linear_scaling:
            candidates.extend(simplify(q) for q in fold_scaling(p, a, b))
        else:
            candidates.append(p)
    if not candidates:
        return []
    batch = ProgramBatch.from_programs(candidates)
    losses = backend.losses(batch, data, False).loss
    if polish_iterations > 0 and len(batch.consts):
        fitted = fit_constants(batch, data, backend, max_iter=polish_iterations,
                               linear_scaling=False)
        for i in range(len(candidates)):
            if fitted.loss[i] < losses[i]:
                a, b = batch.const_offsets[i], batch.const_offsets[i + 1]
                candidates[i] = candidates[i].with_consts(fitted.consts[a:b])
                losses[i] = fitted.loss[i]
    best: dict[int, tuple[Program, float]] = {}
    for p, loss in zip(candidates, losses, strict=True):
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


def select_index(losses: np.ndarray, complexities: np.ndarray, y_var: float) -> int:
    """PySR's rule with a round-off floor.

    Losses are normalised by the variance of y and clipped below at ``LOSS_FLOOR`` (so two exact
    fits that differ only in round-off tie). Among the front rows whose clipped loss is within
    1.5x of the best, pick the one with the steepest drop of log-loss per unit of complexity from
    the row before it; ties go to the simpler formula.
    """
    if len(losses) == 0:
        raise ValueError("the front is empty")
    nl = np.maximum(np.asarray(losses, dtype=float) / max(y_var, 1e-300), LOSS_FLOOR)
    ok = nl <= 1.5 * nl.min()
    best_i, best_score = int(np.argmax(ok)), -np.inf
    for i in range(len(nl)):
        if not ok[i]:
            continue
        if i == 0:
            score = 0.0
        else:
            dc = max(complexities[i] - complexities[i - 1], 1)
            score = -(np.log(nl[i]) - np.log(nl[i - 1])) / dc
        if score > best_score + 1e-12:
            best_i, best_score = i, score
    return best_i
