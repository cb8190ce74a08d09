"""Linear scaling: the offset and scale that best map a formula's output onto the target.

The search rates shapes, not offsets and scales (Keijzer 2003): a formula ``f`` is judged by
``a + b * f`` with ``a, b`` from weighted least squares (under a robust loss, from IRLS on that
loss, so that outliers do not pull the scaling). The rule is the one of
``evaluate.base.scaled_losses``, written here for whole stacks of outputs at once.
"""

from __future__ import annotations

import numpy as np

from eurisko.evaluate.losses import LossSpec, robust_fit


def linear_scale(
    f: np.ndarray, y: np.ndarray, w: np.ndarray | None = None, loss: LossSpec | None = None
) -> tuple[float, float] | tuple[np.ndarray, np.ndarray]:
    """Weighted least-squares ``(a, b)`` of ``y ≈ a + b * f`` (under another ``loss``, the
    ``a, b`` that minimise it, as the backends rate a formula: `losses.robust_fit`).

    Parameters
    ----------
    f : (n_rows,) one output, or (n_programs, n_rows) a stack of outputs.
    y : (n_rows,) target.
    w : (n_rows,) non-negative weights with a positive sum, or None for equal weights.
    loss : an `evaluate.losses.LossSpec`; None (or l2) is least squares.

    Returns
    -------
    a, b : floats for a 1-D ``f``, arrays of shape (n_programs,) for a 2-D one.
        ``b = 0`` and ``a`` = weighted mean of ``y`` where ``f`` is constant; ``(0, 1)`` where
        ``f`` is not finite everywhere, as in the backends' ``Losses.scale``.
    """
    f = np.asarray(f, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if f.ndim not in (1, 2):
        raise ValueError(f"f must be 1-D (n_rows,) or 2-D (n_programs, n_rows), got {f.shape}")
    if y.ndim != 1 or y.shape[0] != f.shape[-1]:
        raise ValueError(f"y must be 1-D with {f.shape[-1]} values to match f, got shape {y.shape}")
    if w is None:
        ww = np.ones_like(y)
    else:
        ww = np.asarray(w, dtype=np.float64)
        if ww.shape != y.shape:
            raise ValueError(f"w must have the shape of y {y.shape}, got {ww.shape}")
        if not np.all(np.isfinite(ww)) or np.any(ww < 0) or not ww.sum() > 0:
            raise ValueError("w must be finite and non-negative with a positive sum")
    F = np.atleast_2d(f)
    if loss is not None and not loss.is_l2:
        ab = np.array([robust_fit(row, y, ww, loss, True)[:2] for row in F])
        if f.ndim == 1:
            return float(ab[0, 0]), float(ab[0, 1])
        return ab[:, 0], ab[:, 1]
    sw = ww.sum()
    with np.errstate(all="ignore"):
        ok = np.isfinite(F).all(axis=1)
        fm = (ww * F).sum(axis=1) / sw
        ym = (ww * y).sum() / sw
        fc = F - fm[:, None]
        vf = (ww * fc * fc).sum(axis=1)
        cov = (ww * fc * (y - ym)).sum(axis=1)
        b = np.where(vf > 0, cov / np.where(vf > 0, vf, 1.0), 0.0)
        a = ym - b * fm
    a = np.where(ok, a, 0.0)
    b = np.where(ok, b, 1.0)
    if f.ndim == 1:
        return float(a[0]), float(b[0])
    return a, b
