"""Levenberg-Marquardt for the constants of many formulas at once.

Backends are fast on many programs per call and slow on one, so each LM round makes at most one
``backend.jacobian`` call (the programs whose constants moved since their last Jacobian) and one
``backend.losses`` call (every program's trial step). J^T W J is built per group of programs with
the same constant count (one stacked product each) and the small damped normal equations of all
programs are solved as one stacked numpy solve.

With linear scaling the model is ``a + b * f(x; c)`` and ``a, b`` are fitted jointly with ``c``
(as Operon does): the Jacobian of ``f`` is scaled by ``b`` and the columns ``1`` and ``f`` are
appended. Trial steps are rated with ``backend.losses(..., linear_scaling=True)``, i.e. with the
closed-form ``a, b`` for the trial ``c``; that loss is never above the one of LM's own ``a, b``,
so the LM model's predicted reduction stays a fair yardstick, and after each accepted step
``a, b`` restart from the closed form. The loss reported is therefore exactly the backend's.

Damping is Marquardt's (``mu * diag(J^T W J)``, so it does not care about the units of a
constant) with Nielsen's update of ``mu``.

Other losses (``data.loss``, `evaluate.losses`): iteratively reweighted least squares on the
same Jacobians. Each Jacobian comes with IRLS weights ``rho'(r) / (2 r)`` of the current
residuals, the damped step solves the reweighted least-squares problem, and the trial is
judged by the loss itself (``backend.losses``). The reweighted sum of squares majorises the
loss (for ``rho(sqrt(s))`` concave, as for every built-in), so a step that lowers it lowers the
loss at least as much and Nielsen's gain ratio keeps its meaning; a loss that is not
majorised this way still only ever accepts steps that lower it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from eurisko.evaluate.base import Backend, Dataset, Losses
from eurisko.expr.program import Program, ProgramBatch
from eurisko.fit._lm_kernels import (
    damped_steps,
    judge_steps,
    normal_equations,
    propose_steps,
    take_programs,
)
from eurisko.validation import check_bool, check_instance, check_int, check_number

__all__ = ["FitResult", "fit_constants", "fit_program"]

_MU0 = 1e-3  # initial damping, relative to diag(J^T W J)
_MU_MAX = 1e16  # past this a step is too short to matter: the program stops
_DIAG_FLOOR = 1e-12  # floor of the damping diagonal, relative to its largest entry


@dataclass(eq=False)
class FitResult:
    """What ``fit_constants`` found.

    Attributes
    ----------
    consts : (n_consts_total,) fitted constants, laid out as ``batch.consts``; a program keeps
        its starting constants unless LM found lower loss.
    loss : (n_programs,) weighted MSE at ``consts`` exactly as ``backend.losses`` reports it
        (after linear scaling when it is on), inf where the output is not finite.
    scale : (n_programs, 2) the ``(a, b)`` of linear scaling, ``(0, 1)`` when it is off.
    n_jacobians : program Jacobians evaluated (one per program per ``jacobian`` call).
    n_evals : program evaluations of any kind: Jacobians plus every program rated by
        ``losses`` (the starting point, unless given as ``start``, and each trial step); what
        the search counts as cost.
    n_iter : LM rounds run.
    """

    consts: np.ndarray
    loss: np.ndarray
    scale: np.ndarray
    n_jacobians: int
    n_evals: int
    n_iter: int

    def apply(self, batch: ProgramBatch) -> ProgramBatch:
        """``batch`` with the fitted constants (shares the node arrays)."""
        return ProgramBatch(batch.codes, batch.args, batch.node_offsets, self.consts.copy(),
                            batch.const_offsets)


def _subset(batch: ProgramBatch, idx: np.ndarray, consts: np.ndarray) -> ProgramBatch:
    """Programs ``idx`` of ``batch`` with their constants taken from the flat ``consts``."""
    return ProgramBatch(*take_programs(
        batch.codes, batch.args, np.asarray(batch.node_offsets, dtype=np.int64),
        np.asarray(batch.const_offsets, dtype=np.int64), consts,
        np.asarray(idx, dtype=np.int64)))


def _check(batch: ProgramBatch, data: Dataset, backend: Backend, max_iter: int, tol: float
           ) -> tuple[np.ndarray, np.ndarray | None]:
    check_instance(batch, "batch", ProgramBatch, expected="a ProgramBatch",
                   hint="build one with ProgramBatch.from_programs([...])")
    check_instance(data, "data", Dataset, expected="an evaluate.Dataset",
                   hint="build one with Dataset.from_arrays(X, y)")
    if data.y is None:
        raise ValueError("fitting constants needs a target: build the Dataset with y")
    for meth in ("jacobian", "losses"):
        if not callable(getattr(backend, meth, None)):
            raise TypeError(f"backend must have a {meth}() method (see evaluate.Backend), "
                            f"got {type(backend).__name__}")
    check_int(max_iter, "max_iter", low=0, what="LM rounds")
    check_number(tol, "tol", low=0)
    y = np.asarray(data.y, dtype=np.float64)
    if y.shape != (data.n_rows,):
        raise ValueError(f"data.y must hold one value per row ({data.n_rows}), got shape {y.shape}")
    if data.w is None:
        return y, None
    w = np.asarray(data.w, dtype=np.float64)
    if w.shape != y.shape:
        raise ValueError(f"data.w must hold one weight per row ({data.n_rows}), got {w.shape}")
    if not np.all(np.isfinite(w)) or np.any(w < 0) or not w.sum() > 0:
        raise ValueError("data.w must be finite and non-negative with a positive sum")
    return y, w


def fit_constants(
    batch: ProgramBatch,
    data: Dataset,
    backend: Backend,
    *,
    max_iter: int = 10,
    linear_scaling: bool = True,
    tol: float = 1e-10,
    fixed: np.ndarray | None = None,
    start: Losses | None = None,
) -> FitResult:
    """Fit the constants of every program in ``batch`` to ``data`` by Levenberg-Marquardt.

    Minimises ``sum(w * r**2)`` with ``r = a + b * f(x; c) - y`` (``r = f - y`` without linear
    scaling), or ``sum(w * rho(r))`` for the data's other loss (by IRLS inside LM, see the
    module docstring), each program on its own but all evaluated together. Never raises on a
    bad program: one whose Jacobian is not finite stops and keeps its best constants; one that
    is not finite at the start, or has no constants, just gets its loss. The result is never
    worse than the start.

    Parameters
    ----------
    batch : the programs, with their starting constants.
    data : rows to fit, with ``y`` (and optional weights ``w``).
    backend : any ``evaluate.Backend``.
    max_iter : LM rounds; each costs at most one ``jacobian`` and one ``losses`` call.
    linear_scaling : fit ``a + b * f`` (the loss the search uses) instead of ``f``.
    tol : a program stops when a step lowers its loss by less than ``tol`` relatively, when its
        step is shorter than ``tol`` relative to its constants, when its gradient is orthogonal
        to the residual within ``tol``, or when its loss is below ``tol**2 * mean(w y**2)``.
    fixed : optional boolean mask over ``batch.consts``: constants held at their starting
        value (their Jacobian column is zeroed, so LM never moves them).
    start : ``backend.losses(batch, data, linear_scaling)`` when the caller already has it
        (the search does): saves evaluating the starting point again.
    """
    y, w = _check(batch, data, backend, max_iter, tol)
    if fixed is not None:
        fixed = np.asarray(fixed)
        if fixed.dtype != bool or fixed.shape != (len(batch.consts),):
            raise ValueError(f"fixed must be a boolean mask with one entry per constant "
                             f"({len(batch.consts)}), got {fixed.dtype} {fixed.shape}")
    ls = check_bool(linear_scaling, "linear_scaling")
    n = batch.n_programs
    coff = np.asarray(batch.const_offsets, dtype=np.int64)
    k = np.diff(coff)
    consts = np.array(batch.consts, dtype=np.float64, copy=True)
    if n == 0:
        return FitResult(consts, np.zeros(0), np.zeros((0, 2)), 0, 0, 0)

    n_evals, n_jac, n_iter = 0, 0, 0
    if start is None:
        start = backend.losses(batch, data, ls)
        n_evals = n
    loss = np.array(start.loss, dtype=np.float64, copy=True)
    scale = np.array(start.scale, dtype=np.float64, copy=True)
    if loss.shape != (n,) or scale.shape != (n, 2):
        raise ValueError(f"start must hold the losses of the {n} programs and their (a, b), "
                         f"got shapes {loss.shape} and {scale.shape}")

    extra = 2 if ls else 0
    m = k + extra  # unknowns per program: its constants, then a and b
    M = int(m.max())
    sw = float(w.sum()) if w is not None else float(len(y))
    y2 = float((y * y @ w) / sw) if w is not None else float(y @ y / sw)
    loss_floor = tol * tol * y2
    spec = data.loss
    robust = not spec.is_l2
    if robust:  # the same floor in the loss's units: every residual at tol * rms(y)
        loss_floor = float(spec.value(np.array([tol * np.sqrt(y2)]))[0])
    no_rw = np.zeros((0, 0))
    wv = np.ones_like(y) if w is None else w
    free = np.ones(len(consts)) if fixed is None else (~fixed).astype(np.float64)
    active = (k > 0) & np.isfinite(loss) & (max_iter > 0) & (loss > loss_floor)
    stale = active.copy()  # constants moved since the last Jacobian
    mu = np.full(n, _MU0)
    nu = np.full(n, 2.0)
    A = np.zeros((n, M, M))  # J^T W J (each program uses its top-left m x m block)
    g = np.zeros((n, M))  # J^T W r
    Jn = np.zeros(n)  # largest cosine between the residual and a Jacobian column

    with np.errstate(all="ignore"):
        for _ in range(max_iter):
            if not active.any():
                break
            n_iter += 1
            need = np.flatnonzero(active & stale)
            if len(need):
                sub = _subset(batch, need, consts)
                pred, jac = backend.jacobian(sub, data)
                n_jac += len(need)
                n_evals += len(need)
                pred = np.ascontiguousarray(pred, dtype=np.float64)
                rw = no_rw
                if robust:
                    res = (scale[need, :1] + scale[need, 1:] * pred - y) if ls else pred - y
                    rw = np.ascontiguousarray(spec.weights(res), dtype=np.float64)
                normal_equations(np.ascontiguousarray(jac, dtype=np.float64), pred,
                                 np.asarray(sub.const_offsets, dtype=np.int64), need, k, coff,
                                 free, scale, y, wv, ls, loss, sw, A, g, Jn, active, rw)
                stale[need] = False
                active[need[Jn[need] <= tol]] = False

            idx = np.flatnonzero(active)
            if not len(idx):
                break
            delta, pred_red, step = damped_steps(A, g, mu, m, k, idx, _DIAG_FLOOR)
            # step on the constants only (a and b restart from their closed form)
            go, trial = propose_steps(consts, coff, k, idx, delta, step, tol, active, mu, nu)
            if not len(go):
                continue
            idx = idx[go]
            res = backend.losses(_subset(batch, idx, trial), data, ls)
            n_evals += len(idx)
            judge_steps(idx, np.asarray(res.loss, dtype=np.float64),
                        np.asarray(res.scale, dtype=np.float64), pred_red[go], consts, trial,
                        coff, k, loss, scale, stale, mu, nu, active, sw, tol, loss_floor,
                        _MU_MAX)

    return FitResult(consts, loss, scale, n_jac, n_evals, n_iter)


def fit_program(
    program: Program, data: Dataset, backend: Backend | None = None, **kw
) -> tuple[Program, float, tuple[float, float]]:
    """Fit one program's constants; ``kw`` as for ``fit_constants``.

    Returns ``(program with fitted constants, loss, (a, b))``. The backend defaults to the numpy
    reference, which needs no compilation and is quick enough for one formula.
    """
    check_instance(program, "program", Program, expected="an expr.Program",
                   hint="parse text with expr.parse('...')")
    if backend is None:
        from eurisko.evaluate.reference import NumpyBackend

        backend = NumpyBackend()
    res = fit_constants(ProgramBatch.from_programs([program]), data, backend, **kw)
    return (program.with_consts(res.consts), float(res.loss[0]),
            (float(res.scale[0, 0]), float(res.scale[0, 1])))
