"""Compiled inner steps of batched Levenberg-Marquardt: normal equations, damped solves, and
each round's bookkeeping (taking programs out of a batch, proposing and judging steps).

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
                     A, g, Jn, active, rw):  # pragma: no cover - compiled
    """Fill ``A[p] = J^T W J`` and ``g[p] = J^T W r`` for each program ``p = need[q]``.

    ``rw`` (len(need), n_rows), when it has rows, holds IRLS weights that multiply ``w``
    program by program (a loss other than least squares); (0, 0) for least squares.

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
    wq = np.empty(n_rows)
    robust = rw.shape[0] > 0
    for q in range(need.shape[0]):
        p = need[q]
        if robust:
            for r in range(n_rows):
                wq[r] = w[r] * rw[q, r]
        else:
            for r in range(n_rows):
                wq[r] = w[r]
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
                wres[r] = wq[r] * (a + b * pred[q, r] - y[r])
        else:
            for r in range(n_rows):
                wres[r] = wq[r] * (pred[q, r] - y[r])
        for i in range(mm):
            for r in range(n_rows):
                WC[i, r] = C[i, r] * wq[r]
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
        if robust:  # the norm of the reweighted residual
            ss = 0.0
            for r in range(n_rows):
                res = (a + b * pred[q, r] - y[r]) if ls else (pred[q, r] - y[r])
                ss += wq[r] * res * res
            s = np.sqrt(ss)
        else:
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


@njit(cache=True, nogil=True)
def take_programs(codes, args, noff, coff, consts, idx):  # pragma: no cover - compiled
    """Programs ``idx`` of a batch, their constants read from ``consts`` (one pass; the numpy
    version was a dozen small calls, twice per LM round)."""
    n = idx.shape[0]
    new_noff = np.zeros(n + 1, dtype=np.int64)
    new_coff = np.zeros(n + 1, dtype=np.int64)
    for q in range(n):
        p = idx[q]
        new_noff[q + 1] = new_noff[q] + noff[p + 1] - noff[p]
        new_coff[q + 1] = new_coff[q] + coff[p + 1] - coff[p]
    out_codes = np.empty(new_noff[n], dtype=codes.dtype)
    out_args = np.empty(new_noff[n], dtype=args.dtype)
    out_consts = np.empty(new_coff[n], dtype=np.float64)
    for q in range(n):
        p = idx[q]
        a, b = noff[p], new_noff[q]
        for j in range(new_noff[q + 1] - b):
            out_codes[b + j] = codes[a + j]
            out_args[b + j] = args[a + j]
        a, b = coff[p], new_coff[q]
        for j in range(new_coff[q + 1] - b):
            out_consts[b + j] = consts[a + j]
    return out_codes, out_args, new_noff, out_consts, new_coff


@njit(cache=True, nogil=True)
def propose_steps(consts, coff, k, idx, delta, step, tol, active, mu, nu
                  ):  # pragma: no cover - compiled
    """Sort the steps of programs ``idx``: a step shorter than ``tol`` relative to the
    constants ends the program; a non-finite one raises its damping; the rest are taken.

    Returns the positions (into ``idx``) of the steps taken and the constants with those
    steps added (a full copy: the trial point).
    """
    n = idx.shape[0]
    go = np.empty(n, dtype=np.int64)
    n_go = 0
    trial = consts.copy()
    for q in range(n):
        p = idx[q]
        sq = 0.0
        for i in range(k[p]):
            sq += consts[coff[p] + i] ** 2
        s = step[q]
        if s <= tol * (np.sqrt(sq) + tol):
            active[p] = False
        elif not np.isfinite(s):
            mu[p] *= nu[p]
            nu[p] *= 2.0
        else:
            go[n_go] = q
            n_go += 1
            for i in range(k[p]):
                trial[coff[p] + i] += delta[q, i]
    return go[:n_go], trial


@njit(cache=True, nogil=True)
def judge_steps(idx, trial_loss, trial_scale, pred_red, consts, trial, coff, k, loss, scale,
                stale, mu, nu, active, sw, tol, loss_floor, mu_max
                ):  # pragma: no cover - compiled
    """Accept the trial steps of programs ``idx`` that lowered the loss (Nielsen's update of
    the damping from the gain ratio), reject the others (damping up; past ``mu_max`` the
    program stops); a program also stops when its gain was below ``tol`` or its loss is at
    the floor."""
    for q in range(idx.shape[0]):
        p = idx[q]
        t = trial_loss[q]
        old = loss[p]
        if np.isfinite(t) and t < old:
            for i in range(k[p]):
                consts[coff[p] + i] = trial[coff[p] + i]
            loss[p] = t
            scale[p, 0] = trial_scale[q, 0]
            scale[p, 1] = trial_scale[q, 1]
            stale[p] = True
            rho = sw * (old - t) / (pred_red[q] if pred_red[q] > 0 else np.inf)
            if np.isnan(rho):
                rho = 0.0
            mu[p] *= max(1.0 / 3.0, 1.0 - (2.0 * rho - 1.0) ** 3)
            nu[p] = 2.0
            if old - t <= tol * old or t <= loss_floor:
                active[p] = False
        else:
            mu[p] *= nu[p]
            nu[p] *= 2.0
            if mu[p] > mu_max:
                active[p] = False
