"""`discover_ode`: from sampled trajectories to a readable system dx/dt = f(x).

The steps, each a swappable part (PySINDy's split):

1. differentiate (``differentiator``): states smoothed and dx/dt estimated, the method chosen
   from the measured noise unless given;
2. build the candidate terms (``library``): polynomials up to ``degree`` plus user ``terms``;
3. regress sparsely (``optimizer``): per equation, the smallest set of terms whose held-out
   error is within one standard error of the best, in the weak (integral) form by default,
   which needs no derivative of the data and averages the noise out;
4. fall back on symbolic regression (``symbolic``) for an equation whose held-out error is far
   above what the noise explains, and keep whichever answer wins on held-out data for its
   complexity; constants are snapped to short values as far as the held-out error allows;
5. share what the search found: an equation still short of the noise level gets a sparse fit
   over the library plus the non-polynomial terms found for any equation of the system
   (``source == "hybrid"``); equations still short get further searches from other seeds.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence

import numpy as np
import sympy as sp
from sympy.core.function import AppliedUndef

from eurisko.dynamics._validation import as_trajectories, state_names
from eurisko.dynamics.differentiation import (
    AutoDifferentiator,
    Differentiator,
    estimate_noise,
    make_differentiator,
)
from eurisko.dynamics.library import CustomLibrary, Library, PolynomialLibrary
from eurisko.dynamics.model import Equation, ODEModel
from eurisko.dynamics.sparse import EquationFit, SparseRegression, contiguous_folds
from eurisko.dynamics.symbolic import (
    Candidate,
    SymbolicSearch,
    choose_candidate,
    expr_size,
    found_terms,
    product_terms,
    simplest_form,
)
from eurisko.dynamics.weak import WeakForm
from eurisko.validation import check_choice, check_int, check_number

__all__ = ["discover_ode"]

_POOR_FACTOR = 4.0  # held-out error above this many times the noise's share: not the law
_POOR_FLOOR = 1e-6  # ... and above this fraction of the target's variance (the weak form's
# trapezoidal rule is only second-order accurate on uneven steps)
_DERIVATIVE_POOR_R2 = 0.999
_HYBRID_DEGREE = 2  # found terms are also tried times monomials of the states up to this degree
_HYBRID_MAX_TERMS = 120  # ... within this many library columns in all


def discover_ode(
    t: object,
    X: object,
    names: Sequence[str] | None = None,
    *,
    degree: int = 3,
    terms: Sequence[str | tuple[str, Callable[..., np.ndarray]]] | None = None,
    library: Library | None = None,
    differentiator: str | Differentiator = "auto",
    formulation: str = "auto",
    optimizer: SparseRegression | None = None,
    symbolic: bool | str = "auto",
    symbolic_evals: int = 200_000,
    symbolic_time: float | None = None,
    symbolic_search: SymbolicSearch | None = None,
    random_state: int | None = 0,
) -> ODEModel:
    """Discover the differential equations dx/dt = f(x) behind sampled trajectories.

    Parameters
    ----------
    t : array (n_times,) or list of arrays
        Sample times, strictly increasing; steps may be uneven. A list gives one time vector
        per trajectory.
    X : array (n_times, n_states) or list of arrays
        The states; a list holds several trajectories of the same system.
    names : list of str, optional
        State names (default: the DataFrame's columns, else x0, x1, ...).
    degree : int, default 3
        Highest degree of the polynomial terms (ignored when ``library`` is given).
    terms : list, optional
        Extra candidate terms: formulas as text (``"sin(x)"``, ``"x/(1+y)"``) or
        ``(name, function)`` pairs.
    library : Library, optional
        Replace the polynomial library altogether.
    differentiator : str or Differentiator, default "auto"
        ``auto`` (chosen from the measured noise), ``fd``, ``savgol``, ``spline``,
        ``tikhonov``, or an instance.
    formulation : {"auto", "weak", "derivative"}, default "auto"
        ``weak`` regresses integrals against smooth test functions (robust to noise, exact on
        clean data); ``derivative`` regresses the estimated derivatives pointwise. ``auto`` is
        ``weak`` when every trajectory has at least 45 samples.
    optimizer : SparseRegression, optional
        The sparse regression (default: 5-fold blocked cross-validation, one-SE rule).
    symbolic : bool or "auto", default "auto"
        Symbolic regression for equations the library cannot explain: ``auto`` runs it only
        for an equation whose held-out error is far above the noise level.
    symbolic_evals : int, default 200000
        Budget of each symbolic search, in formula evaluations (about 5 s on one core). An
        equation whose best answer is still short of the noise level after a search gets up
        to 3 more, from other seeds (see `SymbolicSearch`). A budget in evaluations, not
        seconds, makes the result the same on every machine and under any load.
    symbolic_time : float, optional
        Wall-clock cap in seconds on each symbolic search, a safety net on top of
        ``symbolic_evals`` (a search it cuts short is no longer reproducible).
    symbolic_search : SymbolicSearch, optional
        Full settings of the symbolic search (overrides ``symbolic_evals`` and
        ``symbolic_time``).
    random_state : int, optional
        Seed of the symbolic search; its restarts use the next seeds. The same seed gives
        the same model.

    Returns
    -------
    ODEModel

    Examples
    --------
    >>> import numpy as np
    >>> from scipy.integrate import solve_ivp
    >>> from eurisko.dynamics import discover_ode
    >>> t = np.linspace(0, 10, 1001)
    >>> sol = solve_ivp(lambda _, v: [v[0] - v[0] * v[1], v[0] * v[1] - v[1]], (0, 10),
    ...                 [2.0, 1.0], t_eval=t, rtol=1e-10, atol=1e-10)
    >>> print(discover_ode(t, sol.y.T, names=["x", "y"]))
    dx/dt = -x*y + x
    dy/dt = x*y - y
    """
    started = time.monotonic()
    check_int(degree, "degree", low=0)
    formulation = check_choice(formulation, "formulation", ("auto", "weak", "derivative"))
    symbolic = check_choice(symbolic, "symbolic", (True, False, "auto"))
    symbolic_evals = check_int(symbolic_evals, "symbolic_evals", low=1,
                               what="formula evaluations")
    symbolic_time = check_number(symbolic_time, "symbolic_time", low=0, low_open=True,
                                 none_ok=True, what="seconds")
    random_state = check_int(random_state, "random_state", low=0, none_ok=True)
    if names is None and hasattr(X, "columns"):  # a DataFrame names its states
        names = [str(c) for c in X.columns]
    ts, Xs = as_trajectories(t, X)
    d = Xs[0].shape[1]
    names = state_names(names, d)
    D = make_differentiator(differentiator)
    shortest = min(len(ti) for ti in ts)
    if shortest < D.min_samples():
        raise ValueError(f"a trajectory has only {shortest} samples; the {D.describe()} "
                         f"differentiator needs at least {D.min_samples()} (a few dozen per "
                         "trajectory give useful derivatives)")
    lengths = [len(ti) for ti in ts]

    # 1. derivatives and noise level
    xs_list, dx_list = [], []
    for ti, xi in zip(ts, Xs, strict=True):
        xs, dx = D(ti, xi)
        xs_list.append(xs)
        dx_list.append(dx)
    spread = np.maximum(np.std(np.vstack(Xs), axis=0), 1e-300)
    sigma = np.median(np.stack([estimate_noise(ti, xi) for ti, xi in zip(ts, Xs, strict=True)]),
                      axis=0)

    # 2. library
    if library is None:
        library = PolynomialLibrary(degree)
        if terms:
            library = library + CustomLibrary(terms)
    elif terms:
        library = library + CustomLibrary(terms)
    library.fit(names)

    # 3. sparse regression
    if formulation == "auto":
        formulation = "weak" if shortest >= 45 else "derivative"
    opt = optimizer if optimizer is not None else SparseRegression()
    weak = WeakForm()
    if formulation == "weak":
        if shortest < weak.min_samples():
            raise ValueError(f"the weak formulation needs at least {weak.min_samples()} samples "
                             "per trajectory; use formulation='derivative'")
        thetas = [_checked(library, xi) for xi in Xs]
        G, B, folds = weak.system(ts, Xs, thetas, opt.n_folds)
    else:
        G = _checked(library, np.vstack(xs_list))
        B = np.vstack(dx_list)
        folds = contiguous_folds(lengths, opt.n_folds)
    if G.shape[0] < 2 * opt.n_folds:
        raise ValueError(f"only {G.shape[0]} regression rows; give longer trajectories")
    fits = opt.fit(G, B, folds)

    # how much held-out error the noise alone explains, per equation
    if formulation == "weak":
        grads = [_jacobian(library, fits, xi) for xi in Xs]
        noise_mse = weak.noise_mse(ts, Xs, sigma, grads)
        explained = [max(_POOR_FACTOR * noise_mse[j], _POOR_FLOOR * f.target_var)
                     for j, f in enumerate(fits)]
    else:
        explained = [(1 - _DERIVATIVE_POOR_R2) * f.target_var for f in fits]
    # held-out error above what the noise explains: the library does not hold the law
    poor = [f.cv_mse > explained[j] for j, f in enumerate(fits)]

    terms_sym = library.sympy_terms()
    equations = [_sparse_equation(library, terms_sym, f) for f in fits]

    # 4. symbolic fallback, 5. the terms it found shared across the system
    search = symbolic_search or _default_search(symbolic_evals, symbolic_time)
    run = [bool(symbolic is True or (symbolic == "auto" and p)) for p in poor]
    searches = [0] * d
    evals = [0] * d
    interrupted = False
    if any(run):
        xs_all, dx_all = np.vstack(xs_list), np.vstack(dx_list)
        val = np.isin(contiguous_folds(lengths, 5), (1, 3))
        if formulation == "weak":
            # Judge every candidate in the weak form, as the sparse fit was judged: pointwise
            # derivative estimates carry their own errors, which a formula fitted to them can
            # match better than the true law does.
            wval = np.isin(folds, (1, 3)) if opt.n_folds == 5 else \
                np.isin(weak.system(ts, Xs, [x[:, :1] for x in Xs], 5)[2], (1, 3))

            def held_out(ev, j):
                cols = [np.asarray(ev(xi), dtype=np.float64).reshape(-1, 1) for xi in Xs]
                Gc = weak.system(ts, Xs, cols, 5)[0][:, 0]
                r = (Gc - B[:, j])[wval]
                return float(np.mean(r**2)) if np.isfinite(r).all() else np.inf

            target_var = [float(np.var(B[wval, j])) for j in range(d)]

            def hybrid_rows(lib):
                thetas = [lib.transform(xi) for xi in Xs]
                keep = np.all([np.isfinite(th).all(axis=0) for th in thetas], axis=0)
                return weak.system(ts, Xs, [th[:, keep] for th in thetas], opt.n_folds)[0], keep
        else:
            def held_out(ev, j):
                with np.errstate(all="ignore"):
                    r = np.asarray(ev(xs_all[val]), dtype=np.float64) - dx_all[val, j]
                return float(np.mean(r**2)) if np.isfinite(r).all() else np.inf

            target_var = [float(np.var(dx_all[val, j])) for j in range(d)]

            def hybrid_rows(lib):
                theta = lib.transform(xs_all)
                keep = np.isfinite(theta).all(axis=0)
                return theta[:, keep], keep

        syms = [sp.Symbol(n, real=True) for n in names]
        pools = {int(j): [Candidate(equations[j].expr, equations[j].evaluator,
                                    expr_size(equations[j].expr), held_out(equations[j], j),
                                    "sparse")] for j in np.flatnonzero(run)}

        def short_of_noise() -> list[int]:
            """Equations with no search or library answer within the noise level yet. A
            hybrid answer does not count: a sum of many found terms times monomials can fit
            well without being the law, and a further search may still find the law."""
            return [j for j, cands in pools.items()
                    if min(c.val_mse for c in cands if c.source != "hybrid") > explained[j]]

        made: dict[int, Equation] = {id(pools[j][0]): equations[j] for j in pools}

        def adopt(j: int) -> None:
            """Make the candidate that wins equation j's pool its equation."""
            pick = choose_candidate(pools[j], target_var[j])
            if id(pick) not in made:  # a symbolic formula: constants snapped first
                def score(e):
                    f = sp.lambdify(syms, e, modules="numpy")
                    return held_out(lambda X: np.broadcast_to(
                        np.asarray(f(*X.T), dtype=np.float64), (X.shape[0],)), j)

                expr = simplest_form(pick.expr, score, floor=1e-10 * target_var[j])
                err = score(expr)
                rel = math.sqrt(max(err, 1e-300) / max(target_var[j], 1e-300))
                made[id(pick)] = Equation(expr, "symbolic", _digits(rel), None,
                                          {"val_mse": err})
            equations[j] = made[id(pick)]
            if pick.source != "sparse":
                equations[j].info.update(sparse_val_mse=pools[j][0].val_mse,
                                         searches=searches[j])

        todo = list(pools)
        tried: list[sp.Expr] = []
        # A search that ends with nothing as good as the noise allows may have stalled in a
        # poor region (evolution's luck): such equations get further searches from other
        # seeds, their fronts pooled with the earlier ones.
        for k in range(1 + max(0, int(search.restarts))):
            seed = None if random_state is None else int(random_state) + k
            for j in todo:
                y = dx_all[:, j]
                for c in search.candidates(xs_all[~val], y[~val], xs_all[val], y[val], names,
                                           seed):
                    c.val_mse = held_out(c.evaluator, j)
                    pools[j].append(c)
                searches[j] += 1
                last = getattr(search, "last_search_", {})
                evals[j] += int(last.get("n_evals", 0))
                adopt(j)
                if last.get("stop_reason") == "interrupted":  # Ctrl-C: keep what was found
                    interrupted = True
                    break
            if interrupted:
                break
            # The equations of one system often hold the same nonlinearity (a saturating
            # x/(1+x), a coupling sin(x - y)): an equation still short of the noise level gets
            # a sparse fit over the library plus the non-polynomial terms found so far, alone
            # and times low-degree monomials, judged on held-out data like the rest.
            short = short_of_noise()
            found = found_terms([e.expr for e in equations if e.source == "symbolic"], syms)
            extra: list[sp.Expr] = []
            if short and found and found != tried:
                tried = found
                extra = product_terms(found, syms, _HYBRID_DEGREE,
                                      _HYBRID_MAX_TERMS - library.n_terms)
            if short and found and extra:
                hybrid = (library + CustomLibrary(extra)).fit(names)
                G2, keep = hybrid_rows(hybrid)
                terms2 = [t for t, k2 in zip(hybrid.sympy_terms(), keep, strict=True) if k2]
                for j, f2 in zip(short, opt.fit(G2, B[:, short], folds), strict=True):
                    S = f2.support
                    expr = sp.Add(*[sp.Float(float(f2.coef[i])) * terms2[i] for i in S]) \
                        if S.size else sp.Integer(0)
                    rel = math.sqrt(max(f2.cv_mse, 0.0) / f2.target_var) \
                        if f2.target_var > 0 else 0.0
                    ev = _columns(hybrid, np.flatnonzero(keep)[S], f2.coef[S], names)
                    c2 = Candidate(expr, ev, expr_size(expr), held_out(ev, j), "hybrid")
                    made[id(c2)] = Equation(expr, "hybrid", _digits(rel), ev, {
                        "cv_r2": f2.cv_r2, "n_terms": int(S.size), "val_mse": c2.val_mse})
                    pools[j].append(c2)
                    adopt(j)
            todo = short
            if not todo:
                break
    info_extra = {"symbolic_interrupted": True} if interrupted else {}

    info = {
        "differentiator": D.describe(),
        "formulation": formulation,
        "noise": (sigma / spread).tolist(),
        "library_terms": list(library.names_),
        "n_samples": int(sum(lengths)),
        "n_trajectories": len(ts),
        "cv_r2": [f.cv_r2 for f in fits],
        "poor_sparse_fit": poor,
        "noise_explained_mse": [float(e) for e in explained],
        "symbolic_run": run,
        "symbolic_searches": searches,
        "symbolic_evals": evals,
        "sources": [e.source for e in equations],
        "seconds": time.monotonic() - started,
    }
    info.update(info_extra)
    if isinstance(D, AutoDifferentiator):
        info["noise_estimate_chose"] = D.chosen_.describe()
    allx = np.vstack(Xs)
    bound = 1e3 * float(np.max(np.abs(allx))) + 1e3 * float(np.max(spread))
    return ODEModel(names, equations, info, bound)


def _default_search(evals: int, seconds: float | None) -> SymbolicSearch:
    return SymbolicSearch(max_evals=int(evals),
                          time_limit=None if seconds is None else float(seconds))


def _columns(library: Library, cols: np.ndarray, coef: np.ndarray, names: Sequence[str]):
    """Evaluator of ``library``'s columns ``cols`` weighted by ``coef``: compiled from their
    SymPy form when it is plain (only those terms are computed), else the library's own."""
    terms = [library.sympy_terms()[i] for i in cols]
    if any(t.atoms(AppliedUndef) for t in terms):  # a user's (name, function) term
        def evaluate(X: np.ndarray) -> np.ndarray:
            return library.transform(X)[:, cols] @ coef
        return evaluate
    sub = CustomLibrary(terms).fit(names)

    def evaluate(X: np.ndarray) -> np.ndarray:
        return sub.transform(X) @ coef if len(terms) else np.zeros(np.asarray(X).shape[0])

    return evaluate


def _checked(library: Library, X: np.ndarray) -> np.ndarray:
    theta = library.transform(X)
    bad = ~np.isfinite(theta).all(axis=0)
    if bad.any():
        which = [library.names_[i] for i in np.flatnonzero(bad)]
        raise ValueError(f"library term(s) {which} are not finite on the data (e.g. a division "
                         "by a state that reaches 0); remove them or guard the denominator")
    return theta


def _jacobian(library: Library, fits: list[EquationFit], X: np.ndarray) -> np.ndarray:
    """df/dx of the sparse fits at the samples, by central differences: (n, n_eq, n_states)."""
    coef = np.column_stack([f.coef for f in fits])
    n, d = X.shape
    J = np.empty((n, coef.shape[1], d))
    h = 1e-5 * np.maximum(np.std(X, axis=0), 1e-12)
    for k in range(d):
        Xp, Xm = X.copy(), X.copy()
        Xp[:, k] += h[k]
        Xm[:, k] -= h[k]
        J[:, :, k] = (library.transform(Xp) - library.transform(Xm)) @ coef / (2 * h[k])
    return J


def _digits(rel_error: float) -> int:
    """Significant digits worth printing for a fit with this relative error."""
    if not rel_error > 0:
        return 6
    return int(min(6, max(2, math.ceil(-math.log10(rel_error)) + 1)))


def _sparse_equation(library: Library, terms: list[sp.Expr], fit: EquationFit) -> Equation:
    S = fit.support
    coef = fit.coef
    expr = sp.Add(*[sp.Float(float(coef[i])) * terms[i] for i in S]) if S.size else sp.Integer(0)

    def evaluate(X: np.ndarray, S=S, coef=coef) -> np.ndarray:
        if S.size == 0:
            return np.zeros(X.shape[0])
        return library.transform(X)[:, S] @ coef[S]

    rel = math.sqrt(max(fit.cv_mse, 0.0) / fit.target_var) if fit.target_var > 0 else 0.0
    return Equation(expr, "sparse", _digits(rel), evaluate,
                    {"cv_r2": fit.cv_r2, "n_terms": int(S.size)}, linear=(library, coef))
