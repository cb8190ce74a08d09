"""Split a law before searching for it: symmetries and separability, tested on a smooth surrogate.

AI Feynman (Udrescu & Tegmark 2020, arXiv:1905.11481 and arXiv:2006.10782) makes a hard search
easy by finding structure first: ``f`` depends on ``x_i - x_j`` only (translation symmetry) or on
``x_i / x_j`` only (scaling symmetry), or ``f = g(A) + h(B)`` or ``f = g(A) * h(B)`` for a
partition ``(A, B)`` of the variables. Each test moves some variables while holding others, so it
asks ``f`` at points that are not rows of the data. AI Feynman asks a neural network trained on
the data; here a cheaper smooth surrogate serves (`fit_surrogate`: a polyharmonic radial-basis
interpolant with its smoothing chosen by leave-one-out error), or any callable the caller trusts
(`callable_surrogate`, e.g. the ``predict`` of a quick search).

The threshold rule. Every test computes, at a few hundred random points inside the data, a
quantity that is exactly zero when the structure holds: a double difference
``f(a,b) + f(a',b') - f(a',b) - f(a,b')``, a product difference ``f(a,b) f(a',b') - f(a',b)
f(a,b')``, or ``f(moved x) - f(x)``. When the structure holds, only the surrogate's errors at
those points make it nonzero, so each value is divided by the standard deviation those errors
give it (first-order propagation of the surrogate's ``query_error``, with the second-order
terms that keep zeros of ``f`` from counting in a product). The ``violation`` is the RMS of the
90% smallest normalized values (the rest, nearest the edge of the data where the surrogate half
extrapolates, stay out; an interaction spread over the data stays in): about 0.8 when the
structure holds and the errors are as estimated. A structure is accepted when the violation is
at most ``tolerance`` and the surrogate is good enough to judge at all: its leave-one-out error
at most ``max_relative_error`` of the spread of ``y``, since a rough surrogate lets a real
interaction hide in its own error. The defaults, 1.1 and 0.05, come from a sweep of 24 laws
of 2 to 5 variables (sums, products, ratios, Gaussians, relativistic addition, ...) x 8 seeds x
noise 0 / 1% of RMS(y), with 200, 300 and 500 rows: every true structure measured at most
0.78; every false one where the surrogate was good enough at least 1.14 with 200 rows, 1.46
with 300 and 1.7 with 500 (the lowest: ``x0*x1 + sin(x2)*x3 + x4`` read as x4 times the rest
and ``x0*x1 + x0 + x1`` read as a product, both at 1% noise). So 1.1 leaves true structures a
margin of 1.4 and false ones, from 300 rows, 1.3; give the tests 300 rows or more.

Each accepted structure reduces the problem: `find_decomposition` runs the tests (every pair for
the symmetries, every single variable against the rest and, from four variables, every pair
against the rest for separability), scores each accepted one by the work left (a problem of k
variables costs 10**k; a symmetry leaves one problem of d - 1 variables, a separation two), and
returns the cheapest as a `Decomposition`. `split_data` gives the data of each part, `recombine`
puts the parts' formulas back together. Call again on a part's data to split it further.
"""

from __future__ import annotations

import contextlib
import copy
import itertools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import sympy as sp
from scipy.spatial import cKDTree

from eurisko.validation import check_choice, check_instance, check_int, check_number

__all__ = ["Decomposition", "Evidence", "Part", "Surrogate", "callable_surrogate",
           "find_decomposition", "fit_surrogate", "additive_separability",
           "multiplicative_separability", "recombine", "scaling_symmetry", "split_data",
           "structure_tests", "translation_symmetry"]

KINDS = ("translation", "scaling", "additive", "multiplicative")
TOLERANCE = 1.1
MAX_RELATIVE_ERROR = 0.05
KEEP = 0.9
_COST_BASE = 10.0


# ---------------------------------------------------------------------------------------------
# Input checks


def _numbers(a: Any, name: str) -> np.ndarray:
    """``a`` (array, list, DataFrame, Series) as float64, finite."""
    if hasattr(a, "to_numpy"):
        a = a.to_numpy()
    try:
        out = np.asarray(a, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be numbers; convert the columns to numeric values "
                         "first") from None
    if not np.all(np.isfinite(out)):
        raise ValueError(f"{name} has NaN or infinite values; drop or fill those rows first")
    return out


def _as_X(X: Any) -> np.ndarray:
    out = _numbers(X, "X")
    if out.ndim == 1:
        out = out[:, None]
    if out.ndim != 2:
        raise ValueError(f"X must be 2-D, (n_rows, n_variables); got shape {out.shape}")
    return out


def _as_y(y: Any, n: int) -> np.ndarray:
    out = _numbers(y, "y")
    if out.ndim == 2 and out.shape[1] == 1:
        out = out[:, 0]
    if out.ndim != 1 or out.shape[0] != n:
        raise ValueError(f"y must be a vector of {n} values, one per row of X; got shape "
                         f"{out.shape}")
    return out


def _columns(cols: Any, name: str, d: int) -> tuple[int, ...]:
    """Column indices, each checked, no repeats."""
    if isinstance(cols, (int, np.integer)):
        cols = [cols]
    try:
        cols = list(cols)
    except TypeError:
        raise ValueError(f"{name} must be a list of column indices, got {cols!r}") from None
    out = tuple(check_int(c, f"{name}[{k}]", low=0, high=d - 1) for k, c in enumerate(cols))
    if not out:
        raise ValueError(f"{name} is empty; give at least one column index")
    if len(set(out)) != len(out):
        raise ValueError(f"{name} repeats a column: {list(out)}")
    return out


def _partition(A: Any, B: Any, d: int) -> tuple[tuple[int, ...], tuple[int, ...]]:
    A, B = _columns(A, "A", d), _columns(B, "B", d)
    if set(A) & set(B):
        raise ValueError(f"A and B share columns {sorted(set(A) & set(B))}; a partition "
                         "puts each variable on one side")
    if len(A) + len(B) != d:
        missing = sorted(set(range(d)) - set(A) - set(B))
        raise ValueError(f"A and B leave out columns {missing}; a partition puts every "
                         "variable on one side (test a part's own data to split it further)")
    return A, B


def _pair(i: Any, j: Any, d: int) -> tuple[int, int]:
    i = check_int(i, "i", low=0, high=d - 1)
    j = check_int(j, "j", low=0, high=d - 1)
    if i == j:
        raise ValueError(f"i and j must be two different columns, got {i} twice")
    return i, j


def _rng(random_state: Any) -> np.random.Generator:
    return np.random.default_rng(check_int(random_state, "random_state", low=0, none_ok=True))


# ---------------------------------------------------------------------------------------------
# The surrogate


@dataclass(frozen=True)
class Surrogate:
    """A smooth stand-in for the unknown law, to be asked at points that are not rows.

    ``function`` maps an ``(m, d)`` array to ``m`` values. ``error`` is its RMS error against
    ``y`` on held-out rows (leave-one-out for `fit_surrogate`), noise included; it judges
    whether the surrogate is good enough to test anything. ``query_error`` is the RMS error of
    its values between the rows against the noise-free law: the tests divide by it. ``scale``
    is the standard deviation of ``y``; ``X`` are the rows it was built on, whose spread tells
    the tests where they may ask. With ``relative`` the query error is a fraction of ``|f|``
    (a surrogate of ``log|y|``).
    """

    function: Callable[[np.ndarray], np.ndarray] = field(repr=False)
    error: float
    query_error: float
    scale: float
    X: np.ndarray = field(repr=False)
    description: str = ""
    relative: bool = False

    def __call__(self, X: Any) -> np.ndarray:
        X = _as_X(X)
        if X.shape[1] != self.X.shape[1]:
            raise ValueError(f"X must have {self.X.shape[1]} columns like the data, got "
                             f"{X.shape[1]}")
        return np.asarray(self.function(X), dtype=np.float64).reshape(X.shape[0])

    @property
    def relative_error(self) -> float:
        """``error / scale``: how much of the variation of ``y`` the surrogate misses."""
        return self.error / self.scale if self.scale > 0 else math.inf


# Polyharmonic kernels with the sign that makes them conditionally positive definite, and the
# polynomial degree they need (the same pairs as scipy.interpolate.RBFInterpolator).
_KERNELS: dict[str, tuple[Callable[[np.ndarray], np.ndarray], int]] = {
    "cubic": (lambda r: r ** 3, 1),
    "quintic": (lambda r: -(r ** 5), 2),
}


def _exponents(d: int, degree: int) -> np.ndarray:
    rows = [np.zeros(d, dtype=int)]
    for deg in range(1, degree + 1):
        for combo in itertools.combinations_with_replacement(range(d), deg):
            e = np.zeros(d, dtype=int)
            for c in combo:
                e[c] += 1
            rows.append(e)
    return np.array(rows)


def _monomials(Z: np.ndarray, exponents: np.ndarray) -> np.ndarray:
    return np.prod(Z[:, None, :] ** exponents[None, :, :], axis=2)


def _distances(P: np.ndarray, Q: np.ndarray) -> np.ndarray:
    sq = (P * P).sum(1)[:, None] + (Q * Q).sum(1)[None, :] - 2.0 * P @ Q.T
    return np.sqrt(np.maximum(sq, 0.0))


class _RBF:
    """s(z) = sum_i c_i phi(|z - z_i|) + p(z) beta on standardized z and y, all smoothings at once.

    The kernel matrix projected off the polynomials, ``Q2' K Q2 = V diag(lam) V'``, solves the
    system for any smoothing and any right-hand sides at O(n^2) each, and gives Rippa's
    leave-one-out residuals ``c_i / (M^-1)_ii`` with ``(M^-1)_ii = sum_k W_ik^2 / (lam_k + s)``.
    """

    def __init__(self, Z: np.ndarray, kernel: str):
        phi, degree = _KERNELS[kernel]
        self.Z, self.kernel = Z, kernel
        self.exponents = _exponents(Z.shape[1], degree)
        self.P = _monomials(Z, self.exponents)
        self.K = phi(_distances(Z, Z))
        Qfull, _ = np.linalg.qr(self.P, mode="complete")
        Q2 = Qfull[:, self.P.shape[1]:]
        lam, V = np.linalg.eigh(Q2.T @ self.K @ Q2)
        self.lam = np.maximum(lam, 0.0)
        self.W = Q2 @ V
        self.smooth = 0.0

    def loo(self, t: np.ndarray, smooth: float) -> np.ndarray:
        """Leave-one-out residuals for targets ``t`` at smoothing ``smooth``."""
        inv = 1.0 / (self.lam + smooth)
        c = self.W @ (inv * (self.W.T @ t))
        return c / ((self.W * self.W) @ inv)

    def solve(self, T: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Coefficients (c, beta) for the columns of ``T`` (n, r) at the chosen smoothing."""
        C = self.W @ ((self.W.T @ T) / (self.lam + self.smooth)[:, None])
        B = np.linalg.lstsq(self.P, T - self.K @ C - self.smooth * C, rcond=None)[0]
        return C, B

    def evaluate(self, Zq: np.ndarray, C: np.ndarray, B: np.ndarray) -> np.ndarray:
        phi = _KERNELS[self.kernel][0]
        out = np.empty((len(Zq), C.shape[1]))
        for s in range(0, len(Zq), 2048):
            block = Zq[s:s + 2048]
            out[s:s + 2048] = (phi(_distances(block, self.Z)) @ C
                               + _monomials(block, self.exponents) @ B)
        return out


class _Interpolant:
    """The fitted surrogate as a function of raw X (picklable, unlike a closure); with
    ``sign`` set it was fitted to ``log|y|`` and returns ``sign * exp(s)``."""

    def __init__(self, rbf: _RBF, C: np.ndarray, B: np.ndarray, mu: np.ndarray, sd: np.ndarray,
                 u_mean: float, u_sd: float, sign: float | None):
        self.rbf, self.C, self.B = rbf, C, B
        self.mu, self.sd, self.u_mean, self.u_sd, self.sign = mu, sd, u_mean, u_sd, sign

    def __call__(self, X: np.ndarray) -> np.ndarray:
        u = self.u_mean + self.u_sd * self.rbf.evaluate((X - self.mu) / self.sd, self.C,
                                                        self.B)[:, 0]
        return u if self.sign is None else self.sign * np.exp(np.minimum(u, 700.0))


def _choose_smoothing(rbf: _RBF, t: np.ndarray) -> float:
    """Leave-one-out RMS at the best smoothing on a log grid; sets ``rbf.smooth``."""
    top = max(float(rbf.lam[-1]), 1e-300)
    best = (math.inf, 0.0)
    for s in np.logspace(-13, 1, 29) * top:
        loo = math.sqrt(float(np.mean(rbf.loo(t, s) ** 2)))
        if loo < best[0]:
            best = (loo, s)
    rbf.smooth = best[1]
    return best[0]


def _best_rbf(Z: np.ndarray, t: np.ndarray, made: dict[str, _RBF] | None = None
              ) -> tuple[float, _RBF | None]:
    """The kernel with the smallest leave-one-out error for ``t``, at its best smoothing.
    ``made``: the kernels' systems already built on ``Z`` (by kernel; filled here), since
    they depend on ``Z`` alone: a second target on the same rows (``log|y|`` after ``y``)
    costs no new eigendecomposition."""
    best: tuple[float, _RBF | None] = (math.inf, None)
    made = {} if made is None else made
    for kernel in _KERNELS:
        if len(Z) < 2 * len(_exponents(Z.shape[1], _KERNELS[kernel][1])) + 5:
            continue
        if kernel not in made:
            made[kernel] = _RBF(Z, kernel)
        rbf = copy.copy(made[kernel])  # the arrays shared, the smoothing its own
        loo = _choose_smoothing(rbf, t)
        if loo < best[0]:
            best = (loo, rbf)
    return best


def _one_blas_thread() -> contextlib.AbstractContextManager:
    """BLAS on one thread: matrices of at most ``max_rows`` gain little from more, and lose much
    when the cores are busy (an eigh of 500 x 500 took 4 s instead of 0.05 s on a loaded
    2-core machine). threadpoolctl comes with scikit-learn."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - scikit-learn depends on it
        return contextlib.nullcontext()
    return threadpool_limits(1, user_api="blas")


def fit_surrogate(X: Any, y: Any, *, max_rows: int = 1000, n_replicates: int = 4,
                  random_state: int | None = 0) -> Surrogate:
    """A smooth interpolant of ``y(X)`` whose errors are measured, not assumed.

    Polyharmonic radial basis functions (``r**3`` with a linear polynomial and ``-r**5`` with a
    quadratic one) on standardized columns, fitted to ``y`` and, when ``y`` keeps one sign, to
    ``log|y|`` too (a law of products and powers, spanning decades, is smooth and nearly
    additive there). For each the smoothing is the one with the smallest leave-one-out error;
    the fit with the smallest leave-one-out error in ``y`` wins, and that error is ``error``:
    about the noise for noisy ``y``, about the interpolation error between rows for exact ``y``.

    ``query_error``, the error of its values between rows (what the tests combine), comes from
    a bootstrap: refit on its own values plus the leave-one-out residuals in random order
    (``n_replicates`` times) and take the RMS change at random points inside the data, capped
    by the leave-one-out error itself (interpolating shuffled residuals overshoots between the
    rows; a point between rows is never farther from them than a left-out row). Smoothing
    averages noise away, so with noisy data ``query_error`` is well below ``error``, and the
    tests see interactions smaller than the noise. After a fit to ``log|y|`` it is relative
    (``relative=True``): the error at a point is ``query_error * |f|``. At most ``max_rows`` rows
    (chosen at random) are used: the fit costs ``max_rows**3``.

    >>> rng = np.random.default_rng(0)
    >>> X = rng.uniform(1, 3, (200, 2))
    >>> s = fit_surrogate(X, X[:, 0] ** 2 + np.sin(X[:, 1]))
    >>> bool(s.relative_error < 1e-3), bool(abs(s([[2.0, 2.0]])[0] - 4 - np.sin(2)) < 1e-3)
    (True, True)
    """
    X = _as_X(X)
    y = _as_y(y, X.shape[0])
    max_rows = check_int(max_rows, "max_rows", low=20, what="rows")
    n_replicates = check_int(n_replicates, "n_replicates", low=1)
    rng = _rng(random_state)
    with _one_blas_thread():
        return _fit_surrogate(X, y, max_rows, n_replicates, rng)


def _fit_surrogate(X: np.ndarray, y: np.ndarray, max_rows: int, n_replicates: int,
                   rng: np.random.Generator) -> Surrogate:
    if X.shape[0] > max_rows:
        keep = np.sort(rng.choice(X.shape[0], max_rows, replace=False))
        X, y = X[keep], y[keep]
    n, d = X.shape
    y_sd = float(y.std())
    if y_sd == 0:
        return Surrogate(_Constant(float(y[0])), 0.0, 0.0, 0.0, X, "constant")
    mu, sd = X.mean(0), X.std(0)
    sd = np.where(sd > 0, sd, 1.0)
    Z = (X - mu) / sd
    spaces: list[tuple[float | None, np.ndarray]] = [(None, y)]
    if np.all(y > 0) or np.all(y < 0):
        spaces.append((float(np.sign(y[0])), np.log(np.abs(y))))
    best = None
    made: dict[str, _RBF] = {}
    for sign, u in spaces:
        u_mean, u_sd = float(u.mean()), float(u.std())
        t = (u - u_mean) / u_sd
        loo, rbf = _best_rbf(Z, t, made)
        if rbf is None:
            raise ValueError(f"X has {n} rows for {d} variables: too few for a surrogate; give "
                             f"at least {2 * (d + 1) + 5}, and a few hundred to judge "
                             "separability")
        r = rbf.loo(t, rbf.smooth) * u_sd      # leave-one-out residuals in u
        r_y = r if sign is None else y * -np.expm1(-r)
        error = math.sqrt(float(np.mean(r_y ** 2)))
        if best is None or error < best[0]:
            best = (error, sign, rbf, t, u_mean, u_sd, math.sqrt(float(np.mean(r ** 2))))
    error, sign, rbf, t, u_mean, u_sd, loo_u = best
    C, B = rbf.solve(t[:, None])
    fitted = rbf.evaluate(Z, C, B)[:, 0]
    residuals = rbf.loo(t, rbf.smooth)
    # Bootstrap: targets fitted + shuffled LOO residuals; the refit minus the fit is the
    # smoother applied to (fitted - t + shuffled residuals), evaluated between the rows.
    delta = np.stack([fitted - t + rng.permutation(residuals) for _ in range(n_replicates)], 1)
    Cd, Bd = rbf.solve(delta)
    Q = _Sampler(X, rng, X).mixed(400)
    change = rbf.evaluate((Q - mu) / sd, Cd, Bd)
    query_error = min(math.sqrt(float(np.mean(change ** 2))) * u_sd, loo_u)
    space = "y" if sign is None else "log|y|"
    return Surrogate(_Interpolant(rbf, C, B, mu, sd, u_mean, u_sd, sign), error, query_error,
                     y_sd, X, f"{rbf.kernel} RBF of {space} on {n} rows, smoothing "
                     f"{rbf.smooth:.3g}", relative=sign is not None)


class _Constant:
    def __init__(self, value: float):
        self.value = value

    def __call__(self, X: np.ndarray) -> np.ndarray:
        return np.full(len(X), self.value)


def callable_surrogate(function: Callable[[np.ndarray], np.ndarray], X: Any, y: Any, *,
                       error: float | None = None) -> Surrogate:
    """Wrap a caller's model of the data (e.g. a search's ``predict``) as a `Surrogate`.

    ``error`` is its RMS error on rows it was not fitted on, if known; by default the RMS of its
    residuals on ``(X, y)``, which is honest for a formula with few constants and optimistic for
    a flexible model (which then splits more readily: give the held-out error for those). The
    same number serves as its ``query_error``: a formula errs between rows as it does on them.
    """
    if not callable(function):
        raise TypeError(f"function must be callable, X -> y, got {type(function).__name__}")
    X = _as_X(X)
    y = _as_y(y, X.shape[0])
    error = check_number(error, "error", low=0, none_ok=True)
    pred = np.asarray(function(X), dtype=np.float64).reshape(-1)
    if pred.shape[0] != X.shape[0]:
        raise ValueError(f"function returned {pred.shape[0]} values for {X.shape[0]} rows")
    if error is None:
        error = math.sqrt(float(np.mean((pred - y) ** 2)))
    return Surrogate(function, float(error), float(error), float(y.std()), X,
                     "caller's function")


# ---------------------------------------------------------------------------------------------
# The tests


@dataclass(frozen=True)
class Evidence:
    """What one test measured.

    ``parts`` is ``(A, B)`` for a separation and ``((i, j),)`` for a symmetry. ``violation`` is
    the RMS of the normalized departures from the structure over the 90% smallest (about 0.8
    when it holds and the surrogate's errors alone move them); ``accepted`` is
    ``violation <= threshold`` and a surrogate good enough to judge. ``raw_violation`` is the
    same RMS in ``y``'s units (``y`` squared for products), ``surrogate_error`` the query error
    the values were divided by (a fraction of ``|f|`` for a surrogate of ``log|y|``),
    ``n_samples`` the number of random points that entered; ``reason`` says why a test was
    refused.
    """

    kind: str
    parts: tuple[tuple[int, ...], ...]
    accepted: bool
    violation: float
    threshold: float
    raw_violation: float
    surrogate_error: float
    n_samples: int
    reason: str = ""


class _Sampler:
    """Random points inside the data: rows of ``X``, with columns swapped between rows or moved,
    kept only inside the columns' ranges and near the surrogate's rows (no farther than 99% of
    those rows are from their nearest neighbour), so the surrogate is asked where it was fitted.
    """

    def __init__(self, X: np.ndarray, rng: np.random.Generator, support: np.ndarray):
        self.X, self.rng = X, rng
        self.lo, self.hi = support.min(0), support.max(0)
        sd = support.std(0)
        self.sd = np.where(sd > 0, sd, 1.0)
        Z = support / self.sd
        self.tree = cKDTree(Z)
        if len(support) > 1:
            dist, _ = self.tree.query(Z, k=2)
            self.reach = float(np.quantile(dist[:, 1], 0.99))
        else:
            self.reach = math.inf

    def inside(self, *points: np.ndarray) -> np.ndarray:
        ok = np.ones(len(points[0]), dtype=bool)
        for p in points:
            ok &= np.all((p >= self.lo) & (p <= self.hi), axis=1)
            dist, _ = self.tree.query(p / self.sd)
            ok &= dist <= self.reach * (1 + 1e-9)
        return ok

    def rows(self, m: int) -> np.ndarray:
        return self.X[self.rng.integers(0, len(self.X), m)]

    def mixed(self, m: int) -> np.ndarray:
        """Points whose every column comes from its own random row, kept where rows are."""
        n, d = self.X.shape
        Q = self.X[self.rng.integers(0, n, (m, d)), np.arange(d)]
        return Q[self.inside(Q)]


def _floor(s: Surrogate) -> float:
    """The query error, never below what float rounding allows."""
    return max(s.query_error, 1e-12 if s.relative else 1e-9 * max(s.scale, 1e-300))


def _point_errors(s: Surrogate, f: np.ndarray) -> np.ndarray:
    """The surrogate's expected error at each of its values ``f``."""
    e = _floor(s)
    return np.maximum(e * np.abs(f), 1e-9 * s.scale) if s.relative else np.full(f.shape, e)


def _verdict(kind: str, parts: tuple[tuple[int, ...], ...], z: np.ndarray, raw: np.ndarray,
             s: Surrogate, tolerance: float, max_relative_error: float) -> Evidence:
    m = int(z.size)
    if m < 16:
        return Evidence(kind, parts, False, math.nan, tolerance, math.nan, _floor(s), m,
                        "too few points inside the data to test")
    # The RMS over the KEEP smallest |z|: the points nearest the edge of the data, where the
    # surrogate half extrapolates, stay out; an interaction spread over the data stays in.
    keep = np.argsort(np.abs(z))[:max(1, math.ceil(KEEP * m))]
    violation = math.sqrt(float(np.mean(z[keep] ** 2)))
    raw_violation = math.sqrt(float(np.mean(raw[keep] ** 2)))
    reason = ""
    if s.scale == 0:
        reason = "y is constant"
    elif s.relative_error > max_relative_error:
        reason = (f"surrogate too rough to judge: its error is {s.relative_error:.3g} of the "
                  f"spread of y, above max_relative_error={max_relative_error:g}")
    elif violation > tolerance:
        reason = f"violation {violation:.3g} above tolerance {tolerance:g}"
    return Evidence(kind, parts, not reason, violation, tolerance, raw_violation, _floor(s), m,
                    reason)


def _check_common(surrogate: Any, X: Any, n_samples: Any, tolerance: Any,
                  max_relative_error: Any) -> tuple[Surrogate, np.ndarray, int, float, float]:
    surrogate = check_instance(surrogate, "surrogate", Surrogate,
                               hint="build one with fit_surrogate(X, y)")
    X = _as_X(X)
    if X.shape[1] != surrogate.X.shape[1]:
        raise ValueError(f"X has {X.shape[1]} columns but the surrogate was built on "
                         f"{surrogate.X.shape[1]}")
    n_samples = check_int(n_samples, "n_samples", low=16, what="random points")
    tolerance = check_number(tolerance, "tolerance", low=0, low_open=True)
    max_relative_error = check_number(max_relative_error, "max_relative_error", low=0,
                                      low_open=True)
    return surrogate, X, n_samples, tolerance, max_relative_error


def _quadruples(s: Surrogate, sampler: _Sampler, A: tuple[int, ...], B: tuple[int, ...],
                m: int) -> np.ndarray:
    """f at (a,b), (a',b'), (a',b), (a,b') for m pairs of rows (a,b), (a',b'): shape (4, m)."""
    p, q = sampler.rows(m), sampler.rows(m)
    cross1, cross2 = p.copy(), q.copy()
    cross1[:, list(A)] = q[:, list(A)]   # (a', b)
    cross2[:, list(A)] = p[:, list(A)]   # (a, b')
    ok = sampler.inside(cross1, cross2)
    pts = np.concatenate([p[ok], q[ok], cross1[ok], cross2[ok]])
    return s(pts).reshape(4, -1)


def _separation(s: Surrogate, sampler: _Sampler, A: tuple[int, ...], B: tuple[int, ...],
                m: int, kinds: Sequence[str], tol: float, mre: float) -> list[Evidence]:
    """The additive and/or multiplicative evidence for (A, B), on the same quadruples.

    Each double difference is divided by its standard deviation from the surrogate's errors
    ``e_k`` at the four points alone: ``sqrt(sum e_k**2)`` for the sum; for the product
    ``f1 f2 - f3 f4``, ``sqrt(f2**2 e1**2 + f1**2 e2**2 + f4**2 e3**2 + f3**2 e4**2
    + e1**2 e2**2 + e3**2 e4**2)``, whose second-order terms keep zeros of ``f`` from counting
    as violations.
    """
    f = _quadruples(s, sampler, A, B, m)
    e2 = _point_errors(s, f) ** 2
    out = []
    if "additive" in kinds:
        raw = f[0] + f[1] - f[2] - f[3]
        out.append(_verdict("additive", (A, B), raw / np.sqrt(e2.sum(0)), raw, s, tol, mre))
    if "multiplicative" in kinds:
        raw = f[0] * f[1] - f[2] * f[3]
        f2 = f * f
        var = (f2[1] * e2[0] + f2[0] * e2[1] + f2[3] * e2[2] + f2[2] * e2[3]
               + e2[0] * e2[1] + e2[2] * e2[3])
        out.append(_verdict("multiplicative", (A, B), raw / np.sqrt(var), raw, s, tol, mre))
    return out


def additive_separability(surrogate: Surrogate, X: Any, A: Sequence[int], B: Sequence[int], *,
                          n_samples: int = 400, tolerance: float = TOLERANCE,
                          max_relative_error: float = MAX_RELATIVE_ERROR,
                          random_state: int | None = 0) -> Evidence:
    """Is ``f(x) = g(x_A) + h(x_B)``? Tests ``f(a,b) + f(a',b') - f(a',b) - f(a,b') = 0``.

    ``(a, b)`` and ``(a', b')`` are random rows of ``X``; the crossed points are kept where they
    lie among the rows. ``A`` and ``B`` together hold every column.
    """
    s, X, m, tol, mre = _check_common(surrogate, X, n_samples, tolerance, max_relative_error)
    A, B = _partition(A, B, X.shape[1])
    return _separation(s, _Sampler(X, _rng(random_state), s.X), A, B, m, ("additive",), tol,
                       mre)[0]


def multiplicative_separability(surrogate: Surrogate, X: Any, A: Sequence[int],
                                B: Sequence[int], *, n_samples: int = 400,
                                tolerance: float = TOLERANCE,
                                max_relative_error: float = MAX_RELATIVE_ERROR,
                                random_state: int | None = 0) -> Evidence:
    """Is ``f(x) = g(x_A) * h(x_B)``? Tests ``f(a,b) f(a',b') - f(a',b) f(a,b') = 0``.

    Unlike a test on ``log|f|`` it needs no sign of ``f``: each product difference is divided
    by its spread from the surrogate's errors alone, so points near zeros of ``f`` count for
    what they are worth.
    """
    s, X, m, tol, mre = _check_common(surrogate, X, n_samples, tolerance, max_relative_error)
    A, B = _partition(A, B, X.shape[1])
    return _separation(s, _Sampler(X, _rng(random_state), s.X), A, B, m, ("multiplicative",), tol,
                       mre)[0]


def _moved(s: Surrogate, sampler: _Sampler, i: int, j: int, m: int, kind: str
           ) -> tuple[np.ndarray, np.ndarray]:
    """f at m rows and at the same rows with x_i, x_j shifted (or scaled) together."""
    rng = sampler.rng
    x = sampler.rows(m)
    xi, xj = x[:, i], x[:, j]
    lo, hi = sampler.lo, sampler.hi
    if kind == "translation":
        low = np.maximum(lo[i] - xi, lo[j] - xj)
        high = np.minimum(hi[i] - xi, hi[j] - xj)
        step = low + (high - low) * rng.random(m)
        moved = x.copy()
        moved[:, i] += step
        moved[:, j] += step
    else:
        low, high = np.zeros(m), np.full(m, np.inf)
        for col, v in ((i, xi), (j, xj)):
            with np.errstate(divide="ignore", invalid="ignore"):
                a, b = lo[col] / v, hi[col] / v
            pos, neg = v > 0, v < 0
            low = np.where(pos, np.maximum(low, a), np.where(neg, np.maximum(low, b), low))
            high = np.where(pos, np.minimum(high, b), np.where(neg, np.minimum(high, a), high))
            # v == 0 stays 0 whatever the factor
        # A range that holds 0 allows factors down to 0: stop at 1% of the largest.
        low = np.maximum(low, 1e-2 * high)
        usable = (low > 0) & np.isfinite(high) & (high > low)
        x, low, high = x[usable], low[usable], high[usable]
        factor = np.exp(np.log(low) + (np.log(high) - np.log(low)) * rng.random(len(x)))
        moved = x.copy()
        moved[:, i] *= factor
        moved[:, j] *= factor
    ok = sampler.inside(moved)
    f = s(np.concatenate([x[ok], moved[ok]])).reshape(2, -1)
    return f[0], f[1]


def _symmetry(s: Surrogate, sampler: _Sampler, kind: str, i: int, j: int, m: int, tol: float,
              mre: float) -> Evidence:
    """``f(moved) - f(x)`` divided by ``sqrt(e0**2 + e1**2)``."""
    f0, f1 = _moved(s, sampler, i, j, m, kind)
    raw = f1 - f0
    sd = np.sqrt(_point_errors(s, f0) ** 2 + _point_errors(s, f1) ** 2)
    return _verdict(kind, ((i, j),), raw / sd, raw, s, tol, mre)


def _check_symmetry(kind: str, surrogate: Any, X: Any, i: Any, j: Any, n_samples: Any,
                    tolerance: Any, max_relative_error: Any, random_state: Any) -> Evidence:
    s, X, m, tol, mre = _check_common(surrogate, X, n_samples, tolerance, max_relative_error)
    i, j = _pair(i, j, X.shape[1])
    return _symmetry(s, _Sampler(X, _rng(random_state), s.X), kind, i, j, m, tol, mre)


def translation_symmetry(surrogate: Surrogate, X: Any, i: int, j: int, *, n_samples: int = 400,
                         tolerance: float = TOLERANCE,
                         max_relative_error: float = MAX_RELATIVE_ERROR,
                         random_state: int | None = 0) -> Evidence:
    """Does ``f`` depend on ``x_i`` and ``x_j`` only through ``x_i - x_j``?

    Tests ``f(x + t e_i + t e_j) = f(x)`` at random rows, with ``t`` drawn over all the shifts
    that keep both variables inside their columns' ranges.
    """
    return _check_symmetry("translation", surrogate, X, i, j, n_samples, tolerance,
                           max_relative_error, random_state)


def scaling_symmetry(surrogate: Surrogate, X: Any, i: int, j: int, *, n_samples: int = 400,
                     tolerance: float = TOLERANCE,
                     max_relative_error: float = MAX_RELATIVE_ERROR,
                     random_state: int | None = 0) -> Evidence:
    """Does ``f`` depend on ``x_i`` and ``x_j`` only through ``x_i / x_j``?

    Tests ``f(x with x_i*k, x_j*k) = f(x)`` at random rows, with ``k > 0`` drawn log-uniformly
    over the factors that keep both variables inside their columns' ranges.
    """
    return _check_symmetry("scaling", surrogate, X, i, j, n_samples, tolerance,
                           max_relative_error, random_state)


# ---------------------------------------------------------------------------------------------
# Finding the best decomposition


def _pairs(pairs: Any, d: int) -> list[tuple[int, int]]:
    if pairs is None:
        return list(itertools.combinations(range(d), 2))
    try:
        items = list(pairs)
    except TypeError:
        raise ValueError(f"pairs must be a list of (i, j) column pairs or None, got {pairs!r}"
                         ) from None
    out = []
    for k, p in enumerate(items):
        try:
            i, j = p
        except (TypeError, ValueError):
            raise ValueError(f"pairs[{k}] must be a pair (i, j), got {p!r}") from None
        out.append(_pair(i, j, d))
    return out


def _kinds(kinds: Any) -> tuple[str, ...]:
    if isinstance(kinds, str):
        kinds = [kinds]
    out = tuple(check_choice(k, "kinds", KINDS) for k in kinds)
    if not out:
        raise ValueError(f"kinds is empty; give some of {', '.join(KINDS)}")
    return out


def _partitions(d: int) -> list[tuple[tuple[int, ...], tuple[int, ...]]]:
    """Each variable against the rest, then (from four variables) each pair against the rest."""
    out: list[tuple[tuple[int, ...], tuple[int, ...]]] = []
    seen: set[frozenset[int]] = set()
    for size in (1, 2):
        if size > 1 and d < 4:
            break
        for A in itertools.combinations(range(d), size):
            B = tuple(c for c in range(d) if c not in A)
            key = frozenset(A) if 0 in A else frozenset(B)
            if not B or key in seen:
                continue
            seen.add(key)
            out.append((A, B))
    return out


def structure_tests(surrogate: Surrogate, X: Any, *, kinds: Sequence[str] = KINDS,
                    pairs: Sequence[tuple[int, int]] | None = None, n_samples: int = 400,
                    tolerance: float = TOLERANCE,
                    max_relative_error: float = MAX_RELATIVE_ERROR,
                    random_state: int | None = 0) -> list[Evidence]:
    """Every test `find_decomposition` runs, with its evidence, in order.

    Symmetries for every pair of columns (or only ``pairs``: the caller may restrict them to
    variables of the same units); separations of each variable from the rest and, from four
    variables, of each pair from the rest. A separation's two tests share their points.
    """
    s, X, m, tol, mre = _check_common(surrogate, X, n_samples, tolerance, max_relative_error)
    kinds = _kinds(kinds)
    d = X.shape[1]
    pair_list = _pairs(pairs, d)
    sampler = _Sampler(X, _rng(random_state), s.X)
    out: list[Evidence] = []
    for kind in ("translation", "scaling"):
        if kind in kinds:
            out += [_symmetry(s, sampler, kind, i, j, m, tol, mre) for i, j in pair_list]
    if "additive" in kinds or "multiplicative" in kinds:
        for A, B in _partitions(d):
            out += _separation(s, sampler, A, B, m, kinds, tol, mre)
    return out


@dataclass(frozen=True, eq=False)
class Decomposition:
    """One way to split the problem, with the evidence for it.

    ``kind`` is ``"additive"`` (``f = g(x_A) + h(x_B)``), ``"multiplicative"``
    (``f = g(x_A) * h(x_B)``), ``"translation"`` (``f`` depends on ``x_i - x_j``) or ``"scaling"``
    (on ``x_i / x_j``). ``parts`` is ``(A, B)`` for the first two, ``((i, j),)`` for the others.
    For a separation, ``reference`` is the row ``(a0, b0)`` the parts are read along and ``f0``
    the surrogate's value there; ``surrogate`` is the one the parts' data come from.
    """

    kind: str
    parts: tuple[tuple[int, ...], ...]
    n_variables: int
    evidence: Evidence
    reference: np.ndarray | None = field(default=None, repr=False)
    f0: float | None = None
    surrogate: Surrogate | None = field(default=None, repr=False)


def _cost(ev: Evidence, d: int) -> float:
    if ev.kind in ("translation", "scaling"):
        return _COST_BASE ** (d - 1)
    return sum(_COST_BASE ** len(p) for p in ev.parts)


def _reference(s: Surrogate, X: np.ndarray, kind: str, A: tuple[int, ...],
               rng: np.random.Generator) -> tuple[np.ndarray, float]:
    """The point ``(a0, b0)`` the parts are read along, and ``f0`` there.

    For a sum, the row nearest the middle of the data, where the surrogate is best. For a
    product the parts are ``g = f(a, b0)`` and ``h = f(a0, b)`` and the whole is ``g h / f0``,
    which magnifies their errors by ``|h(b)/h(b0)|`` and ``|g(a)/g(a0)|``: of the points that
    cross 64 inner rows (every column between its 10% and 90% quantiles), the one where ``|f|``
    is largest.
    """
    if kind == "additive":
        sd = X.std(0)
        sd = np.where(sd > 0, sd, 1.0)
        row = X[np.argmin((((X - np.median(X, axis=0)) / sd) ** 2).sum(1))]
        return row.copy(), float(s(row[None, :])[0])
    q10, q90 = np.quantile(X, [0.1, 0.9], axis=0)
    inner = X[np.all((X >= q10) & (X <= q90), axis=1)]
    if len(inner) < 8:
        inner = X
    rows = inner[rng.permutation(len(inner))[:64]]
    cross = np.repeat(rows, len(rows), axis=0)      # every pair (p, q) of rows: b from p ...
    cross[:, list(A)] = np.tile(rows, (len(rows), 1))[:, list(A)]   # ... a from q
    f = s(cross)
    k = int(np.argmax(np.abs(f)))
    return cross[k].copy(), float(f[k])


def find_decomposition(X: Any, y: Any, *, surrogate: Surrogate | None = None,
                       kinds: Sequence[str] = KINDS,
                       pairs: Sequence[tuple[int, int]] | None = None, n_samples: int = 400,
                       tolerance: float = TOLERANCE,
                       max_relative_error: float = MAX_RELATIVE_ERROR,
                       random_state: int | None = 0) -> Decomposition | None:
    """The cheapest accepted split of ``y = f(X)``, or None if no test accepts one.

    Runs `structure_tests` on ``surrogate`` (built with `fit_surrogate` when not given) and
    keeps the accepted structure that leaves the least work: a problem of k variables costs
    ``10**k``, so a symmetry (one problem of d - 1 variables, read off the rows exactly) beats a
    separation of one variable (two problems, 1 and d - 1, read off the surrogate), and a
    separation into pairs beats both from four variables on. Ties go to the smaller violation.

    >>> rng = np.random.default_rng(0)
    >>> X = rng.uniform(1, 5, (300, 2))
    >>> find_decomposition(X, X[:, 0] ** 2 + np.sin(X[:, 1])).kind
    'additive'
    >>> find_decomposition(X, np.sin(X[:, 0] * X[:, 1])) is None
    True
    """
    X = _as_X(X)
    y = _as_y(y, X.shape[0])
    if surrogate is None:
        surrogate = fit_surrogate(X, y, random_state=random_state)
    evidence = structure_tests(surrogate, X, kinds=kinds, pairs=pairs, n_samples=n_samples,
                               tolerance=tolerance, max_relative_error=max_relative_error,
                               random_state=random_state)
    d = X.shape[1]
    accepted = [ev for ev in evidence if ev.accepted]
    if not accepted:
        return None
    best = min(accepted, key=lambda ev: (_cost(ev, d), ev.violation, KINDS.index(ev.kind)))
    reference, f0 = None, None
    if best.kind in ("additive", "multiplicative"):
        reference, f0 = _reference(surrogate, X, best.kind, best.parts[0], _rng(random_state))
    return Decomposition(best.kind, best.parts, d, best, reference, f0, surrogate)


# ---------------------------------------------------------------------------------------------
# The parts' data, and the whole put back together


@dataclass(frozen=True, eq=False)
class Part:
    """The data of one part: search ``y ~ X`` as a problem of its own.

    ``variables`` says what each column of ``X`` is in the original variables (``"x1 - x2"``
    for a translation); `recombine` expects the part's formula written in ``x0, x1, ...`` for
    those columns, as a search on ``X`` alone names them.
    """

    X: np.ndarray = field(repr=False)
    y: np.ndarray = field(repr=False)
    variables: tuple[str, ...]
    description: str


def _names(names: Any, d: int) -> list[str]:
    if names is None:
        return [f"x{k}" for k in range(d)]
    names = [str(check_instance(n, f"names[{k}]", str)) for k, n in enumerate(names)]
    if len(names) != d:
        raise ValueError(f"names must give one name per variable, {d}, got {len(names)}")
    return names


def split_data(decomposition: Decomposition, X: Any, y: Any,
               names: Sequence[str] | None = None) -> list[Part]:
    """The data of each part of ``decomposition``, on the rows of ``X``.

    Separations read the surrogate along the reference row ``(a0, b0)``, with ``f0 = f(a0, b0)``:
    ``g(a) = f(a, b0)`` and ``h(b) = f(a0, b)``; then ``f = g + h - f0`` (additive) or
    ``f = g * h / f0`` (multiplicative). The constant ``f0`` stays with the decomposition
    rather than inside one part, so both parts are ``f`` itself along a line and keep its
    units. Symmetries need no surrogate: ``x_i`` becomes ``x_i - x_j`` (or ``x_i / x_j``, rows
    with ``x_j = 0`` dropped), ``x_j`` goes, and ``y`` stays the measured one.
    """
    dec = check_instance(decomposition, "decomposition", Decomposition,
                         hint="get one from find_decomposition")
    X = _as_X(X)
    y = _as_y(y, X.shape[0])
    d = dec.n_variables
    if X.shape[1] != d:
        raise ValueError(f"X has {X.shape[1]} columns but the decomposition is of {d} variables")
    nm = _names(names, d)
    if dec.kind in ("translation", "scaling"):
        (i, j), = dec.parts
        op = " - " if dec.kind == "translation" else " / "
        with np.errstate(divide="ignore", invalid="ignore"):
            merged = X[:, i] - X[:, j] if dec.kind == "translation" else X[:, i] / X[:, j]
        keep = np.isfinite(merged)
        cols = [c for c in range(d) if c != j]
        Xn = X[:, cols].copy()
        Xn[:, cols.index(i)] = merged
        variables = tuple(f"{nm[i]}{op}{nm[j]}" if c == i else nm[c] for c in cols)
        return [Part(Xn[keep], y[keep], variables,
                     f"f with {nm[i]}, {nm[j]} replaced by {nm[i]}{op}{nm[j]}")]
    s, ref = dec.surrogate, dec.reference
    if s is None or ref is None:
        raise ValueError("this decomposition carries no surrogate and reference row; get it "
                         "from find_decomposition")
    parts = []
    for side, other in ((dec.parts[0], dec.parts[1]), (dec.parts[1], dec.parts[0])):
        Q = X.copy()
        Q[:, list(other)] = ref[list(other)]
        held = ", ".join(f"{nm[c]}={ref[c]:.4g}" for c in other)
        parts.append(Part(X[:, list(side)].copy(), s(Q), tuple(nm[c] for c in side),
                          f"f with {held}"))
    return parts


def _sympy(formula: Any, k: int) -> sp.Expr:
    if isinstance(formula, sp.Basic):
        return formula
    if isinstance(formula, (int, float, np.integer, np.floating)) and not isinstance(formula,
                                                                                     bool):
        return sp.Float(float(formula)) if isinstance(formula, float) else sp.Integer(formula)
    raise TypeError(f"formulas[{k}] must be a SymPy expression, got {type(formula).__name__}; "
                    "use model.sympy() or sympy.sympify on trusted text")


def recombine(decomposition: Decomposition, formulas: Sequence[Any],
              names: Sequence[str] | None = None) -> sp.Expr:
    """The formula of the whole from the formulas of the parts, in the original variables.

    ``formulas[k]`` is part k's formula (as `split_data` ordered the parts) written in ``x0,
    x1, ...`` for its own columns; symbols are matched by name. Returns ``g + h - f0``,
    ``g * h / f0`` or the one formula with its merged variable written out. Its constants come
    from the parts; refit them on the raw data before trusting it.

    >>> dec = Decomposition("translation", ((1, 2),), 3, None)
    >>> x0, x1 = sp.symbols("x0 x1")
    >>> recombine(dec, [x0 + x1 ** 2])
    x0 + (x1 - x2)**2
    """
    dec = check_instance(decomposition, "decomposition", Decomposition,
                         hint="get one from find_decomposition")
    d = dec.n_variables
    nm = _names(names, d)
    sym = [sp.Symbol(n, real=True) for n in nm]
    formulas = list(formulas)
    want = 1 if dec.kind in ("translation", "scaling") else 2
    if len(formulas) != want:
        raise ValueError(f"a {dec.kind} decomposition has {want} part(s); got {len(formulas)} "
                         "formulas")
    exprs = [_sympy(f, k) for k, f in enumerate(formulas)]

    def put(expr: sp.Expr, columns: Sequence[sp.Expr]) -> sp.Expr:
        local = {f"x{k}": v for k, v in enumerate(columns)}
        return expr.xreplace({s: local[s.name] for s in expr.free_symbols
                              if isinstance(s, sp.Symbol) and s.name in local})

    if dec.kind in ("translation", "scaling"):
        (i, j), = dec.parts
        merged = sym[i] - sym[j] if dec.kind == "translation" else sym[i] / sym[j]
        columns = [merged if c == i else sym[c] for c in range(d) if c != j]
        return put(exprs[0], columns)
    if dec.f0 is None:
        raise ValueError("this decomposition carries no f0; get it from find_decomposition")
    g = put(exprs[0], [sym[c] for c in dec.parts[0]])
    h = put(exprs[1], [sym[c] for c in dec.parts[1]])
    f0 = sp.Float(dec.f0)
    return g + h - f0 if dec.kind == "additive" else g * h / f0
