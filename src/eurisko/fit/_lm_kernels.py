"""Compiled inner steps of batched Levenberg-Marquardt: normal equations and damped solves.

In numpy these were a dozen small array operations per group of programs and per round, and
their call overhead, not the arithmetic, was most of the search's time with LM on every child.
Here each is one pass over the batch. Compiled with ``cache=True``, so only the first run pays.
"""

from __future__ import annotations

import numpy as np
from numba import njit

_TINY = np.finfo(np.float64).tiny


@njit(cache=True, nogil=True, fastmath={"reassoc", "contract"})
def normal_equations(jac, pred, soff, need, k, coff, free, scale, y, w, ls, loss, sw,
                     A, g, Jn, active):  # pragma: no cover - compiled
    """Fill ``A[p] = J^T W J`` and ``g[p] = J^T W r`` for each program ``p = need[q]``.

    ``jac`` rows ``soff[q]..`` are program ``q``'s derivatives (of the sub-batch ``need``);
    ``free`` (over the full batch's constants) zeroes held constants; with ``ls`` the model is
    ``a + b f`` and the columns ``1`` and ``f`` follow the constants. Also sets ``Jn[p]``, the
    largest cosine between the residual and a column (MINPACK's gtol test), and deactivates a
    program whose sums are not finite.

    The columns are first copied out row-contiguous, so every sum is a dot product over rows
    that the compiler vectorises (``reassoc`` allows reordering the additions; it assumes
    nothing about NaN or Inf, which the checks below rely on).
    """
    n_rows = y.shape[0]
    M = A.shape[1]
    C = np.empty((M, n_rows))  # the columns of J, then 1 and f under linear scaling
    WC = np.empty((M, n_rows))  # ... times the weights
    wres = np.empty(n_rows)
    for q in range(need.shape[0]):
        p = need[q]
        kk = k[p]
        mm = kk + 2 if ls else kk
        a = scale[p, 0]
        b = scale[p, 1] if ls else 1.0
        for i in range(kk):
            fi = b * free[coff[p] + i]
            src = soff[q] + i
            for r in range(n_rows):
                C[i, r] = jac[src, r] * fi
        if ls:
            for r in range(n_rows):
                C[kk, r] = 1.0
                C[kk + 1, r] = pred[q, r]
                wres[r] = w[r] * (a + b * pred[q, r] - y[r])
        else:
            for r in range(n_rows):
                wres[r] = w[r] * (pred[q, r] - y[r])
        for i in range(mm):
            for r in range(n_rows):
                WC[i, r] = C[i, r] * w[r]
        for i in range(mm):
            acc = 0.0
            for r in range(n_rows):
                acc += C[i, r] * wres[r]
            g[p, i] = acc
            for j in range(i + 1):
                acc = 0.0
                for r in range(n_rows):
                    acc += WC[i, r] * C[j, r]
                A[p, i, j] = acc
        ok = True
        for i in range(mm):
            for j in range(i):
                A[p, j, i] = A[p, i, j]
            for j in range(i + 1):
                if not np.isfinite(A[p, i, j]):
                    ok = False
            if not np.isfinite(g[p, i]):
                ok = False
        s = np.sqrt(sw * loss[p])
        best = 0.0
        for i in range(mm):
            dg = np.sqrt(max(A[p, i, i], 0.0))
            if dg > 0:
                c = abs(g[p, i]) / max(dg * s, _TINY)
                if c > best:
                    best = c
        Jn[p] = best
        if not ok:
            active[p] = False


@njit(cache=True, nogil=True)
def damped_steps(A, g, mu, m, k, idx, diag_floor):  # pragma: no cover - compiled
    """Marquardt steps ``(A + mu D) delta = -g`` for programs ``idx``.

    Returns ``delta`` (len(idx), M; NaN where the system is singular), the model's predicted
    reduction of the weighted sum of squares, and the length of each step on the constants
    (``a, b`` excluded).
    """
    n = idx.shape[0]
    M = A.shape[1]
    delta = np.full((n, M), np.nan)
    pred_red = np.zeros(n)
    step = np.zeros(n)
    H = np.empty((M, M))
    rhs = np.empty(M)
    D = np.empty(M)
    for q in range(n):
        p = idx[q]
        mm = m[p]
        dmax = 0.0
        for i in range(mm):
            dmax = max(dmax, A[p, i, i])
        for i in range(mm):
            D[i] = max(A[p, i, i], diag_floor * dmax + _TINY)
        for i in range(mm):
            for j in range(mm):
                H[i, j] = A[p, i, j]
            H[i, i] += mu[p] * D[i]
            rhs[i] = -g[p, i]
        # Gaussian elimination with partial pivoting (H is tiny: at most a few dozen unknowns)
        singular = False
        for c in range(mm):
            piv = c
            for r in range(c + 1, mm):
                if abs(H[r, c]) > abs(H[piv, c]):
                    piv = r
            if not H[piv, c] != 0.0 or not np.isfinite(H[piv, c]):
                singular = True
                break
            if piv != c:
                for j in range(mm):
                    H[c, j], H[piv, j] = H[piv, j], H[c, j]
                rhs[c], rhs[piv] = rhs[piv], rhs[c]
            for r in range(c + 1, mm):
                f = H[r, c] / H[c, c]
                if f != 0.0:
                    for j in range(c, mm):
                        H[r, j] -= f * H[c, j]
                    rhs[r] -= f * rhs[c]
        if singular:
            step[q] = np.nan
            continue
        for c in range(mm - 1, -1, -1):
            s = rhs[c]
            for j in range(c + 1, mm):
                s -= H[c, j] * delta[q, j]
            delta[q, c] = s / H[c, c]
        red = 0.0
        sq = 0.0
        for i in range(mm):
            d = delta[q, i]
            red += -d * g[p, i] + mu[p] * d * D[i] * d
            if i < k[p]:
                sq += d * d
        pred_red[q] = red
        step[q] = np.sqrt(sq)
    return delta, pred_red, step
