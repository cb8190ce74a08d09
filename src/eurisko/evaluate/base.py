"""The contract every evaluation backend keeps: programs + data -> predictions, losses, Jacobians.

A backend is an object with three methods (see ``Backend``); `search/` and `fit/` call only these.
Data are prepared once per fit as a ``Dataset`` (columns contiguous, target, weights), so each call
moves nothing but the program batch.

Loss: ``sum(w * rho(yhat - y)) / sum(w)`` with the loss ``rho`` the Dataset names
(`evaluate.losses`; by default ``rho(r) = r**2``, the weighted mean squared error). With linear
scaling the prediction is ``a + b * f(x)`` with ``a, b`` the weighted least-squares fit (b = 0,
a = weighted mean of y when f is constant) for l2, and for other losses the ``a, b`` that
minimise that loss (IRLS from the least-squares ones, `losses.robust_fit`), so the search rates
shapes, not offsets and scales, and an outlier pulls the scaling no more than the loss allows.
A non-finite value anywhere in a program's output makes its loss ``inf``: it never raises.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np

from eurisko.evaluate.losses import L2, LossSpec, robust_fit
from eurisko.expr.program import ProgramBatch


@dataclass(eq=False)
class Dataset:
    """Data laid out for the kernels: ``Xt`` is (n_features, n_rows), C-contiguous; ``loss``
    the loss every backend, constant fit and front rates formulas on these data with."""

    Xt: np.ndarray
    y: np.ndarray | None
    w: np.ndarray | None
    loss: LossSpec = L2

    def rows(self, idx: np.ndarray) -> Dataset:
        """The same data on the rows ``idx`` (indices or a mask), contiguous, same loss: what
        LM subsets, mini-batches and inlier rows are scored on."""
        return Dataset(np.ascontiguousarray(self.Xt[:, idx]),
                       None if self.y is None else np.ascontiguousarray(self.y[idx]),
                       None if self.w is None else np.ascontiguousarray(self.w[idx]), self.loss)

    @property
    def n_rows(self) -> int:
        return self.Xt.shape[1]

    @property
    def n_features(self) -> int:
        return self.Xt.shape[0]

    @classmethod
    def from_arrays(
        cls,
        X: np.ndarray,
        y: np.ndarray | None = None,
        w: np.ndarray | None = None,
        dtype: type = np.float64,
        loss: LossSpec = L2,
    ) -> Dataset:
        """Build from X of shape (n_rows, n_features); the caller has validated the values."""
        if not isinstance(loss, LossSpec):
            raise TypeError(f"loss must be an evaluate.losses.LossSpec, got {type(loss).__name__}")
        X = np.asarray(X, dtype=dtype)
        if X.ndim != 2:
            raise ValueError(f"X must be 2-D (n_rows, n_features), got shape {X.shape}")
        Xt = np.ascontiguousarray(X.T)
        yy = None if y is None else np.ascontiguousarray(y, dtype=dtype)
        ww = None if w is None else np.ascontiguousarray(w, dtype=dtype)
        return cls(Xt, yy, ww, loss)


@dataclass(eq=False)
class Losses:
    """Per-program results of ``Backend.losses``.

    ``loss`` (n_programs,) the data's loss (weighted MSE for l2), inf where the output was not
    finite;
    ``scale`` (n_programs, 2) the (a, b) of linear scaling, (0, 1) when it is off.
    """

    loss: np.ndarray
    scale: np.ndarray


class Backend(Protocol):
    """What `search/` and `fit/` may ask of an evaluator."""

    name: str

    def predict(self, batch: ProgramBatch, data: Dataset) -> np.ndarray:
        """(n_programs, n_rows) outputs; non-finite values are left as they are."""
        ...

    def losses(
        self, batch: ProgramBatch, data: Dataset, linear_scaling: bool = False
    ) -> Losses:
        """Loss of every program against ``data.y`` (weighted by ``data.w`` when given)."""
        ...

    def jacobian(self, batch: ProgramBatch, data: Dataset) -> tuple[np.ndarray, np.ndarray]:
        """``(pred, jac)``: pred (n_programs, n_rows); jac (n_consts_total, n_rows) where row
        ``k`` is the derivative of its program's output with respect to ``batch.consts[k]``."""
        ...


def scaled_losses(pred: np.ndarray, y: np.ndarray, w: np.ndarray | None, linear_scaling: bool,
                  loss: LossSpec = L2) -> Losses:
    """Loss rule of the contract, in numpy, shared by the reference and the tests."""
    pred = np.atleast_2d(pred)
    if not loss.is_l2:
        n = pred.shape[0]
        out = Losses(np.full(n, np.inf), np.tile(np.array([0.0, 1.0]), (n, 1)))
        for i in range(n):
            a, b, v = robust_fit(pred[i], y, w, loss, linear_scaling)
            out.scale[i] = (a, b)
            out.loss[i] = v
        return out
    n = pred.shape[0]
    ww = np.ones_like(y) if w is None else w
    sw = ww.sum()
    loss = np.full(n, np.inf)
    scale = np.tile(np.array([0.0, 1.0]), (n, 1))
    with np.errstate(all="ignore"):
        for i in range(n):
            f = pred[i]
            if not np.all(np.isfinite(f)):
                continue
            if linear_scaling:
                fm = (ww * f).sum() / sw
                ym = (ww * y).sum() / sw
                vf = (ww * (f - fm) ** 2).sum()
                cov = (ww * (f - fm) * (y - ym)).sum()
                b = cov / vf if vf > 0 else 0.0
                a = ym - b * fm
                scale[i] = (a, b)
                r = a + b * f - y
            else:
                r = f - y
            val = (ww * r * r).sum() / sw
            loss[i] = val if np.isfinite(val) else np.inf
    return Losses(loss, scale)
