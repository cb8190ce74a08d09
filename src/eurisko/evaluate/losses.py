"""The loss registry: how a residual ``r = prediction - y`` is charged, declared once.

A loss is an elementwise function ``rho(r, d)`` of the residual and of a scale ``d`` (Huber's
delta, the width of log-cosh; losses that need none ignore it). The loss of a formula is the
weighted mean ``sum(w * rho(r, d)) / sum(w)``. Each entry carries:

* ``scalar``: numba-compilable code of ``rho`` in the scalar names ``r`` and ``d`` (pasted
  into the generated kernels, like an operator's scalar code);
* ``numpy``: the vectorised ``rho`` (the reference evaluator and constant fitting);
* ``weight``: the iteratively-reweighted-least-squares weight ``rho'(r) / (2 r)`` as scalar
  code (and ``numpy_weight`` vectorised). When a loss gives none, both come from a central
  difference of ``rho``. IRLS minimises ``sum(w * rho)`` by weighted least squares with these
  weights: for losses with ``rho(sqrt(s))`` concave in ``s`` (all the built-ins) each step is
  a majorise-minimise step and never raises the loss;
* ``degree``: ``rho(s r, s d) = s**degree * rho(r, d)``, so losses follow the target when it is
  rescaled by a power of two (`eurisko.search.scaling`).

The built-ins are written so that ``rho(r) ~ r**2`` for small ``r`` (``"l2"``, ``"huber"``,
``"logcosh"``): on clean data they rank formulas as least squares does, while a residual far
beyond ``d`` costs only linearly. ``"l1"`` is the mean absolute error (degree 1).

`LossSpec` names the loss a fit uses and its ``d``; it travels inside `evaluate.Dataset`, so
every layer that rates a formula on a dataset rates it with the same loss.
"""

from __future__ import annotations

import hashlib
import importlib
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from eurisko.validation import check_int

__all__ = [
    "DEFAULT_LOSS", "IRLS_ITER", "Loss", "LossSpec", "baseline_loss", "default_loss_scale",
    "get_loss", "loss_names", "register_loss", "robust_fit",
]

#: IRLS rounds of linear scaling under a robust loss (each one pass over the rows); the
#: iteration also stops as soon as a round lowers the loss by less than ``IRLS_RTOL``
IRLS_ITER = 30
IRLS_RTOL = 1e-10
#: Huber's tuning constant: 95% efficiency at the normal distribution (Huber 1964)
HUBER_K = 1.345
#: MAD to standard deviation at the normal distribution
MAD_TO_SIGMA = 1.482602218505602

DEFAULT_LOSS = "l2"
_NAME_RE = re.compile(r"^[a-z_][a-z0-9_]*$")


@dataclass(frozen=True)
class Loss:
    """One loss of the registry (see the module docstring for the fields)."""

    name: str
    scalar: str
    numpy: Callable[[np.ndarray, float], np.ndarray]
    weight: str | None = None
    numpy_weight: Callable[[np.ndarray, float], np.ndarray] | None = None
    degree: int = 2
    imports: tuple[tuple[str, str, str], ...] = field(default=())  # (module, name, alias)

    def value(self, r: np.ndarray, d: float) -> np.ndarray:
        """``rho(r, d)`` elementwise, in float64."""
        return np.asarray(self.numpy(np.asarray(r, dtype=np.float64), float(d)),
                          dtype=np.float64)

    def weights(self, r: np.ndarray, d: float) -> np.ndarray:
        """IRLS weights ``rho'(r) / (2 r)`` elementwise (a central difference without a
        declared weight; the kernels use the same formula)."""
        r = np.asarray(r, dtype=np.float64)
        with np.errstate(all="ignore"):
            if self.numpy_weight is not None:
                return np.asarray(self.numpy_weight(r, float(d)), dtype=np.float64)
            h = 1e-4 * (np.abs(r) + d)
            re = np.where(np.abs(r) > h, r, h)
            return (self.value(re + h, d) - self.value(re - h, d)) / (4.0 * h * re)


def _l2(r, d):
    return r * r


def _l2_w(r, d):
    return np.ones_like(r)


def _l1(r, d):
    return np.abs(r)


def _l1_w(r, d):
    return 0.5 / np.maximum(np.abs(r), 1e-6 * d)


def _huber(r, d):
    m = np.minimum(np.abs(r), d)
    return m * (2.0 * np.abs(r) - m)


def _huber_w(r, d):
    return d / np.maximum(np.abs(r), d)


def _logcosh(r, d):
    x = np.abs(r) / d
    small = x < 1e-4
    xs = np.where(small, 1.0, x)
    big = xs + np.log1p(np.exp(-2.0 * xs)) - math.log(2.0)
    return 2.0 * d * d * np.where(small, 0.5 * x * x, big)


def _logcosh_w(r, d):
    x = np.abs(r) / d
    small = x < 1e-4
    xs = np.where(small, 1.0, x)
    return np.where(small, 1.0, np.tanh(xs) / xs)


_BUILTINS: list[Loss] = [
    Loss("l2", "r * r", _l2, "1.0", _l2_w, 2),
    Loss("l1", "abs(r)", _l1, "0.5 / max(abs(r), 1e-6 * d)", _l1_w, 1),
    Loss("huber", "r * r if abs(r) <= d else d * (2.0 * abs(r) - d)", _huber,
         "1.0 if abs(r) <= d else d / abs(r)", _huber_w, 2),
    Loss("logcosh",
         "2.0 * d * d * (0.5 * (r / d) ** 2 if abs(r) < 1e-4 * d else "
         "abs(r) / d + math.log1p(math.exp(-2.0 * abs(r) / d)) - 0.6931471805599453)",
         _logcosh,
         "1.0 if abs(r) < 1e-4 * d else math.tanh(abs(r) / d) / (abs(r) / d)", _logcosh_w, 2),
]

_BUILTIN_BY_NAME: dict[str, Loss] = {lo.name: lo for lo in _BUILTINS}
_REGISTRY: list[Loss] = list(_BUILTINS)
_FINGERPRINT: dict[str, str] = {}


def registry() -> tuple[Loss, ...]:
    """All registered losses, in loss-code order (the kernels dispatch on the index)."""
    return tuple(_REGISTRY)


def loss_names() -> tuple[str, ...]:
    """Names of the registered losses."""
    return tuple(lo.name for lo in _REGISTRY)


def custom_losses() -> tuple[Loss, ...]:
    """Losses registered by the user (worker processes must import the user's code)."""
    return tuple(lo for lo in _REGISTRY if lo is not _BUILTIN_BY_NAME.get(lo.name))


def install_losses(custom: Sequence[Loss]) -> None:
    """Make the registry the built-ins plus ``custom``, in order (what `custom_losses`
    returned in another process), so that loss codes mean the same on both sides.

    A Dask worker calls this with the driver's custom losses before it evaluates anything."""
    for lo in custom:
        if not isinstance(lo, Loss):
            raise TypeError(f"install_losses takes Loss entries, got {type(lo).__name__}")
    _REGISTRY[:] = list(_BUILTINS)
    for lo in custom:
        names = loss_names()
        if lo.name in names:
            _REGISTRY[names.index(lo.name)] = lo
        else:
            _REGISTRY.append(lo)
    _FINGERPRINT.clear()


def get_loss(name: str) -> Loss:
    """The loss called ``name``; a ValueError lists the known names otherwise."""
    if not isinstance(name, str):
        raise TypeError(f"loss must be the name of a loss (a str), got {type(name).__name__}")
    for lo in _REGISTRY:
        if lo.name == name:
            return lo
    raise ValueError(f"unknown loss {name!r}; known losses are: {', '.join(loss_names())} "
                     "(declare new ones with eurisko.register_loss)")


def loss_code(name: str) -> int:
    """Index of the loss ``name`` in the registry (what the kernels dispatch on)."""
    get_loss(name)
    return loss_names().index(name)


def loss_fingerprint() -> str:
    """A hash of what the kernels compile of the losses (part of the kernel file's name)."""
    fp = _FINGERPRINT.get("fp")
    if fp is None:
        text = "\n".join(f"{lo.name}|{lo.scalar}|{lo.weight}|{lo.imports}" for lo in _REGISTRY)
        fp = _FINGERPRINT["fp"] = hashlib.sha1(text.encode()).hexdigest()[:8]
    return fp


def _callable_import(fn: Callable, what: str) -> tuple[str, str]:
    module, qualname = getattr(fn, "__module__", None), getattr(fn, "__qualname__", "")
    if not module or module == "__main__" or "." in qualname or "<" in qualname:
        raise ValueError(
            f"the {what} function {fn!r} of a custom loss must be defined at the top level of "
            "an importable module (not __main__, not a lambda), so compiled kernels can import "
            "it; or give it as a string such as 'abs(r) ** 1.5'")
    if getattr(importlib.import_module(module), qualname, None) is not fn:
        raise ValueError(f"{module}.{qualname} does not resolve to {fn!r}")
    return module, qualname


def register_loss(
    name: str,
    *,
    numpy: Callable[[np.ndarray, float], np.ndarray],
    scalar: str | Callable,
    weight: str | Callable | None = None,
    numpy_weight: Callable[[np.ndarray, float], np.ndarray] | None = None,
    degree: int = 2,
    replace: bool = False,
) -> Loss:
    """Declare a loss ``rho(r, d)`` once; the kernels, the reference and constant fitting use it.

    ``r`` is the residual (prediction minus target), ``d`` the fit's ``loss_scale`` (in the
    target's units). ``numpy`` is the vectorised function; ``scalar`` the same as numba code in
    ``r`` and ``d`` (e.g. ``"abs(r) ** 1.5"``), or a function defined at the top level of an
    importable module (jitted by the kernels). ``weight``/``numpy_weight``: the IRLS weight
    ``rho'(r) / (2 r)`` as scalar code and vectorised; by default a central difference of
    ``rho``. ``degree``: ``rho(s r, s d) = s**degree rho(r, d)`` (2 for squared-error-like
    losses, 1 for absolute ones); the search relies on it when it rescales the target.

    Then ``SymbolicRegressor(loss=name)`` fits with it. Registering changes the kernels for the
    rest of the process (one compilation), as `register_operator` does.

    Example
    -------
    >>> import numpy as np
    >>> register_loss("l1_5", numpy=lambda r, d: np.abs(r) ** 1.5,
    ...               scalar="abs(r) ** 1.5", degree=2)  # doctest: +SKIP
    """
    if not isinstance(name, str) or not _NAME_RE.match(name):
        raise ValueError(f"loss name {name!r} must be a lower-case identifier like 'cauchy'")
    if not callable(numpy):
        raise TypeError(f"numpy must be a function rho(r, d) on arrays, got {numpy!r}")
    if numpy_weight is not None and not callable(numpy_weight):
        raise TypeError(f"numpy_weight must be a function of (r, d) or None, got {numpy_weight!r}")
    check_int(degree, "degree", low=1, hint="2 for squared-error-like losses, 1 for absolute")
    if name in loss_names() and not replace:
        raise ValueError(f"loss {name!r} exists already; pass replace=True to redefine it")
    imports: list[tuple[str, str, str]] = []
    srcs = []
    for what, src in (("scalar", scalar), ("weight", weight)):
        if src is None:
            srcs.append(None)
        elif callable(src):
            alias = f"_loss_{what}_{name}"
            imports.append((*_callable_import(src, what), alias))
            srcs.append(f"{alias}(r, d)")
        elif isinstance(src, str):
            srcs.append(src)
        else:
            raise TypeError(f"{what} must be numba code as a str or a top-level function, "
                            f"got {type(src).__name__}")
    if srcs[0] is None:
        raise ValueError("scalar is required: the loss's code in r and d for the kernels")
    if weight is not None and numpy_weight is None:
        numpy_weight = weight if callable(weight) else None
    lo = Loss(name, srcs[0], numpy, srcs[1], numpy_weight, int(degree), tuple(imports))
    # a smoke test of the reference: it must map residuals to finite, non-negative numbers
    probe = lo.value(np.array([-2.0, 0.0, 0.5]), 1.0)
    if probe.shape != (3,) or not np.all(np.isfinite(probe)) or np.any(probe < 0):
        raise ValueError(f"loss {name!r}: numpy(r, d) must return a finite, non-negative value "
                         f"per residual, got {probe!r} for r = [-2, 0, 0.5], d = 1")
    names = loss_names()
    if name in names:
        _REGISTRY[names.index(name)] = lo
    else:
        _REGISTRY.append(lo)
    _FINGERPRINT.clear()
    return lo


@dataclass(frozen=True)
class LossSpec:
    """The loss a fit uses: its registry name and its scale ``d`` (in the target's units)."""

    name: str = DEFAULT_LOSS
    scale: float = 1.0

    @property
    def is_l2(self) -> bool:
        return self.name == "l2"

    @property
    def entry(self) -> Loss:
        return get_loss(self.name)

    @property
    def degree(self) -> int:
        return self.entry.degree

    def value(self, r: np.ndarray) -> np.ndarray:
        return self.entry.value(r, self.scale)

    def weights(self, r: np.ndarray) -> np.ndarray:
        return self.entry.weights(r, self.scale)

    def rescaled(self, y_exp: int) -> LossSpec:
        """The same loss on the target divided by ``2**y_exp``."""
        return LossSpec(self.name, float(np.ldexp(self.scale, -int(y_exp))))


L2 = LossSpec()


def default_loss_scale(y: np.ndarray, X: np.ndarray | None = None) -> float:
    """Default ``d``: Huber's 95%-efficiency constant 1.345 times a robust estimate of the
    noise's standard deviation.

    The noise is read from differences between nearest neighbours (columns of ``X``
    standardised; at most 5000 rows): ``y_i - y_j`` of neighbours is noise plus a little
    variation of the law, and the MAD of those differences (times 1.4826 / sqrt(2)) ignores
    the few rows that are gross outliers. So residuals at the noise level are charged as
    least squares and outliers, far beyond it, only linearly, whatever the units of ``y``.
    Without ``X``, or when that estimate is zero (noise-free data on a grid), it falls back to
    ``1e-3`` of the robust spread of ``y`` (1.4826 MAD), then to 1."""
    y = np.asarray(y, dtype=np.float64)
    dev = np.abs(y - np.median(y))
    spread = MAD_TO_SIGMA * float(np.median(dev))
    if not spread > 0:
        spread = float(np.mean(dev))
    if not (spread > 0 and math.isfinite(spread)):
        return HUBER_K
    s = 0.0
    if X is not None and len(y) >= 3:
        from scipy.spatial import cKDTree

        Z = np.asarray(X, dtype=np.float64).reshape(len(y), -1)
        idx = np.arange(len(y))
        if len(y) > 5000:
            idx = np.sort(np.random.default_rng(0).choice(len(y), 5000, replace=False))
        Z = Z[idx]
        sd = Z.std(axis=0)
        Z = (Z - Z.mean(axis=0)) / np.where(sd > 0, sd, 1.0)
        _, nn = cKDTree(Z).query(Z, k=2)
        diff = y[idx] - y[idx][nn[:, 1]]
        s = MAD_TO_SIGMA * float(np.median(np.abs(diff - np.median(diff)))) / math.sqrt(2.0)
    if not (s > 0 and math.isfinite(s)):
        s = 1e-3 * spread
    return HUBER_K * min(s, spread)


def robust_fit(f: np.ndarray, y: np.ndarray, w: np.ndarray | None, spec: LossSpec,
               scaling: bool, eps: float = np.finfo(np.float64).eps
               ) -> tuple[float, float, float]:
    """``(a, b, loss)``: the mean loss of ``f`` against ``y``; with ``scaling``, of the best
    ``a + b * f`` found by IRLS from the least-squares ``a, b`` (``b = 0`` when ``f`` is
    constant to rounding). The numpy twin of the kernels' rule, step for step."""
    f = np.asarray(f, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    w = np.ones_like(y) if w is None else np.asarray(w, dtype=np.float64)
    W = float(w.sum())
    with np.errstate(all="ignore"):
        if not np.all(np.isfinite(f)) or not W > 0:
            return 0.0, 1.0, math.inf
        if not scaling:
            v = float(np.sum(w * spec.value(f - y)) / W)
            return 0.0, 1.0, v if math.isfinite(v) else math.inf
        kf, ky = float(f[0]), float(y[0])
        g, h = f - kf, y - ky

        def solve(u: np.ndarray, const: bool) -> tuple[float, float] | None:
            U = float(u.sum())
            if not U > 0:
                return None
            ug = float(np.sum(u * g))
            mg, mh = ug / U, float(np.sum(u * h)) / U
            vg = float(np.sum(u * g * g)) - ug * mg
            cg = float(np.sum(u * g * h)) - ug * mh
            b = 0.0 if const or not vg > 0 else cg / vg
            return (ky + mh) - b * (kf + mg), b

        S = W
        sg = float(np.sum(w * g))
        vg = float(np.sum(w * g * g)) - sg * sg / S
        const = not (vg > S * (2.0 * eps * (kf + sg / S)) ** 2 and vg > 0)
        a, b = solve(w, const)  # type: ignore[misc]
        best, ba, bb = math.inf, a, b
        for it in range(IRLS_ITER + 1):
            r = a + b * f - y
            L = float(np.sum(w * spec.value(r))) / W
            if not L < best:
                break
            improved = best - L > IRLS_RTOL * L
            best, ba, bb = L, a, b
            if not improved or it == IRLS_ITER:
                break
            nxt = solve(w * spec.weights(r), const)
            if nxt is None:
                break
            a, b = nxt
        return ba, bb, best if math.isfinite(best) else math.inf


def baseline_loss(y: np.ndarray, w: np.ndarray | None, spec: LossSpec) -> float:
    """Loss of the best constant prediction: ``var(y)`` for l2, the yardstick that
    normalises losses (selection, exact fits) for the others."""
    y = np.asarray(y, dtype=np.float64)
    return float(robust_fit(np.zeros_like(y), y, w, spec, True)[2])
