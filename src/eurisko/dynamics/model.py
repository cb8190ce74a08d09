"""`ODEModel`: a discovered system dx/dt = f(x), to read, simulate, score and save."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import sympy as sp

from eurisko.atomic import jsonable
from eurisko.dynamics._validation import as_trajectories
from eurisko.dynamics.simulate import SimulationResult, integrate, warn_if_failed
from eurisko.validation import check_number

__all__ = ["ODEModel", "Equation"]


def round_sig(expr: sp.Expr, digits: int) -> sp.Expr:
    """``expr`` with every float rounded to ``digits`` significant digits (integers kept)."""
    reps = {}
    for f in expr.atoms(sp.Float):
        v = float(f)
        if v == 0:
            reps[f] = sp.Integer(0)
            continue
        r = float(f"{v:.{digits}g}")
        reps[f] = sp.Integer(int(r)) if r == int(r) and abs(r) < 1e15 else sp.Float(r, digits)
    return expr.xreplace(reps) if reps else expr


@dataclass
class Equation:
    """One right-hand side: how to evaluate it, its SymPy form and where it came from."""

    expr: sp.Expr  # full precision, in real symbols named after the states
    source: str  # "sparse", "symbolic", "hybrid" (sparse over found terms) or "given"
    digits: int = 4  # significant digits worth printing, from the fit's precision
    evaluator: Any = None  # callable X (n, d) -> (n,); None: compiled from expr
    info: dict[str, Any] = field(default_factory=dict)
    linear: Any = None  # (library, coef): f = library.transform(X) @ coef, shared per call

    def __call__(self, X: np.ndarray) -> np.ndarray:
        with np.errstate(all="ignore"):
            v = np.asarray(self.evaluator(X), dtype=np.float64)
        return np.broadcast_to(v, (X.shape[0],)) if v.ndim == 0 else v

    @property
    def rounded(self) -> sp.Expr:
        return round_sig(self.expr, self.digits)


class ODEModel:
    """A system of first-order ODEs, dx_i/dt = f_i(x), found in data by `discover_ode`.

    Attributes
    ----------
    names : list of str
        The states.
    equations : list of sympy.Eq
        ``Eq(Derivative(x(t), t), f(x(t)))``, constants rounded to the digits the fit supports.
    info : dict
        How the model was found: differentiator, formulation, noise level, held-out R² and
        source (sparse regression or symbolic regression) of each equation, timings.
    """

    def __init__(self, names: Sequence[str], equations: Sequence[Equation],
                 info: dict[str, Any] | None = None, bound: float | None = None):
        self.names = list(names)
        self._eqs = list(equations)
        if len(self._eqs) != len(self.names):
            raise ValueError(f"{len(self._eqs)} equations for {len(self.names)} states")
        self.info = dict(info or {})
        self.bound = bound
        for eq in self._eqs:  # formulas without an evaluator: compile the SymPy form
            if eq.evaluator is None:
                f = sp.lambdify(self.symbols, eq.expr, modules="numpy")
                eq.evaluator = lambda X, f=f: f(*X.T)
        groups: dict[int, tuple[Any, list[int], list[np.ndarray]]] = {}
        for j, eq in enumerate(self._eqs):
            if eq.linear is not None:
                lib, coef = eq.linear
                groups.setdefault(id(lib), (lib, [], []))[1].append(j)
                groups[id(lib)][2].append(np.asarray(coef, dtype=np.float64))
        self._linear_groups = [(lib, np.array(idx), np.column_stack(cs))
                               for lib, idx, cs in groups.values()]

    # --- reading -----------------------------------------------------------------------

    @property
    def symbols(self) -> list[sp.Symbol]:
        return [sp.Symbol(n, real=True) for n in self.names]

    def rhs_exprs(self, rounded: bool = True) -> list[sp.Expr]:
        """The right-hand sides as SymPy expressions of the state symbols."""
        return [e.rounded if rounded else e.expr for e in self._eqs]

    @property
    def equations(self) -> list[sp.Eq]:
        """``[Eq(Derivative(x(t), t), f(x(t), ...)), ...]`` with sensibly rounded constants."""
        t = sp.Symbol("t", real=True)
        funcs = {s: sp.Function(s.name)(t) for s in self.symbols}
        return [sp.Eq(sp.Derivative(funcs[s], t), e.xreplace(funcs))
                for s, e in zip(self.symbols, self.rhs_exprs(), strict=True)]

    def equation_strings(self) -> list[str]:
        """``"dx/dt = ..."`` lines, as printed."""
        return [f"d{n}/dt = {sp.sstr(e)}" for n, e in zip(self.names, self.rhs_exprs(),
                                                          strict=True)]

    @property
    def sources(self) -> list[str]:
        return [e.source for e in self._eqs]

    def __str__(self) -> str:
        return "\n".join(self.equation_strings())

    def __repr__(self) -> str:
        return f"ODEModel({'; '.join(self.equation_strings())})"

    # --- using -------------------------------------------------------------------------

    def rhs(self, X: np.ndarray) -> np.ndarray:
        """dx/dt at states ``X`` (n_samples, n_states) or at one state (n_states,)."""
        X = np.asarray(X, dtype=np.float64)
        one = X.ndim == 1
        X2 = X[None, :] if one else X
        if X2.ndim != 2 or X2.shape[1] != len(self.names):
            raise ValueError(f"states must have {len(self.names)} columns "
                             f"({', '.join(self.names)}); got shape {X.shape}")
        out = np.empty((X2.shape[0], len(self._eqs)))
        done = np.zeros(len(self._eqs), dtype=bool)
        for lib, idx, C in self._linear_groups:  # sparse equations over one library: one pass
            with np.errstate(all="ignore"):
                out[:, idx] = lib.transform(X2) @ C
            done[idx] = True
        for j, eq in enumerate(self._eqs):
            if not done[j]:
                out[:, j] = eq(X2)
        return out[0] if one else out

    def simulate_result(self, x0: Sequence[float], t: Sequence[float], *,
                        time_limit: float | None = 10.0, method: str = "LSODA",
                        rtol: float = 1e-8, atol: float = 1e-10) -> SimulationResult:
        """Like `simulate`, returning the `SimulationResult` (status, message, end time)."""
        x0 = np.asarray(x0, dtype=np.float64).ravel()
        if x0.size != len(self.names):
            raise ValueError(f"x0 has {x0.size} values but the model has {len(self.names)} "
                             f"states ({', '.join(self.names)})")
        t = np.asarray(t, dtype=np.float64).ravel()
        if t.size and (not np.isfinite(t).all() or (np.diff(t) <= 0).any()):
            raise ValueError("t must be finite and strictly increasing")
        bound = self.bound if self.bound is not None else None
        if bound is not None:
            bound = max(bound, 10.0 * float(np.max(np.abs(x0))))
        return integrate(self.rhs, x0, t, time_limit=time_limit, bound=bound, method=method,
                         rtol=rtol, atol=atol)

    def simulate(self, x0: Sequence[float], t: Sequence[float], *,
                 time_limit: float | None = 10.0, method: str = "LSODA") -> np.ndarray:
        """Integrate the system from ``x0``; the states at times ``t``, shape (len(t), n).

        A model that diverges (leaves 1000 times the range of the data it was fitted on) or
        outruns ``time_limit`` seconds of wall clock is stopped: the rows after that are NaN
        and a `SimulationWarning` says what happened.
        """
        res = self.simulate_result(x0, t, time_limit=time_limit, method=method)
        warn_if_failed(res)
        return res.x

    def score(self, t: object, X: object, differentiator: object = "auto") -> float:
        """R² of the model's dx/dt against derivatives estimated from ``X(t)`` (mean over
        states), the way scikit-learn scores a multi-output regressor."""
        from eurisko.dynamics.differentiation import make_differentiator

        ts, Xs = as_trajectories(t, X)
        D = make_differentiator(differentiator)
        xs_all, dx_all = [], []
        for ti, xi in zip(ts, Xs, strict=True):
            if len(ti) < D.min_samples():
                raise ValueError(f"a trajectory has {len(ti)} samples; scoring needs at least "
                                 f"{D.min_samples()}")
            xs, dx = D(ti, xi)
            xs_all.append(xs)
            dx_all.append(dx)
        xs = np.vstack(xs_all)
        dx = np.vstack(dx_all)
        self._check_width(xs)
        pred = self.rhs(xs)
        ss_res = np.sum((dx - pred) ** 2, axis=0)
        ss_tot = np.sum((dx - dx.mean(axis=0)) ** 2, axis=0)
        r2 = np.where(ss_tot > 0, 1.0 - ss_res / np.where(ss_tot > 0, ss_tot, 1.0),
                      np.where(ss_res == 0, 1.0, 0.0))
        return float(np.mean(r2))

    def valid_prediction_time(self, t: object, X: object, threshold: float = 0.5,
                              time_limit: float | None = 10.0) -> float:
        """How long a simulation from the first sample stays close to the data, in time units.

        The error at each time is the root mean square over states of (simulated - observed)
        divided by each state's standard deviation in ``X``; the valid time is when it first
        exceeds ``threshold`` (the whole span if never). Several trajectories: the mean.
        Divide by the largest Lyapunov exponent's inverse to get Lyapunov times.
        """
        threshold = check_number(threshold, "threshold", low=0, low_open=True,
                                 hint="the error is relative to each state's spread")
        ts, Xs = as_trajectories(t, X)
        vals = []
        for ti, xi in zip(ts, Xs, strict=True):
            self._check_width(xi)
            res = self.simulate_result(xi[0], ti, time_limit=time_limit)
            vals.append(valid_time(ti, xi, res.x, threshold))
        return float(np.mean(vals))

    def _check_width(self, X: np.ndarray) -> None:
        if X.shape[1] != len(self.names):
            raise ValueError(f"X has {X.shape[1]} state columns but the model has "
                             f"{len(self.names)} ({', '.join(self.names)})")

    # --- saving ------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready description: names, equations (rounded and full precision), info."""
        return {
            "names": self.names,
            "equations": self.equation_strings(),
            "rhs": [sp.sstr(e.expr) for e in self._eqs],
            "sources": self.sources,
            "digits": [e.digits for e in self._eqs],
            "bound": self.bound,
            "info": jsonable(self.info),
        }

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ODEModel:
        """Rebuild a model saved with `to_dict` (formulas are parsed by eurisko's safe
        parser, never ``eval``)."""
        from eurisko.expr.parser import parse_sympy

        names = [str(n) for n in d["names"]]
        eqs = []
        for text, src, digits in zip(d["rhs"], d["sources"], d["digits"], strict=True):
            expr = parse_sympy(str(text).replace("**", "^"), names)
            eqs.append(Equation(expr, str(src), int(digits)))
        return cls(names, eqs, d.get("info", {}), d.get("bound"))


def valid_time(t: np.ndarray, X: np.ndarray, Xsim: np.ndarray, threshold: float = 0.5) -> float:
    """Time until the normalised simulation error first exceeds ``threshold``."""
    scale = np.maximum(np.std(X, axis=0), 1e-300)
    err = np.sqrt(np.mean(((Xsim - X) / scale) ** 2, axis=1))
    bad = ~(err <= threshold)  # NaN (a stopped simulation) counts as off
    if not bad.any():
        return float(t[-1] - t[0])
    return float(t[int(np.argmax(bad))] - t[0])
