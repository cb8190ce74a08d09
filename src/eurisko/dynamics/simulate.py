"""Integrate a discovered system without hanging on a bad one.

A wrong model can blow up (a spurious cubic term) or turn stiff and crawl. `integrate` runs one
of `scipy.integrate.solve_ivp`'s solvers step by step, so it can stop when the wall-clock
limit passes or the state leaves a bound, and return what it had: the requested times up to the
failure, NaN after it, and a status that says what happened.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from eurisko.validation import check_choice, check_number

__all__ = ["SimulationResult", "SimulationWarning", "integrate"]


class SimulationWarning(RuntimeWarning):
    """The simulation stopped early: divergence, wall-clock limit or solver failure."""


@dataclass
class SimulationResult:
    """States at the requested times (NaN after a failure) and how the integration ended."""

    t: np.ndarray
    x: np.ndarray
    status: str  # "ok", "diverged", "time_limit", "failed"
    message: str
    t_end: float  # last time reached

    @property
    def ok(self) -> bool:
        return self.status == "ok"


def integrate(rhs: Callable[[np.ndarray], np.ndarray], x0: np.ndarray, t: np.ndarray, *,
              time_limit: float | None = 10.0, bound: float | None = None,
              method: str = "LSODA", rtol: float = 1e-8, atol: float = 1e-10
              ) -> SimulationResult:
    """Integrate ``dx/dt = rhs(x)`` from ``x0`` and report the states at times ``t``.

    ``bound``: the run counts as diverged once any state exceeds it in size (default
    ``1e6 * (1 + max|x0|)``). ``time_limit``: seconds of wall clock before giving up.
    """
    from scipy.integrate import DOP853, LSODA, RK45, Radau

    solvers = {"LSODA": LSODA, "RK45": RK45, "DOP853": DOP853, "Radau": Radau}
    method = check_choice(method, "method", tuple(solvers), hint="an ODE solver of SciPy")
    time_limit = check_number(time_limit, "time_limit", low=0, low_open=True, none_ok=True,
                              what="seconds")
    bound = check_number(bound, "bound", low=0, none_ok=True)
    rtol = check_number(rtol, "rtol", low=0, low_open=True)
    atol = check_number(atol, "atol", low=0, low_open=True)
    t = np.asarray(t, dtype=np.float64)
    x0 = np.asarray(x0, dtype=np.float64).ravel()
    out = np.full((len(t), x0.size), np.nan)
    if len(t) == 0:
        return SimulationResult(t, out, "ok", "", float("nan"))
    if not np.isfinite(x0).all():
        return SimulationResult(t, out, "failed", "the initial state is not finite", t[0])
    if bound is None:
        bound = 1e6 * (1.0 + float(np.max(np.abs(x0))))
    out[0] = x0
    if len(t) == 1:
        return SimulationResult(t, out, "ok", "", t[0])

    def fun(_s, x):
        with np.errstate(all="ignore"):
            return np.asarray(rhs(x[None, :]), dtype=np.float64).ravel()

    started = time.monotonic()
    solver = solvers[method](fun, t[0], x0, t[-1], rtol=rtol, atol=atol)
    k = 1  # next requested time to fill
    status, message = "ok", ""
    while solver.status == "running":
        try:
            msg = solver.step()
        except (FloatingPointError, ValueError, OverflowError, ZeroDivisionError) as exc:
            status, message = "failed", f"the solver failed: {exc}"
            break
        if solver.status == "failed":
            status, message = "failed", f"the solver failed: {msg}"
            break
        y = solver.y
        if not np.isfinite(y).all() or np.max(np.abs(y)) > bound:
            status = "diverged"
            message = f"the solution left |x| < {bound:.3g} near t={solver.t:.6g}"
            break
        j = int(np.searchsorted(t, solver.t, side="right"))
        if j > k and solver.t_old is not None:
            out[k:j] = solver.dense_output()(t[k:j]).T
            k = j
        if time_limit is not None and time.monotonic() - started > time_limit:
            if solver.status == "running":
                status = "time_limit"
                message = (f"stopped after {time_limit:g} s of wall clock at t={solver.t:.6g} "
                           "(the model may be stiff or nearly diverging)")
            break
    t_end = float(solver.t)
    if status == "ok" and k < len(t):
        out[k:] = solver.y  # the last requested time equals the final step
        k = len(t)
    return SimulationResult(t, out, status, message, t_end)


def warn_if_failed(res: SimulationResult) -> None:
    """Tell the user, once, that the returned trajectory stops early (NaN after)."""
    if not res.ok:
        warnings.warn(f"simulation stopped early: {res.message}; the states after that are NaN",
                      SimulationWarning, stacklevel=3)
