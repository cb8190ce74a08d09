"""The methods a benchmark compares: eurisko and its peers, each fitted under one time budget.

Every runner takes the training table and returns a `MethodFit`: the selected formula (as the
method prints it, and as SymPy with the data's column names), its whole final front, a
``predict`` for new rows, the wall time and how many formula evaluations it made. How each
counts evaluations differs, which is why benchmarks give them the same *time* and threads:

* eurisko: formula evaluations, Levenberg-Marquardt Jacobians and trial steps included;
* pyoperon (Operon): residual plus Jacobian evaluations of its local search;
* gplearn: one evaluation per individual per generation (no constant fitting).

Peers are optional (``pip install 'eurisko[bench]'``): `Method.missing` says why one cannot
run, so a benchmark can report and skip it instead of failing.
"""

from __future__ import annotations

import importlib
import time
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import sympy as sp

from eurisko.bench.exact import check_recovery, symbols_of
from eurisko.bench.feynman import parse_formula


@dataclass
class MethodFit:
    """What one method found on one training set (lives in the process that fitted it)."""

    method: str
    equation: str  # the selected formula, printed by the method
    model: sp.Expr  # the same formula in SymPy, variables named as the data's columns
    front: list[sp.Expr]  # every formula of the final front (same naming)
    front_equations: list[str]
    selected: int  # index of ``model`` in ``front``
    complexity: int  # the method's own size measure of the selected formula
    seconds: float  # wall time of the fit
    n_evals: int
    predict: Callable[[Any], np.ndarray] = field(repr=False)
    extra: dict[str, Any] = field(default_factory=dict)


# --- shared helpers ---------------------------------------------------------------------------


def to_truth_names(expr: sp.Expr, model_names: Sequence[str],
                   columns: Sequence[str]) -> sp.Expr:
    """Rename a model's symbols (the estimator's identifiers) to the data's column names."""
    by_name = symbols_of(expr)
    return expr.xreplace({by_name[m]: sp.Symbol(c, real=True)
                          for m, c in zip(model_names, columns, strict=True) if m in by_name})


def check_front(exprs: Sequence[sp.Expr], selected: int, problem, timeout: float,
                positive: bool, stop_at_first: bool = False) -> dict:
    """Exact-recovery verdicts for front rows: the selected row first, then the others.

    ``found``: the selected formula is the law; ``any``: some row of the front is.
    """
    order = [selected] + [i for i in range(len(exprs)) if i != selected]
    exact_rows, reasons = [], {}
    for i in order:
        r = check_recovery(exprs[i], problem.formula, timeout, ranges=problem.ranges,
                           positive=positive)
        reasons[i] = r.reason
        if r.exact:
            exact_rows.append(i)
            if stop_at_first:
                break
    return {"found": selected in exact_rows, "any": bool(exact_rows),
            "exact_rows": sorted(exact_rows), "selected_reason": reasons[selected]}


def r2_score(y: np.ndarray, pred: np.ndarray) -> float:
    """Coefficient of determination; -inf when the predictions are not all finite."""
    y = np.asarray(y, dtype=np.float64)
    pred = np.asarray(pred, dtype=np.float64).reshape(y.shape)
    if not np.all(np.isfinite(pred)):
        return float("-inf")
    ss_tot = float(np.sum((y - y.mean()) ** 2))
    ss_res = float(np.sum((y - pred) ** 2))
    if ss_tot == 0:
        return 1.0 if ss_res == 0 else float("-inf")
    return 1.0 - ss_res / ss_tot


# --- eurisko ----------------------------------------------------------------------------------


_WARM = False


def warm_up_eurisko() -> None:
    """Load the compiled kernels once per process, so that the first timed fit does not pay
    for it (the peers have no JIT to load). A tiny fit: well under a second once cached."""
    global _WARM
    if _WARM:
        return
    from eurisko.regressor import SymbolicRegressor

    rng = np.random.default_rng(0)
    X = rng.uniform(1, 2, (32, 2))
    SymbolicRegressor(time_limit=None, max_evals=2000, n_jobs=1, random_state=0).fit(
        X, X[:, 0] * np.sin(X[:, 1]))
    _WARM = True


def fit_eurisko(X, y, *, time_limit: float | None, seed: int, threads: int = 1,
                max_evals: int | None = None, units: tuple[dict, str] | None = None,
                **params: Any) -> MethodFit:
    """`eurisko.SymbolicRegressor` with its defaults, ``threads`` worker processes;
    ``units``: ``(X_units, y_units)`` for `fit`."""
    from eurisko.regressor import SymbolicRegressor

    warm_up_eurisko()
    model = SymbolicRegressor(time_limit=time_limit, max_evals=max_evals, random_state=seed,
                              n_jobs=threads, **params)
    t0 = time.perf_counter()
    if units is not None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # recorded in decomposition_
            model.fit(X, y, X_units=units[0], y_units=units[1])
    else:
        model.fit(X, y)
    seconds = time.perf_counter() - t0
    if model.interrupted_:  # Ctrl-C: a cut-short search is not a result to record
        raise KeyboardInterrupt
    front = model.pareto_front_
    best = int(model.best_index_)
    columns = [str(c) for c in X.columns]
    exprs = [to_truth_names(model.sympy(i, real=True), model.variable_names_, columns)
             for i in range(len(front))]
    return MethodFit(
        method="eurisko", equation=str(front["equation"].iloc[best]), model=exprs[best],
        front=exprs, front_equations=[str(e) for e in front["equation"]], selected=best,
        complexity=int(front["complexity"].iloc[best]), seconds=seconds,
        n_evals=int(model.n_evals_), predict=model.predict,
        extra={"r2_front": float(front["r2"].iloc[best]), "front_size": len(front),
               "found_by": model.decomposition_.get("found_by", "plain"),
               "reduced": [b.get("problem") for b in model.decomposition_.get("branches", [])
                           if b.get("kind") == "dimensionless"],
               "reduced_seconds": sum(b.get("seconds", 0.0) for b in
                                      model.decomposition_.get("branches", [])
                                      if b.get("kind") == "dimensionless"),
               "branches": [f"{b.get('kind')} {b.get('seconds', 0.0):.1f}s"
                            + (" skipped" if b.get("skipped") else "")
                            for b in model.decomposition_.get("branches", [])]})


# --- Operon -----------------------------------------------------------------------------------

# eurisko operator -> Operon symbol (None: Operon covers it with other primitives)
OPERON_SYMBOL = {"add": "add", "sub": "sub", "mul": "mul", "div": "div", "neg": None,
                 "square": "square", "sqrt": "sqrt", "exp": "exp", "log": "log", "sin": "sin",
                 "cos": "cos"}
OPERON_DEFAULTS = {"local_iters": 5, "objectives": ("r2", "length")}


def operon_symbols(operators: Sequence[str] | None = None) -> str:
    """Operon's ``allowed_symbols`` for a list of eurisko operators (default: eurisko's)."""
    if operators is None:
        from eurisko.expr.operators import DEFAULT_OPERATORS

        operators = DEFAULT_OPERATORS
    missing = [o for o in operators if o not in OPERON_SYMBOL]
    if missing:
        raise ValueError(f"no Operon counterpart for eurisko operator(s) {missing}")
    symbols = [OPERON_SYMBOL[o] for o in operators if OPERON_SYMBOL[o]]
    return ",".join([*symbols, "constant", "variable"])


def rf_sigma(X, y, seed: int, n_jobs: int = 2) -> float:
    """SRBench's noise estimate for Operon's MDL: a random forest's training RMSE."""
    from sklearn.ensemble import RandomForestRegressor

    rf = RandomForestRegressor(n_estimators=100, random_state=seed, n_jobs=n_jobs).fit(X, y)
    return float(np.sqrt(np.mean((rf.predict(X) - y) ** 2))) or 1e-12


def fit_operon(X, y, *, time_limit: float, seed: int, threads: int = 1,
               max_evals: int | None = None, local_iters: int = 5,
               objectives: Sequence[str] = ("r2", "length")) -> MethodFit:
    """pyoperon as SRBench runs it: NSGA-II on (r2, length), LM local search, linear scaling,
    MDL model selection (sigma from a random forest, fitted outside the timed part)."""
    from pyoperon.sklearn import SymbolicRegressor

    Xa = np.asarray(X, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    t_rf = time.perf_counter()
    sigma = rf_sigma(Xa, y, seed, n_jobs=threads)
    t_rf = time.perf_counter() - t_rf
    model = SymbolicRegressor(
        allowed_symbols=operon_symbols(), max_evaluations=int(max_evals or 10**15),
        generations=10**9, optimizer_iterations=int(local_iters), objectives=list(objectives),
        n_threads=int(threads), max_time=max(1, int(round(time_limit or 10**6))),
        random_state=seed, uncertainty=[sigma],
    )
    t0 = time.perf_counter()
    model.fit(X, y)  # a DataFrame as is: Operon's Dataset wants its column-major copy
    seconds = time.perf_counter() - t0
    names = [str(c) for c in getattr(X, "columns", [f"x{i}" for i in range(Xa.shape[1])])]
    front = model.pareto_front_
    crit = model.model_selection_criterion
    best = int(np.argmin([r[crit] for r in front]))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "Model contains no variables"
        texts = [model.get_model_string(r["tree"], 15, names) for r in front]
        short = [model.get_model_string(r["tree"], 6, names) for r in front]
    exprs = [parse_formula(t, names) for t in texts]
    tree = front[best]["tree"]
    stats = model.stats_
    var_y = float(np.var(y))

    def predict(Xn) -> np.ndarray:
        # a writable column-major copy: Operon's Dataset refuses read-only views (pandas 3)
        Xf = np.array(Xn, dtype=np.float64, order="F", copy=True)
        return np.asarray(model.evaluate_model(tree, Xf), dtype=np.float64)

    return MethodFit(
        method="pyoperon", equation=short[best], model=exprs[best], front=exprs,
        front_equations=short, selected=best, complexity=int(front[best]["complexity"]),
        seconds=seconds,
        n_evals=int(stats["residual_evaluations"] + stats["jacobian_evaluations"]),
        predict=predict,
        extra={"r2_front": 1.0 - float(front[best]["mean_squared_error"]) / var_y
               if var_y > 0 else 0.0, "front_size": len(front),
               "generations": int(stats["generations"]), "rf_seconds": t_rf})


# --- gplearn ----------------------------------------------------------------------------------

GPLEARN_DEFAULTS: dict[str, Any] = {
    # SRBench's gplearn settings, with eurisko's operators (exp and square added as functions)
    "population_size": 1000, "tournament_size": 20, "init_depth": (2, 6),
    "metric": "mean absolute error", "parsimony_coefficient": 0.001, "p_crossover": 0.9,
    "p_subtree_mutation": 0.01, "p_hoist_mutation": 0.01, "p_point_mutation": 0.01,
    "p_point_replace": 0.05, "max_samples": 1.0,
}
GPLEARN_FUNCTIONS = ("add", "sub", "mul", "div", "neg", "sqrt", "log", "sin", "cos")


def _protected_exp(x: np.ndarray) -> np.ndarray:
    with np.errstate(over="ignore"):
        return np.exp(np.clip(x, -100.0, 100.0))


def _square(x: np.ndarray) -> np.ndarray:
    with np.errstate(over="ignore"):
        return np.clip(x, -1e100, 1e100) ** 2


def _gplearn_functions() -> list:
    from gplearn.functions import make_function

    # module-level functions pickle by reference: no cloudpickle wrapper needed for n_jobs > 1
    return [*GPLEARN_FUNCTIONS,
            make_function(function=_protected_exp, name="exp", arity=1, wrap=False),
            make_function(function=_square, name="square", arity=1, wrap=False)]


# gplearn function -> SymPy. gplearn protects sqrt and log with |x| (sqrt(|x|), log(|x|));
# the Abs is kept, then dropped where its argument has one sign on the training rows (see
# `gplearn_sympy`). Protected division (1 where |b| < 0.001) is read as plain division.
_GPLEARN_SYMPY: dict[str, Callable[..., sp.Expr]] = {
    "add": lambda a, b: a + b, "sub": lambda a, b: a - b, "mul": lambda a, b: a * b,
    "div": lambda a, b: a / b, "neg": lambda a: -a, "inv": lambda a: 1 / a,
    "sqrt": lambda a: sp.sqrt(sp.Abs(a)), "log": lambda a: sp.log(sp.Abs(a)), "exp": sp.exp,
    "sin": sp.sin, "cos": sp.cos, "tan": sp.tan, "abs": sp.Abs, "max": sp.Max, "min": sp.Min,
    "square": lambda a: a**2,
}


def resolve_abs(expr: sp.Expr, data: Mapping[str, np.ndarray]) -> sp.Expr:
    """``expr`` with each ``Abs(a)`` replaced by ``a`` (or ``-a``) where ``a`` keeps one sign
    on the rows in ``data`` (``{variable: values}``): the same function on that domain."""
    if not expr.args:
        return expr
    args = tuple(resolve_abs(a, data) for a in expr.args)
    e = expr.func(*args) if args != expr.args else expr
    if isinstance(e, sp.Abs):
        a = e.args[0]
        syms = sorted(a.free_symbols, key=lambda s: s.name)
        try:
            f = sp.lambdify(syms, a, modules="numpy")
            with np.errstate(all="ignore"):
                v = np.asarray(f(*[np.asarray(data[s.name], dtype=np.float64) for s in syms]),
                               dtype=np.float64)
        except (KeyError, TypeError, ValueError):
            return e
        if v.size and np.all(np.isfinite(v)):
            if np.all(v >= 0):
                return a
            if np.all(v <= 0):
                return -a
    return e


def gplearn_sympy(program: Sequence[Any], names: Sequence[str],
                  data: Mapping[str, np.ndarray] | None = None) -> sp.Expr:
    """A gplearn program (prefix list of functions, feature indices, constants) as SymPy;
    with ``data`` (the training columns by name), Abs from protected functions is resolved
    where its argument keeps one sign there (`resolve_abs`)."""
    stack: list[sp.Expr] = []
    for node in reversed(list(program)):
        if isinstance(node, (int, np.integer)):
            stack.append(sp.Symbol(str(names[int(node)]), real=True))
        elif isinstance(node, (float, np.floating)):
            stack.append(sp.Float(float(node)))
        else:
            fn = _GPLEARN_SYMPY.get(getattr(node, "name", ""))
            if fn is None:
                raise ValueError(f"no SymPy counterpart for gplearn function {node!r}")
            args = [stack.pop() for _ in range(node.arity)]
            stack.append(fn(*args))
    if len(stack) != 1:
        raise ValueError("malformed gplearn program")
    return stack[0] if data is None else resolve_abs(stack[0], data)


def fit_gplearn(X, y, *, time_limit: float | None, seed: int, threads: int = 1,
                max_evals: int | None = None, max_generations: int = 10**6,
                **params: Any) -> MethodFit:
    """gplearn's SymbolicRegressor, one generation at a time (``warm_start``) until the time
    (or the evaluation budget) is spent: gplearn itself has no time limit."""
    from gplearn.genetic import SymbolicRegressor

    settings = {**GPLEARN_DEFAULTS, **params}
    est = SymbolicRegressor(generations=1, warm_start=True, random_state=seed,
                            n_jobs=int(threads), function_set=_gplearn_functions(),
                            **settings)
    Xa = np.asarray(X, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    pop = int(settings["population_size"])
    t0 = time.perf_counter()
    generations, last = 0, 0.0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        while generations < max_generations:
            t_gen = time.perf_counter()
            est.set_params(generations=generations + 1)
            est.fit(Xa, y)
            generations += 1
            last = time.perf_counter() - t_gen
            elapsed = time.perf_counter() - t0
            if est._program.raw_fitness_ <= est.stopping_criteria:  # gplearn's own stop
                break
            if time_limit is not None and elapsed + last > time_limit:
                break
            if max_evals is not None and (generations + 1) * pop > max_evals:
                break
    seconds = time.perf_counter() - t0
    names = [str(c) for c in getattr(X, "columns", [f"x{i}" for i in range(Xa.shape[1])])]
    program = est._program
    expr = gplearn_sympy(program.program, names, {n: Xa[:, j] for j, n in enumerate(names)})

    def predict(Xn) -> np.ndarray:
        with np.errstate(all="ignore"):
            return np.asarray(est.predict(np.asarray(Xn, dtype=np.float64)), dtype=np.float64)

    return MethodFit(method="gplearn", equation=str(program), model=expr, front=[expr],
                     front_equations=[str(program)], selected=0, complexity=int(program.length_),
                     seconds=seconds, n_evals=pop * generations, predict=predict,
                     extra={"generations": generations})


# --- the registry -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Method:
    """A runner and what it needs installed."""

    name: str
    fit: Callable[..., MethodFit]
    requires: str | None = None  # module to import
    install: str = ""
    evaluations: str = ""  # what its n_evals counts

    def missing(self) -> str | None:
        """Why the method cannot run here (not installed, broken import), or None."""
        if self.requires is None:
            return None
        try:
            importlib.import_module(self.requires)
        except Exception as e:  # ImportError, or a binary wheel that fails to load
            return f"{self.name} is not available ({type(e).__name__}: {e}); {self.install}"
        return None


METHODS: dict[str, Method] = {
    "eurisko": Method("eurisko", fit_eurisko, None, "",
                      "formula evaluations, LM Jacobians and trial steps included"),
    "pyoperon": Method("pyoperon", fit_operon, "pyoperon", "pip install 'eurisko[bench]'",
                       "residual + Jacobian evaluations"),
    "gplearn": Method("gplearn", fit_gplearn, "gplearn.genetic", "pip install 'eurisko[bench]'",
                      "population size x generations"),
}
ALIASES = {"operon": "pyoperon"}


def get_method(name: str) -> Method:
    """A method by name (``eurisko``, ``pyoperon`` or ``operon``, ``gplearn``)."""
    key = ALIASES.get(name.lower(), name.lower())
    if key not in METHODS:
        raise ValueError(f"unknown method {name!r}; choose from {', '.join(METHODS)}")
    return METHODS[key]


def available_methods(names: Sequence[str]) -> tuple[list[Method], dict[str, str]]:
    """The methods that can run, and ``{name: why not}`` for those that cannot."""
    ok, skipped = [], {}
    for n in dict.fromkeys(get_method(n).name for n in names):
        m = METHODS[n]
        reason = m.missing()
        if reason is None:
            ok.append(m)
        else:
            skipped[m.name] = reason
    return ok, skipped


# --- the fixed-data runs of benchmarks/feynman_recovery.py and vs_operon.py -------------------


def run_eurisko(problem, X, y, *, time_limit: float | None, max_evals: int | None, seed: int,
                n_jobs: int, check_timeout: float, positive: bool,
                stop_at_first: bool = False, params: dict | None = None) -> dict:
    """One eurisko fit on one problem, and the exact-recovery verdicts on its front.

    ``params``: further `SymbolicRegressor` settings (for tuning experiments)."""
    fit = fit_eurisko(X, y, time_limit=time_limit, max_evals=max_evals, seed=seed,
                      threads=n_jobs, **(params or {}))
    return _front_summary(fit, problem, check_timeout, positive, stop_at_first)


def run_operon(problem, X, y, *, max_evals: int, time_limit: float, seed: int, n_threads: int,
               local_iters: int, objectives: list[str], check_timeout: float, positive: bool,
               stop_at_first: bool = True) -> dict:
    """One Operon fit on one problem, and the exact-recovery verdicts on its front."""
    fit = fit_operon(X, y, time_limit=time_limit, seed=seed, threads=n_threads,
                     max_evals=max_evals, local_iters=local_iters, objectives=objectives)
    out = _front_summary(fit, problem, check_timeout, positive, stop_at_first)
    out["generations"] = fit.extra["generations"]
    return out


def _front_summary(fit: MethodFit, problem, check_timeout: float, positive: bool,
                   stop_at_first: bool) -> dict:
    t1 = time.perf_counter()
    verdict = check_front(fit.front, fit.selected, problem, check_timeout, positive,
                          stop_at_first)
    return {
        "seconds": fit.seconds, "check_seconds": time.perf_counter() - t1,
        "n_evals": fit.n_evals, "equation": fit.equation, "complexity": fit.complexity,
        "r2": fit.extra["r2_front"], "front_size": fit.extra["front_size"],
        "exact_equations": [fit.front_equations[i] for i in verdict["exact_rows"]],
        **{k: fit.extra[k] for k in ("found_by", "branches") if k in fit.extra},
        **verdict,
    }


def method_settings(name: str, options: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The settings a method runs with (for the results manifest)."""
    m = get_method(name)
    if m.name == "pyoperon":
        return {"allowed_symbols": operon_symbols(), **OPERON_DEFAULTS, **(options or {})}
    if m.name == "gplearn":
        return {**GPLEARN_DEFAULTS, "function_set": [*GPLEARN_FUNCTIONS, "exp", "square"],
                **(options or {})}
    return dict(options or {})
