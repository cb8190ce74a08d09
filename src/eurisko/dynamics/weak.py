"""The weak (integral) form of dx/dt = f(x): regression without differentiating the data.

Multiply both sides by a smooth bump phi(t) that vanishes at the ends of a window and integrate
by parts: ``-integral(phi' x) = integral(phi f(x))``. The left side needs no derivative of the
data and averages noise over the window; the right side is linear in f's coefficients. One row
per window (Messenger and Bortz, WSINDy, 2021). Bumps ``((t-a)(b-t))^p`` with a high power p
vanish to high order at the window's ends, so the trapezoidal rule integrates them to near
machine precision on clean data too, and uneven steps are handled by the same rule.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from eurisko.validation import check_int, check_number

__all__ = ["WeakForm"]


def _trapezoid_weights(t: np.ndarray) -> np.ndarray:
    w = np.zeros_like(t)
    dt = np.diff(t)
    w[:-1] += dt / 2
    w[1:] += dt / 2
    return w


@dataclass
class WeakForm:
    """Test functions over sliding windows of samples, at a few window widths.

    Parameters
    ----------
    width : int, optional
        Samples per window at scale 1. ``None``: 2.5 times the lag at which the states'
        mean autocorrelation falls to one half (about a quarter of the dominant period of an
        oscillation), between 15 samples and a fifth of the trajectory. Wider windows average
        more noise; narrower ones keep more detail.
    scales : tuple of float, default (0.7, 1.0, 1.5)
        Window widths used, relative to ``width``; the rows of all of them are stacked, which
        makes the result less sensitive to any one width.
    power : int, default 8
        Power p of the bump ``((t-a)(b-t))^p``.
    stride : int, optional
        Samples between window starts (default: a quarter of the width, so windows overlap).
    """

    width: int | None = None
    scales: tuple[float, ...] = (0.7, 1.0, 1.5)
    power: int = 8
    stride: int | None = None

    def __post_init__(self) -> None:
        self.width = check_int(self.width, "width", low=5, none_ok=True, what="samples",
                               hint="None chooses it from the autocorrelation")
        self.scales = tuple(check_number(sc, f"scales[{i}]", low=0, low_open=True)
                            for i, sc in enumerate(self.scales))
        self.power = check_int(self.power, "power", low=1)
        self.stride = check_int(self.stride, "stride", low=1, none_ok=True, what="samples")

    def min_samples(self) -> int:
        return 15

    def choose_width(self, t: np.ndarray, X: np.ndarray) -> int:
        """Window length in samples (at scale 1) for a trajectory ``X(t)``."""
        n = len(t)
        if self.width is not None:
            return int(min(max(self.width, 5), n))
        Xc = (X - X.mean(axis=0)) / np.maximum(X.std(axis=0), 1e-300)
        F = np.fft.rfft(Xc, 2 * n, axis=0)
        ac = np.fft.irfft(np.abs(F) ** 2, axis=0)[:n].mean(axis=1)
        ac = ac / ac[0] if ac[0] > 0 else ac
        below = np.flatnonzero(ac < 0.5)
        lag = int(below[0]) if below.size else n
        return int(min(max(round(2.5 * lag), 15), max(n // 5, 5), n))

    def operators(self, t: np.ndarray, width: int):
        """Sparse matrices ``(Phi, dPhi, centres)``: row r holds the quadrature weights of test
        function r and of its derivative (divided by the bump's integral), so that
        ``Phi @ theta`` and ``-dPhi @ X`` are the weak-form rows. Cached per time grid."""
        from scipy.sparse import csr_matrix

        key = (hash(np.ascontiguousarray(t).tobytes()), int(width))
        cache = self.__dict__.setdefault("_cache", {})
        if key in cache:
            return cache[key]
        n = len(t)
        width = int(min(max(width, 3), n))
        stride = self.stride or max(1, width // 4)
        starts = np.arange(0, n - width + 1, stride)
        p = int(self.power)
        cols = starts[:, None] + np.arange(width)[None, :]
        tt = t[cols]
        span = tt[:, -1:] - tt[:, :1]
        u = (tt - tt[:, :1]) / span
        phi = (u * (1 - u)) ** p
        dphi = p * (u * (1 - u)) ** (p - 1) * (1 - 2 * u) / span
        dt = np.diff(tt, axis=1)
        w = np.zeros_like(tt)
        w[:, :-1] += dt / 2
        w[:, 1:] += dt / 2
        norm = np.sum(w * phi, axis=1, keepdims=True)
        norm = np.where(norm > 0, norm, 1.0)
        rows = np.repeat(np.arange(starts.size), width)
        shape = (starts.size, n)
        Phi = csr_matrix(((w * phi / norm).ravel(), (rows, cols.ravel())), shape=shape)
        dPhi = csr_matrix(((w * dphi / norm).ravel(), (rows, cols.ravel())), shape=shape)
        if len(cache) > 64:
            cache.clear()
        cache[key] = (Phi, dPhi, starts + width / 2)
        return cache[key]

    def rows(self, t: np.ndarray, X: np.ndarray, theta: np.ndarray,
             width: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(G, B, centres)``: one row per window, ``G = <phi, theta>``, ``B = -<phi', x>``
        (both divided by the bump's integral), and each window's centre sample."""
        Phi, dPhi, centres = self.operators(t, width)
        return np.asarray(Phi @ theta), -np.asarray(dPhi @ X), centres

    def system(self, ts: Sequence[np.ndarray], Xs: Sequence[np.ndarray],
               thetas: Sequence[np.ndarray], n_folds: int = 5
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Stacked rows of every trajectory and scale, and each row's cross-validation fold
        (contiguous blocks of time within each trajectory, so a fold is a stretch of motion)."""
        Gs, Bs, folds = [], [], []
        for t, X, th in zip(ts, Xs, thetas, strict=True):
            w0 = self.choose_width(t, X)
            for sc in self.scales:
                w = int(min(max(round(w0 * sc), 15), len(t)))
                G, B, centre = self.rows(t, X, th, w)
                if len(G) == 0:
                    continue
                k = min(n_folds, len(G))
                folds.append(np.minimum((centre / len(t) * k).astype(np.int64), k - 1))
                Gs.append(G)
                Bs.append(B)
        if not Gs:
            raise ValueError("the trajectories are too short for the weak form; give longer "
                             "ones or use formulation='derivative'")
        return np.vstack(Gs), np.vstack(Bs), np.concatenate(folds)

    def noise_mse(self, ts: Sequence[np.ndarray], Xs: Sequence[np.ndarray], sigma: np.ndarray,
                  grads: Sequence[np.ndarray]) -> np.ndarray:
        """Mean squared residual per equation that measurement noise alone would leave.

        Noise of standard deviation ``sigma`` (per state) enters a row twice: through
        ``-<phi', x>`` and through ``<phi, f(x)>`` (``grads[i]``: df/dx at the samples of
        trajectory i, shape (n, n_eq, n_states)). A fit whose held-out error is far above
        this has not found the law, whatever its R².
        """
        sigma = np.asarray(sigma, dtype=np.float64)
        total = np.zeros(grads[0].shape[1])
        count = 0
        for t, X, J in zip(ts, Xs, grads, strict=True):
            # noise entering through f: sum_k sigma_k^2 (df_j/dx_k)^2 at each sample
            gvar = np.einsum("njk,k->nj", J**2, sigma**2)
            w0 = self.choose_width(t, X)
            for sc in self.scales:
                w = int(min(max(round(w0 * sc), 15), len(t)))
                Phi, dPhi, _ = self.operators(t, w)
                a = np.asarray(dPhi.multiply(dPhi).sum(axis=1)).ravel()  # (rows,)
                total += a.sum() * sigma[: total.size] ** 2
                total += np.asarray(Phi.multiply(Phi) @ gvar).sum(axis=0)
                count += Phi.shape[0]
        return total / max(count, 1)
