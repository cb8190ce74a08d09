"""Sparse regression with no threshold to tune: which few library terms make each dx/dt?

For each equation the candidate supports come from two paths over the normalised library
(columns scaled to unit RMS, so coefficients are comparable across terms of different size):

* backward elimination: start from all terms and repeatedly drop the one whose removal raises
  the residual least (computed from the inverse Gram matrix, no refits);
* sequentially thresholded least squares (STLSQ, the SINDy optimiser) at a geometric grid of
  thresholds spanning the full fit's coefficients.

Every support is then scored by K-fold cross-validation over contiguous blocks of samples
(held-out error, not training error), and the rule picks the *smallest* support whose held-out
error is within one standard error (across the folds) of the best one, errors below 1e-10 of
the target's variance counting as equal. The user never sets a threshold.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from eurisko.validation import check_int, check_number

__all__ = ["SparseRegression", "EquationFit", "contiguous_folds"]

_RIDGE = 1e-12  # relative, keeps nearly collinear Gram matrices invertible


def contiguous_folds(lengths: list[int], n_folds: int) -> np.ndarray:
    """Fold label of each sample: each trajectory cut into ``n_folds`` contiguous blocks.

    Blocks rather than random samples, because neighbouring samples of a trajectory are nearly
    copies of each other: a random split would let a model that fits noise look good.
    """
    labels = []
    for n in lengths:
        k = min(n_folds, max(n, 1))
        labels.append(np.minimum((np.arange(n) * k) // max(n, 1), k - 1))
    return np.concatenate(labels) if labels else np.empty(0, dtype=np.int64)


@dataclass
class EquationFit:
    """The chosen terms of one equation and the evidence for them."""

    coef: np.ndarray  # (n_terms,), in the library's units
    support: np.ndarray  # indices of the terms used
    cv_mse: float  # held-out mean squared error of the chosen support
    best_cv_mse: float  # lowest held-out error of any support tried
    target_var: float  # variance of the target, for R^2
    path: list[tuple[int, float]] = field(default_factory=list)  # (size, cv_mse) per support

    @property
    def cv_r2(self) -> float:
        return 1.0 - self.cv_mse / self.target_var if self.target_var > 0 else 1.0


def _solve(G: np.ndarray, c: np.ndarray) -> np.ndarray:
    if G.shape[0] == 0:
        return np.zeros(0)
    ridge = _RIDGE * max(float(np.trace(G)) / G.shape[0], 1e-300)
    try:
        return np.linalg.solve(G + ridge * np.eye(G.shape[0]), c)
    except np.linalg.LinAlgError:
        return np.linalg.lstsq(G, c, rcond=None)[0]


def _backward_path(G: np.ndarray, c: np.ndarray, active: np.ndarray) -> list[tuple[int, ...]]:
    """Nested supports from all active terms down to one, dropping the least useful each time."""
    S = list(np.flatnonzero(active))
    out = [tuple(S)]
    while len(S) > 1:
        Gs = G[np.ix_(S, S)]
        ridge = _RIDGE * max(float(np.trace(Gs)) / len(S), 1e-300)
        try:
            H = np.linalg.inv(Gs + ridge * np.eye(len(S)))
        except np.linalg.LinAlgError:
            H = np.linalg.pinv(Gs)
        xi = H @ c[S]
        cost = xi**2 / np.maximum(np.diag(H), 1e-300)  # rise in RSS if the term is dropped
        S.pop(int(np.argmin(cost)))
        out.append(tuple(S))
    return out


def _stlsq(G: np.ndarray, c: np.ndarray, active: np.ndarray, threshold: float,
           max_iter: int = 25) -> tuple[int, ...]:
    S = np.flatnonzero(active)
    for _ in range(max_iter):
        if S.size == 0:
            break
        xi = _solve(G[np.ix_(S, S)], c[S])
        keep = np.abs(xi) >= threshold
        if keep.all():
            break
        S = S[keep]
    return tuple(int(i) for i in S)


def _refined(A: np.ndarray, y: np.ndarray, G: np.ndarray, c: np.ndarray) -> np.ndarray:
    """Least squares through the Gram matrix plus one step of iterative refinement on the data:
    as accurate as a QR solve (clean data leave residuals near 1e-10 of the signal, where the
    normal equations alone would lose the digits that tell a true term from a spurious one)."""
    xi = _solve(G, c)
    if xi.size:
        xi = xi + _solve(G, A.T @ (y - A @ xi))
    return xi


def _cv_errors(S, A, y, masks, G, Gk, ck, yyk, nk) -> np.ndarray:
    """Held-out mean squared error of support ``S`` on each fold (residuals computed directly)."""
    out = np.empty(len(nk))
    c = ck.sum(axis=0)
    for k, m in enumerate(masks):
        if not S:
            out[k] = yyk[k] / nk[k]
            continue
        tr = ~m
        Gtr = (G - Gk[k])[np.ix_(S, S)]
        xi = _refined(A[np.ix_(tr, S)], y[tr], Gtr, (c - ck[k])[S])
        r = y[m] - A[np.ix_(m, S)] @ xi
        out[k] = float(r @ r) / nk[k]
    return out


@dataclass
class SparseRegression:
    """Choose the terms of each equation by held-out error, preferring fewer terms.

    Parameters
    ----------
    n_folds : int, default 5
        Cross-validation folds (contiguous blocks of samples).
    n_thresholds : int, default 40
        STLSQ thresholds tried, on a geometric grid over the full fit's coefficients.
    se_factor : float, default 1.0
        How many standard errors (of the best support's held-out error across the folds) a
        smaller support may lose and still be preferred: 1.0 is the classic one-standard-error
        rule; 0 picks the lowest held-out error.
    max_terms : int, optional
        Largest support considered per equation.
    floor : float, default 1e-10
        Held-out errors below this fraction of the target's variance count as equal: on clean
        data the last terms only fit rounding and quadrature error, consistently enough across
        folds to pass any statistical test, so precision, not significance, stops them.
    """

    n_folds: int = 5
    n_thresholds: int = 40
    se_factor: float = 1.0
    max_terms: int | None = None
    floor: float = 1e-10

    def __post_init__(self) -> None:
        self.n_folds = check_int(self.n_folds, "n_folds", low=2)
        self.n_thresholds = check_int(self.n_thresholds, "n_thresholds", low=1)
        self.se_factor = check_number(self.se_factor, "se_factor", low=0,
                                      what="standard errors")
        self.max_terms = check_int(self.max_terms, "max_terms", low=1, none_ok=True)
        self.floor = check_number(self.floor, "floor", low=0)

    def fit(self, theta: np.ndarray, Y: np.ndarray, folds: np.ndarray) -> list[EquationFit]:
        """One `EquationFit` per column of ``Y`` (targets) over the columns of ``theta``."""
        theta = np.asarray(theta, dtype=np.float64)
        Y = np.asarray(Y, dtype=np.float64)
        if Y.ndim == 1:
            Y = Y[:, None]
        n, p = theta.shape
        scale = np.sqrt(np.mean(theta**2, axis=0))
        active = scale > 1e-300 * max(float(scale.max(initial=0.0)), 1e-300)
        scale = np.where(active, scale, 1.0)
        A = theta / scale
        labels = np.unique(folds)
        # Per-fold Gram blocks: cross-validating a support then costs a few tiny solves.
        Gk = np.stack([A[folds == k].T @ A[folds == k] for k in labels])
        G = Gk.sum(axis=0)
        nk = np.array([np.sum(folds == k) for k in labels], dtype=np.float64)
        fits = []
        for j in range(Y.shape[1]):
            y = Y[:, j]
            ck = np.stack([A[folds == k].T @ y[folds == k] for k in labels])
            yyk = np.array([float(y[folds == k] @ y[folds == k]) for k in labels])
            fits.append(self._fit_one(A, y, folds, labels, G, Gk, ck, yyk, nk, active, scale))
        return fits

    def _fit_one(self, A, y, folds, labels, G, Gk, ck, yyk, nk, active,
                 scale) -> EquationFit:
        c = ck.sum(axis=0)
        supports: dict[tuple[int, ...], None] = {(): None}
        if active.any():
            for S in _backward_path(G, c, active):
                supports[S] = None
            xi_full = _solve(G[np.ix_(active, active)], c[active])
            mags = np.abs(xi_full)
            mags = mags[mags > 0]
            if mags.size:
                grid = np.geomspace(mags.min() * 0.999, mags.max() * 1.001, self.n_thresholds)
                for thr in grid:
                    supports[_stlsq(G, c, active, float(thr))] = None
        cands = [S for S in supports if self.max_terms is None or len(S) <= self.max_terms]
        K = len(nk)
        errs = np.empty((len(cands), K))
        masks = [folds == k for k in labels]
        for i, S in enumerate(cands):
            errs[i] = _cv_errors(list(S), A, y, masks, G, Gk, ck, yyk, nk)
        var = float(np.var(y))
        mean = errs @ nk / nk.sum()
        best = int(np.argmin(mean))
        sizes = np.array([len(S) for S in cands])
        se = float(np.std(errs[best], ddof=1) / np.sqrt(K)) if K > 1 else 0.0
        ok = mean <= max(mean[best], self.floor * var) + self.se_factor * se
        ok[best] = True
        smallest = sizes[ok].min()
        pick = min((i for i in range(len(cands)) if ok[i] and sizes[i] == smallest),
                   key=lambda i: mean[i])
        S = list(cands[pick])
        coef = np.zeros(A.shape[1])
        if S:
            coef[S] = _refined(A[:, S], y, G[np.ix_(S, S)], c[S]) / scale[S]
        return EquationFit(coef, np.array(S, dtype=np.int64), float(mean[pick]),
                           float(mean[best]), var,
                           [(int(sizes[i]), float(mean[i])) for i in np.argsort(sizes)])
