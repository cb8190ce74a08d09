"""`SymbolicRegressor`: a scikit-learn estimator that returns a Pareto front of formulas."""

from __future__ import annotations

import dataclasses
import os
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.utils.validation import check_is_fitted, validate_data

from eurisko import _branches, _decompose, _outputs
from eurisko.evaluate.base import Dataset
from eurisko.evaluate.losses import LossSpec, baseline_loss, default_loss_scale, get_loss
from eurisko.evaluate.reference import eval_program
from eurisko.expr.operators import (
    CONST,
    VAR,
    complexities,
    complexities_in_force,
    resolve_operators,
)
from eurisko.expr.program import Program
from eurisko.expr.simplify import simplify
from eurisko.expr.template import Template
from eurisko.search.checkpoint import load_state, save_state
from eurisko.search.constraints import Constraints
from eurisko.search.dask_executor import check_cluster, cluster_workers
from eurisko.search.engine import SearchProgress, SearchState, default_backend, run_search
from eurisko.search.front import (
    MODEL_SELECTIONS,
    FrontEntry,
    fold_scaling,
    inlier_losses,
    pareto,
    select_index,
)
from eurisko.search.hall_of_fame import HallOfFame
from eurisko.search.island import SearchConfig
from eurisko.search.scaling import Scaling, written_back_front
from eurisko.validation import check_bool, check_choice, check_int, check_number

_SAVED_PARAMS = (
    "operators", "max_size", "population_size", "n_islands", "n_jobs", "time_limit",
    "max_evals", "loss_threshold", "exact_fit_tol", "linear_scaling", "parsimony",
    "optimize_probability", "lm_rows", "migration_interval", "random_state", "checkpoint_every",
    "decompose", "max_depth", "constraints", "nested_constraints", "complexity_of_operators",
    "complexity_of_variables", "complexity_of_constants", "model_selection", "batching",
    "batch_size", "loss", "loss_scale", "cluster", "template",
)


_ONE = object()  # `_by_output`'s answer for a single-output fit

# islands per worker when n_islands is None (see the n_islands parameter for the evidence)
ISLANDS_PER_WORKER = 8
TEMPLATE_ISLANDS_PER_WORKER = 4


def _variable_names(columns: Sequence[object], taken: Sequence[str] = ()) -> list[str]:
    """Column names turned into identifiers the printer and parser accept (none of ``taken``)."""
    from eurisko.expr.parser import identifiers

    return identifiers(columns, taken)


def _less(budget: float | None, spent: float, floor: float) -> float | None:
    """What is left of a budget (None: unlimited), at least ``floor`` so the search starts."""
    return None if budget is None else max(budget - spent, floor)


def _parsed_guesses(guesses: object, names: Sequence[str],
                    config: SearchConfig | None = None) -> list[Program]:
    """``guesses`` as programs over ``names``: text parsed by eurisko's parser, or Programs.

    With ``config``, a guess written as text must use only the search's operators and keep
    its constraints: otherwise a one-line error names the guess and what is wrong with it. A
    `Program` that breaks the constraints is left out (the decomposition hands the formulas it
    found on easier problems to inner fits as Programs; those are hints, not requests)."""
    if guesses is None:
        return []
    if isinstance(guesses, (str, Program)):
        guesses = [guesses]
    if not isinstance(guesses, (list, tuple)):
        raise TypeError(f"guesses must be a formula as text or a list of them, got "
                        f"{type(guesses).__name__}")
    from eurisko.expr.operators import operator_of
    from eurisko.expr.parser import parse

    out = []
    for g in guesses:
        if isinstance(g, Program):
            try:
                g.validate(len(names))
            except ValueError as exc:
                raise ValueError(f"guess {g!r} is not a valid program: {exc}") from None
            if config is None or config.constraints is None or config.constraints.allows(g):
                out.append(g)
            continue
        if isinstance(g, str):
            try:
                p = parse(g, list(names))
            except ValueError as exc:
                raise ValueError(f"guess {g!r} could not be read: {exc}") from None
        else:
            raise TypeError(f"guesses must be formulas as text or Programs, got "
                            f"{type(g).__name__}")
        if config is not None:
            used = sorted({operator_of(int(c)).name for c in p.codes if c > CONST})
            extra = [o for o in used if o not in config.operators]
            if extra:
                raise ValueError(f"guess {g!r} uses {', '.join(extra)}, not among the "
                                 f"operators; add {'it' if len(extra) == 1 else 'them'} to "
                                 "operators")
            why = None if config.constraints is None else config.constraints.violation(p)
            if why is not None:
                raise ValueError(f"guess {g!r} breaks the constraints: {why}")
        out.append(p)
    return out


def _check_frame(X: object) -> None:
    """One-line, actionable errors for the mistakes people make with tables."""
    if isinstance(X, pd.DataFrame):
        bad = [str(c) for c in X.columns if not pd.api.types.is_numeric_dtype(X[c])
               or pd.api.types.is_bool_dtype(X[c])]
        if bad:
            raise ValueError(f"non-numeric column(s) {bad}: convert them to numbers or drop them")


def _check_finite(name: str, a: np.ndarray, columns: Sequence[str] | None = None) -> None:
    bad = ~np.isfinite(a)
    if bad.any():
        what = "NaN" if np.isnan(a).any() else "inf"
        if a.ndim == 2 and columns is not None:
            cols = [columns[j] for j in np.nonzero(bad.any(axis=0))[0]]
            raise ValueError(
                f"{name} contains {what} in column(s) {cols} ({int(bad.any(axis=1).sum())} rows);"
                " drop or impute those rows first")
        raise ValueError(f"{name} contains {what} in {int(bad.sum())} entries; "
                         "drop or impute those rows first")


class SymbolicRegressor(RegressorMixin, BaseEstimator):
    """Find closed-form formulas y = f(X), from simplest to most accurate.

    The search evolves formulas on several islands (age-regularized evolution, tournament
    selection, mutations and crossover, Levenberg-Marquardt for constants, linear scaling),
    keeps the best formula of every complexity, and returns their Pareto front.

    Data of any finite magnitude are accepted (``y = 1e300 * x``, columns near ``1e-200``):
    the search runs on ``y`` and on each column divided by a power of two that brings it to
    ordinary size (none where it already lies within 1e-3 to 1e3, so such data are searched
    exactly as without scaling), and the front is written back in the user's variables,
    polished and scored on the user's columns (``eurisko.search.scaling``).

    Parameters
    ----------
    operators : list of str, optional
        Operators the formulas may use (see ``eurisko.expr.registry()``; default
        ``add sub mul div neg square sqrt exp log sin cos``). Custom operators declared with
        ``eurisko.register_operator`` are named the same way. One list covers unary and binary.
    max_size : int, default 30
        Largest formula, in nodes.
    population_size : int, default 100
        Members of each island.
    n_islands : int, optional
        Number of islands (default ``8 * n_jobs``, ``4 * n_jobs`` with a ``template``). Each
        worker evaluates the children of all its islands in one batch, so more islands per
        worker amortise the per-call cost of evaluation and LM; on ten Feynman problems 8
        islands per worker found the same laws as 2 in less time
        (docs/history.md#islands-per-worker-tuning-runs-commit-ef75fef). A template's holes
        are small searches, where an island's pace counts for more than their number: on
        twelve template laws outside the template bar (2 seeds, 20 s) 4 per worker was faster
        than 8 on 8 of them and found 19 of 24 against 20; 2 per worker found 16
        (docs/results/2026-12-07/template-islands/islands.txt).
    n_jobs : int, optional
        Worker processes (default: all cores). ``1`` runs in this process; negative values
        count back from all cores as in scikit-learn (``-1`` all, ``-2`` all but one).
        With ``cluster="local"``, the Dask workers to start.
    cluster : str, optional
        Run the islands on a Dask cluster (``pip install 'eurisko[dask]'``): ``"local"`` (a
        ``LocalCluster`` of ``n_jobs`` single-threaded worker processes, kept for the next
        fit), ``"dask"`` (the current default Dask client) or a scheduler address such as
        ``"tcp://scheduler:8786"``. A string, so that ``clone`` works. The data go to the
        workers once per fit; a worker lost mid-fit costs its islands the epochs since the
        last reply, and the fit goes on (``faults_``). ``None``: local processes.
    time_limit : float or None, default 60
        Seconds of search. Use ``max_evals`` instead for reproducible runs.
    max_evals : int, optional
        Stop after this many formula evaluations (LM Jacobians count as evaluations).
    loss_threshold : float, optional
        Stop once a formula's mean squared error, in the units of ``y`` squared, is at most
        this (its mean ``loss``, under another loss).
    exact_fit_tol : float or None, default 1e-14
        A formula whose mean squared error is at most this share of ``var(y)`` (1 - R^2 at
        most 1e-14: the data are fitted to float64 rounding) counts as exact. Once one exists
        the search goes on looking for a simpler exact form, and stops (``stop_reason_ ==
        "exact fit"``) when the smallest exact formula has not shrunk for as many evaluations
        as the search had spent when it last shrank. Noisy data never get there. ``None``
        searches the whole budget.
    linear_scaling : bool, default True
        Rate a formula f by the best ``a + b * f`` during the search; the front shows the
        formulas with ``a`` and ``b`` folded in.
    parsimony : float, default 0.002
        Decades of loss a formula must gain per extra node to win a tournament, on top of the
        adaptive crowding penalty.
    optimize_probability : float, default 1.0
        Share of new formulas (with constants) whose constants Levenberg-Marquardt polishes.
        Polishing every child costs more evaluations per child but, being batched, less time
        per evaluation; on the Feynman tuning runs (seeds 1 and 2, not the benchmark's seed 0)
        it recovered as many laws per CPU second as 0.1, at 2-3x the evaluations per second.
    lm_rows : int or None, default 256
        During the search, Levenberg-Marquardt fits constants on this many rows drawn once
        from the data, and the child is then rated on all rows (fitted constants are kept
        only if they lower the loss there). Right constants for the right form fit a few
        hundred rows as well as all, and an LM round costs a fraction of a full pass: on
        1000 rows this gave 2-3x more children per second. ``None`` fits on all rows. The
        final front is always polished on all rows. Evaluations on the subset count as
        their share of a full pass in ``n_evals_`` and ``max_evals``.
    migration_interval : int, default 10
        Each island takes in other islands' best formulas and some of the hall of fame after
        every this many of its epochs (an epoch is 200 children per island). Islands that
        hear from the others after every epoch all chase the same near-miss; on the Feynman
        tuning runs (seeds 1-6 at 30 s, not the benchmark's seed 0) 10 found 14 of 18 hard
        cases where 1 found 4 (docs/history.md#migration-interval-tuning-runs).
    loss : str, default "l2"
        How a residual ``r`` (prediction minus target) is charged; the search, the constant
        fits, the front and the selection all use it. ``"l2"``: squared error (the weighted
        mean squared error). ``"l1"``: absolute error. ``"huber"``: ``r**2`` up to
        ``|r| = loss_scale``, then ``2 * loss_scale * |r| - loss_scale**2`` (linear, so a
        gross outlier pulls no harder than one at ``loss_scale``). ``"logcosh"``:
        ``2 * loss_scale**2 * log(cosh(r / loss_scale))``, a smooth Huber. Or the name of a
        loss declared with ``eurisko.register_loss``. Constants are fitted by
        Levenberg-Marquardt for l2 and by iteratively reweighted least squares on the same
        Jacobians otherwise; linear scaling fits ``a + b * f`` under the loss too.
        The structure tests and the walk of ``decompose`` stay on squared error (their
        findings are guesses, rated under the loss by the search).
    loss_scale : float, optional
        The ``d`` of the loss, in the units of ``y``: Huber's delta, the width of log-cosh
        (``l1`` and ``l2`` ignore it). Default: Huber's 95%-efficiency constant 1.345 times
        a robust estimate of the noise's standard deviation, from the MAD of the differences
        of ``y`` between nearest neighbours in ``X`` (`evaluate.losses.default_loss_scale`):
        residuals at the noise level are charged as least squares, gross outliers only
        linearly, whatever the units of ``y``.
    template : str, optional
        A fixed outer form whose functions are searched, PySR's template expressions:
        ``"f(x0, x1) * exp(g(x2))"`` keeps ``* exp(...)`` and searches ``f`` over ``x0, x1``
        only and ``g`` over ``x2`` only (column names as in the formulas: ``x0, x1, ...`` for
        an array, the DataFrame's column names otherwise). A call of a name that is not an
        operator is such a function; each name may appear once. ``?`` is a constant fitted
        with the others (``f(x0) * exp(?*g(x1))``); plain numbers stay as written. The
        functions evolve together, one formula per candidate, and every front formula has
        the form (`eurisko.search.template`); ``max_size`` counts the whole formula, the outer
        form included. A template turns off ``linear_scaling``, the scaling of extreme
        magnitudes and ``decompose`` (each would change the outer form) but for its symmetry
        tests, which run inside each function on the variables it alone uses
        (`eurisko._decompose.run_template`); it cannot be combined with
        ``X_units``/``y_units``. ``guesses`` must have the template's form, its numbers
        written as numbers (others are left out).
    decompose : bool, default True
        Before the plain search, test the data for symmetries and separability and walk small
        tables exhaustively (`decomposition_`; with units, the dimensionless problems run
        either way). ``False`` searches the raw data only, as a plain genetic search does.
    max_depth : int, optional
        Deepest formula, in levels (a leaf is 1).
    constraints : dict, optional
        Largest complexity of each argument of an operator, PySR's meaning: ``{"pow": (-1,
        1)}`` (a pair for a binary operator, a number for a unary one; -1 is unlimited).
    nested_constraints : dict, optional
        How many times an operator may appear nested inside another, PySR's meaning:
        ``{"sin": {"sin": 0, "cos": 0}}`` (no sin or cos inside a sin). The three limits are
        kept where children are made (`eurisko.search.constraints`), and the front holds no
        formula that breaks them.
    complexity_of_operators : dict, optional
        Complexity of a node of the named operators, ``{"exp": 3}``; with
        ``complexity_of_variables`` and ``complexity_of_constants`` (default 1 each) it counts
        everywhere size does: the front, parsimony, ``max_size``, ``constraints``.
    complexity_of_variables, complexity_of_constants : int, optional
    model_selection : str, default "auto"
        Which front row is selected: ``"best"`` (PySR's: within 1.5x of the lowest loss, the
        steepest drop of log-loss per unit of complexity), ``"accuracy"`` (the lowest loss),
        ``"score"`` (the steepest drop anywhere), ``"bic"`` (the lowest ``n log(loss) +
        complexity log(n)``), ``"mdl"`` (BIC plus ``2 log(n_symbols)`` per unit of complexity:
        each node charged for the choice among the operators, variables and constant it could
        have been), ``"auto"``: ``"mdl"`` on fewer than 100 rows, where ``"best"`` and even
        BIC take formulas that fit the noise; from 100 rows on, ``"bic"`` among the rows of
        ``"best"``'s 1.5x window, where a loss ratio the noise cannot explain decides.
    batching : bool, default False
        Score each step's children on a fresh draw of ``batch_size`` rows (big data); the
        final front is scored on all rows.
    batch_size : int, default 1000
        Rows per mini-batch with ``batching``.
    random_state : int, optional
        Seed. With ``n_jobs=1`` and ``max_evals`` (not ``time_limit``) the result is reproducible.
    warm_start : bool, default False
        Continue the previous search (populations and hall of fame) on the next ``fit``.
        ``time_limit`` and ``max_evals`` count the whole search, earlier fits included, so a
        killed run restored with ``from_run`` finishes the budget it was started with; raise
        them (``set_params``) to search longer.
    run_dir : str or Path, optional
        Directory the search checkpoints into (atomically); resume with ``from_run``.
    checkpoint_every : float, default 10
        Seconds between checkpoints.
    progress : callable, optional
        Called a few times a second with a ``SearchProgress`` (elapsed, n_evals,
        evals_per_second, best_loss, front, done).
    verbose : bool, default False
        Print a line of progress now and then when no ``progress`` callable is given.

    Attributes
    ----------
    pareto_front_ : DataFrame
        One row per complexity: ``complexity, loss, r2, equation``. ``loss`` is the (weighted)
        mean squared error in the units of ``y`` squared, as ``predict`` gives it (the mean of
        the chosen ``loss`` otherwise): inf (0) where that is beyond float64 (a target of size
        1e200, or 1e-200); ``r2`` (the coefficient of determination on the training rows)
        still tells.
    best_index_ : int
        Row of the selected formula, by ``model_selection``.
    programs_ : list of Program
        The formulas of the front, as postfix programs.
    variable_names_ : list of str
        Names of the columns in the formulas: a column's own name when it is an identifier
        (``lambda_``, ``I_``), else made one (``v [m/s]`` -> ``v__m_s``).
    n_evals_, elapsed_, interrupted_ : int, float, bool
    stop_reason_ : str
        Which rule ended the search: ``"time limit"``, ``"evaluation budget"``,
        ``"loss threshold"``, ``"exact fit"`` or ``"interrupted"``.
    faults_ : list of dict
        Each island group reopened after its worker was lost (killed, out of memory): when
        (``elapsed``), ``where``, which ``islands``, and the island epoch each was restored
        from (``restored_from_epoch``). Empty when every worker lasted.
    n_outputs_ : int
        Columns of ``y``: 1, or ``k`` for a 2-D ``y`` (several targets). Then
        ``pareto_front_``, ``best_index_``, ``programs_``, ``y_var_``, ``stop_reason_`` and
        ``decomposition_`` are lists with one entry per output, ``n_evals_`` and ``elapsed_``
        totals, and the methods return one item per output (or take ``output=``).
    output_names_ : list of str
        With several targets: the outputs' names (a DataFrame's columns, else ``y0``...).
    estimators_ : list of SymbolicRegressor
        With several targets: one fitted single-output estimator per output. One search per
        output, one after the other, each with every worker; ``time_limit`` and
        ``max_evals`` are for the whole fit (`eurisko._outputs`).

    Examples
    --------
    >>> import numpy as np
    >>> from eurisko import SymbolicRegressor
    >>> X = np.random.default_rng(0).uniform(1, 3, (200, 2))
    >>> model = SymbolicRegressor(max_evals=20000, time_limit=None, n_jobs=1, random_state=0)
    >>> model.fit(X, X[:, 0] * X[:, 1] ** 2).sympy()
    x0*x1**2
    """

    def __init__(
        self,
        operators: Sequence[str] | None = None,
        max_size: int = 30,
        population_size: int = 100,
        n_islands: int | None = None,
        n_jobs: int | None = None,
        cluster: str | None = None,
        time_limit: float | None = 60.0,
        max_evals: int | None = None,
        loss_threshold: float | None = None,
        exact_fit_tol: float | None = 1e-14,
        linear_scaling: bool = True,
        parsimony: float = 0.002,
        optimize_probability: float = 1.0,
        lm_rows: int | None = 256,
        migration_interval: int = 10,
        decompose: bool = True,
        max_depth: int | None = None,
        constraints: dict[str, int | tuple[int, int]] | None = None,
        nested_constraints: dict[str, dict[str, int]] | None = None,
        complexity_of_operators: dict[str, int] | None = None,
        complexity_of_variables: int | None = None,
        complexity_of_constants: int | None = None,
        template: str | None = None,
        model_selection: str = "auto",
        batching: bool = False,
        batch_size: int = 1000,
        loss: str = "l2",
        loss_scale: float | None = None,
        random_state: int | None = None,
        warm_start: bool = False,
        run_dir: str | os.PathLike | None = None,
        checkpoint_every: float = 10.0,
        progress: Callable[[SearchProgress], None] | None = None,
        verbose: bool = False,
    ):
        self.operators = operators
        self.max_size = max_size
        self.population_size = population_size
        self.n_islands = n_islands
        self.n_jobs = n_jobs
        self.cluster = cluster
        self.time_limit = time_limit
        self.max_evals = max_evals
        self.loss_threshold = loss_threshold
        self.exact_fit_tol = exact_fit_tol
        self.linear_scaling = linear_scaling
        self.parsimony = parsimony
        self.optimize_probability = optimize_probability
        self.lm_rows = lm_rows
        self.migration_interval = migration_interval
        self.decompose = decompose
        self.max_depth = max_depth
        self.constraints = constraints
        self.nested_constraints = nested_constraints
        self.complexity_of_operators = complexity_of_operators
        self.complexity_of_variables = complexity_of_variables
        self.complexity_of_constants = complexity_of_constants
        self.template = template
        self.model_selection = model_selection
        self.batching = batching
        self.batch_size = batch_size
        self.loss = loss
        self.loss_scale = loss_scale
        self.random_state = random_state
        self.warm_start = warm_start
        self.run_dir = run_dir
        self.checkpoint_every = checkpoint_every
        self.progress = progress
        self.verbose = verbose

    # --- configuration ---------------------------------------------------------------

    def _n_jobs(self) -> int:
        cores = max(1, os.cpu_count() or 1)
        if self.n_jobs is None:
            return cores
        n = check_int(self.n_jobs, "n_jobs", hint="None or -1 uses all cores, -2 all but one")
        if n == 0:
            raise ValueError("n_jobs must be a positive number of worker processes, or negative "
                             "to count back from all cores (-1 all, -2 all but one), got 0")
        return n if n > 0 else max(1, cores + 1 + n)  # scikit-learn's (joblib's) reading

    def _config(self, n_jobs: int) -> SearchConfig:
        ops = resolve_operators(self.operators)
        max_size = check_int(self.max_size, "max_size", low=1, what="nodes")
        population_size = check_int(self.population_size, "population_size", low=10)
        per_worker = ISLANDS_PER_WORKER if self.template is None else TEMPLATE_ISLANDS_PER_WORKER
        n_islands = check_int(self.n_islands, "n_islands", low=1, none_ok=True,
                              hint=f"None gives {per_worker} per worker ({per_worker * n_jobs})")
        check_number(self.time_limit, "time_limit", low=0, low_open=True, none_ok=True,
                     what="seconds")
        check_int(self.max_evals, "max_evals", low=1, none_ok=True, what="formula evaluations")
        for name in ("loss_threshold", "exact_fit_tol"):
            check_number(getattr(self, name), name, low=0, low_open=True, none_ok=True)
        if self.time_limit is None and self.max_evals is None and self.loss_threshold is None:
            raise ValueError("set at least one of time_limit, max_evals or loss_threshold, "
                             "or the search would never stop")
        migration_interval = check_int(self.migration_interval, "migration_interval", low=1,
                                       what="epochs")
        lm_rows = check_int(self.lm_rows, "lm_rows", low=8, none_ok=True,
                            hint="None fits constants on all rows")
        parsimony = check_number(self.parsimony, "parsimony", low=0)
        optimize_probability = check_number(self.optimize_probability, "optimize_probability",
                                            low=0, high=1)
        check_number(self.checkpoint_every, "checkpoint_every", low=0, low_open=True,
                     what="seconds")
        check_int(self.random_state, "random_state", low=0, none_ok=True)
        check_bool(self.warm_start, "warm_start")
        check_bool(self.decompose, "decompose")
        check_choice(self.model_selection, "model_selection", MODEL_SELECTIONS,
                     hint="'auto' is BIC, inside PySR's 1.5x window from 100 rows on")
        batch_size = check_int(self.batch_size, "batch_size", low=8, what="rows")
        table = complexities(self.complexity_of_operators, self.complexity_of_variables,
                             self.complexity_of_constants)
        if table is not None and table[VAR] > max_size:
            raise ValueError(f"max_size={max_size} is below the complexity of a single variable "
                             f"({table[VAR]}); raise max_size or lower complexity_of_variables")
        get_loss(self.loss)
        if self.template is not None and not isinstance(self.template, str):
            raise TypeError(f"template must be a str such as 'f(x0, x1) * exp(g(x2))' or None, "
                            f"got {type(self.template).__name__}")
        check_number(self.loss_scale, "loss_scale", low=0, low_open=True, none_ok=True,
                     hint="None: 1.345 times a robust estimate of the noise")
        return SearchConfig(
            constraints=Constraints.of(self.max_depth, self.constraints,
                                       self.nested_constraints),
            complexities=table,
            batch_size=batch_size if check_bool(self.batching, "batching") else None,
            operators=ops, max_size=max_size, population_size=population_size,
            n_islands=per_worker * n_jobs if n_islands is None else n_islands, parsimony=parsimony,
            optimize_probability=optimize_probability,
            linear_scaling=check_bool(self.linear_scaling, "linear_scaling"),
            lm_rows=lm_rows, migration_interval=migration_interval,
        )

    def _params_meta(self) -> dict:
        params = {k: getattr(self, k) for k in _SAVED_PARAMS}
        if params["operators"] is not None:
            params["operators"] = list(resolve_operators(params["operators"]))
        return params

    # --- fitting ---------------------------------------------------------------------

    def fit(self, X, y, sample_weight=None, *, X_units=None, y_units=None,
            physical_constants=None, guesses=None) -> SymbolicRegressor:
        """Search for formulas; Ctrl-C stops early and keeps what was found.

        With ``X_units`` (a unit string per column: a list, or a dict by column name) and
        ``y_units``, the search first tries the law between dimensionless groups
        (``m/m_0 = f(v/c)``), then searches the raw data with what it found as guesses; see
        `decomposition_`. ``physical_constants`` names constants the law needs that are not
        columns (``["c", "h"]`` from pint's table, or ``{"c0": (3e8, "m/s")}``): they join the
        columns with their units and appear in the formulas by name.

        Unless ``decompose=False``, the fit first looks for structure
        (``eurisko._decompose``): on 300 rows or more a smooth surrogate of the data says
        whether columns enter only as a difference (``x2 - x1``) or, without units, a ratio
        (``v/c``), which are merged and the smaller problem searched, and whether the law is
        ``g(A) + h(B)`` or ``g(A) * h(B)`` (without units), whose parts are searched apart;
        without units a table of at most three columns is walked exhaustively, with ``y``'s
        square, inverse, logarithm and sine. What they find are guesses of the plain search,
        scored on the raw data. See `decomposition_`.

        ``guesses``: formulas to start from (text such as ``"m_0/sqrt(1 - v^2/c^2)"`` in the
        column names, or `Program`s): every island starts with them, their constants are
        fitted like any formula's, and they compete on the data like the rest.

        ``y`` of shape ``(n, k)``, ``k >= 2`` (an array, or a DataFrame naming the outputs)
        fits each output in turn (see ``n_outputs_``): ``sample_weight`` may then be ``(n,
        k)``, ``y_units`` a list of one unit per output and ``guesses`` a list of one list
        per output. A ``(n, 1)`` ``y`` is a single-output fit.
        """
        n_jobs = self._n_jobs()  # the parameters first: a typo fails before the data are read
        cluster = check_cluster(self.cluster)
        if cluster is not None:  # islands default to a number per worker of the cluster
            n_jobs = cluster_workers(cluster, n_jobs)
        config = self._config(n_jobs)
        y, outputs = _outputs.split_targets(y)
        if outputs is not None:
            return self._fit_outputs(X, y, outputs, sample_weight, X_units, y_units,
                                     physical_constants, guesses)
        with complexities_in_force(config.complexities):  # the front counts with them too
            return self._fit(n_jobs, cluster, config, X, y, sample_weight, X_units, y_units,
                             physical_constants, guesses)

    def _fit(self, n_jobs: int, cluster: str | None, config: SearchConfig, X, y, sample_weight,
             X_units, y_units, physical_constants, guesses) -> SymbolicRegressor:
        if self.warm_start and getattr(self, "n_outputs_", 1) > 1:
            raise ValueError(f"warm_start continues the previous fit, which had "
                             f"{self.n_outputs_} outputs; give the same outputs, or set "
                             "warm_start=False")
        self._forget_outputs()
        _check_frame(X)
        columns = [str(c) for c in X.columns] if isinstance(X, pd.DataFrame) else None
        names = _variable_names(columns) if columns is not None else None
        Xv, yv = validate_data(self, X, y, y_numeric=True, ensure_min_samples=2,
                               ensure_all_finite=False, dtype=np.float64)
        if names is None:
            names = [f"x{i}" for i in range(Xv.shape[1])]
        _check_finite("X", Xv, names)
        _check_finite("y", yv)
        if sample_weight is None:
            w = np.ones(len(yv))
        else:
            w = np.asarray(sample_weight, dtype=np.float64).ravel()
            if w.shape != yv.shape:
                raise ValueError(f"sample_weight has {w.size} entries but y has {yv.size}; "
                                 "give one weight per row")
            _check_finite("sample_weight", w)
            if (w < 0).any() or w.sum() <= 0:
                raise ValueError("sample_weight must be non-negative and not all zero "
                                 "(give at least one row a weight above zero)")
        template = None
        if self.template is not None:
            if X_units is not None or y_units is not None:
                raise ValueError("template and X_units/y_units are not supported together: "
                                 "drop the units or the template")
            template = Template.parse(self.template, names)
            config = dataclasses.replace(config, template=template, linear_scaling=False)
            from eurisko.search.template import TemplateGrammar

            smallest = TemplateGrammar(config.operators, template).smallest_complexity
            if smallest > config.max_size:
                raise ValueError(f"max_size={config.max_size} is below the smallest formula of "
                                 f"the template ({smallest}, the outer form and one variable "
                                 "per function with its scale); raise max_size")
        constants = _branches.constants_of(physical_constants)
        if constants and X_units is None:
            raise ValueError("physical_constants enter the dimensional analysis: give X_units "
                             "and y_units too")
        names = names + _variable_names([c.name for c in constants], taken=names)
        self.physical_constants_ = [(n, c.value) for n, c in
                                    zip(names[Xv.shape[1]:], constants, strict=True)]
        Xv = self._with_constants(Xv)
        reductions, note, units, y_unit = [], "", None, None
        y_name = str(getattr(y, "name", None) or "y")
        if X_units is not None or y_units is not None:
            units, y_unit = _branches.units_of(columns or names[:self.n_features_in_], X_units,
                                               y_units, constants)
            reductions, note = _branches.plan(Xv, yv, w, names, units, y_unit, y_name)
            if note:
                warnings.warn(f"no dimensionless form: {note}; searching the raw data",
                              stacklevel=2)
        state = None
        if self.warm_start and hasattr(self, "search_state_"):
            if getattr(self, "_state_n_features", Xv.shape[1]) != Xv.shape[1]:
                raise ValueError("warm_start needs the same columns as the previous fit")
            state = self.search_state_
            state.interrupted = False
        # the search sees y and X divided by powers of two (none for ordinary magnitudes); a
        # continued search keeps the scales its populations were bred under
        scaling = (getattr(self, "_scaling", None) if state is not None else None) \
            or (Scaling() if template is not None else Scaling.of(Xv, yv))
        # the loss in the user's units of y (user_loss) and in the search's (data.loss)
        user_loss = LossSpec(self.loss, float(self.loss_scale) if self.loss_scale is not None
                             else default_loss_scale(yv, Xv))
        scaling = dataclasses.replace(scaling, loss_degree=user_loss.degree)
        Xs, ys = scaling.scale_data(Xv, yv)
        if template is not None:  # the template's numbers, as columns no fit moves
            Xs = np.hstack([Xs, template.fixed_columns(len(Xs))])
        data = Dataset.from_arrays(Xs, ys, w, loss=user_loss.rescaled(scaling.y_exp))
        self.variable_names_ = names
        self._scaling = scaling
        self._template = template
        self._search_y_var = float(np.sum(w * (ys - np.sum(w * ys) / w.sum()) ** 2) / w.sum())
        self._n_rows = int(np.count_nonzero(w > 0))
        if not user_loss.is_l2:  # losses are measured against the best constant's
            self._search_y_var = baseline_loss(ys, w, data.loss)
        self.y_var_ = float(scaling.loss_to_user(self._search_y_var))
        meta = {"params": self._params_meta(), "variable_names": names,
                "n_features": int(self.n_features_in_), "y_var": self._search_y_var,
                "n_rows": self._n_rows,
                "scaling": scaling.to_dict(), "physical_constants": self.physical_constants_,
                "feature_names_in": ([str(c) for c in self.feature_names_in_]
                                     if hasattr(self, "feature_names_in_") else None)}
        run_dir = Path(self.run_dir) if self.run_dir is not None else None
        checkpoint = None
        if run_dir is not None:
            (run_dir / _outputs.LAYOUT).unlink(missing_ok=True)  # (an earlier multi-output run)
            def checkpoint(s: SearchState) -> None:
                save_state(run_dir, s, meta)

        progress = self.progress
        if progress is None and self.verbose:
            progress = _print_progress
        seeds = _parsed_guesses(guesses, names, config)
        if template is not None:
            from eurisko.expr.printing import to_string

            kept = []
            for p in seeds:  # (a guess writes the template's numbers as numbers)
                q = template.searched(p)
                if q is None:
                    warnings.warn(f"guess {to_string(p, names)!r} does not have the template's "
                                  f"form {template.text!r}; it is left out", stacklevel=3)
                else:
                    kept.append(q)
            seeds = kept
        exact_loss = None if self.exact_fit_tol is None else self.exact_fit_tol * self.y_var_
        split, exact = _branches.Branches([], []), False
        if state is None and self.decompose and not scaling.identity:
            split = _decompose.skipped(
                "values beyond ordinary magnitudes: the structure tests and the walk run on "
                "tables the search needs no scaling for")
        elif state is None and self.decompose and template is None:
            split, exact = _decompose.run(
                Xv, yv, w, names, units, y_unit, y_name, self._inner_model, config.operators,
                self.time_limit, self.max_evals, self.loss_threshold, exact_loss, progress,
                self.random_state)
        elif state is None and self.decompose:
            split, exact = _decompose.run_template(
                Xv, yv, w, names, template, self._inner_model, config.operators,
                self.time_limit, self.max_evals, self.loss_threshold, exact_loss, progress,
                self.random_state)
            split.guesses[:] = [q for p in split.guesses
                               if (q := template.searched(p)) is not None]
        branches = _branches.run(
            reductions if state is None and not exact else [], self._inner_model, names,
            config.operators, Xv, yv, w, _less(self.time_limit, split.seconds, 1e-3),
            _less(self.max_evals, split.n_evals, 1), self.loss_threshold, exact_loss,
            _branches._offset(progress, split.seconds, split.n_evals) if split.record
            else progress)
        branches = _branches.Branches(
            [*split.guesses, *branches.guesses], [*split.record, *branches.record],
            split.seconds + branches.seconds, split.n_evals + branches.n_evals,
            min(split.best_loss, branches.best_loss))
        if progress is not None and not scaling.identity:
            progress = _in_user_units(progress, scaling)
        if progress is not None and branches.record:
            progress = _branches._offset(progress, branches.seconds, branches.n_evals,
                                         last=True)
        backend = default_backend()
        state = run_search(
            data, config, seed=self.random_state, n_jobs=n_jobs, cluster=cluster,
            time_limit=_less(self.time_limit, branches.seconds, 1e-3),
            max_evals=_less(self.max_evals, branches.n_evals, 1),
            loss_threshold=scaling.loss_from_user(self.loss_threshold),
            exact_tol=self.exact_fit_tol, state=state,
            describe=self._describe if progress else None, progress=progress,
            checkpoint=checkpoint, checkpoint_every=self.checkpoint_every, backend=backend,
            guesses=[scaling.to_search(p, config.operators)
                     for p in [*seeds, *branches.guesses]],
        )
        self.search_state_ = state
        self._state_n_features = Xv.shape[1]
        allowed = None if config.constraints is None else config.constraints.allows
        self.n_evals_ = int(state.n_evals) + branches.n_evals
        self.elapsed_ = float(state.elapsed) + branches.seconds
        self.interrupted_ = bool(state.interrupted)
        self.stop_reason_ = state.stop_reason
        self.faults_ = list(state.faults)
        try:
            front = written_back_front(state.hof, data, Xv, backend, config.linear_scaling,
                                       config.operators, scaling, allowed, template=template)
        except KeyboardInterrupt:
            front = _front_without_data(state.hof, config.linear_scaling, scaling)
            self.interrupted_ = True
        if template is not None:  # the template's numbers back in as constants
            front = [FrontEntry(e.complexity, template.written(e.program), e.loss)
                     for e in front]
        if self.physical_constants_:
            front = _branches.name_constants(
                front, names, self.physical_constants_,
                lambda p: scaling.loss_from_user(_branches.raw_loss(p, Xv, yv, w, user_loss)),
                config.operators, self._search_y_var)
        if allowed is not None:  # what the written-back constants and names changed
            front = pareto([e.program for e in front if allowed(e.program)],
                           [e.loss for e in front if allowed(e.program)])
        r2 = select = None
        if not user_loss.is_l2 and front:
            from eurisko.evaluate.reference import NumpyBackend

            r2 = [_r2(e.program, Xv, yv, w) for e in front]
            select = inlier_losses([e.program for e in front],
                                   Dataset.from_arrays(Xv, yv, w, loss=user_loss), NumpyBackend())
        self._set_front(front, r2, select)
        # the decomposition rates on squared error: its record is compared in the same terms
        self.decomposition_ = self._decomposition(
            reductions, branches, note, state, None if user_loss.is_l2 else
            _branches.raw_loss(self.programs_[self.best_index_], Xv, yv, w))
        if run_dir is not None:
            meta["front"] = [{"program": e.program.to_dict(), "loss": e.loss} for e in front]
            if select is not None:
                meta["best_index"] = int(self.best_index_)
            if r2 is not None:
                for entry, v in zip(meta["front"], r2, strict=True):
                    entry["r2"] = v
            meta["decomposition"] = self.decomposition_
            save_state(run_dir, state, meta)
        return self

    def _fit_outputs(self, X, Y, names: list[str], sample_weight, X_units, y_units,
                     physical_constants, guesses) -> SymbolicRegressor:
        """One search per column of a 2-D ``Y``, one after the other (`eurisko._outputs`):
        ``time_limit`` and ``max_evals`` are for the whole fit, shared out as it goes."""
        _check_frame(X)
        _check_frame(Y)
        try:  # (sklearn's own check of a 2-D y would not name the column)
            Yf = np.asarray(Y, dtype=np.float64)
        except (TypeError, ValueError):
            Yf = None
        if Yf is not None and Yf.ndim == 2:
            _check_finite("y", Yf, names)
        Xv, Yv = validate_data(self, X, Y, multi_output=True, y_numeric=True,
                               ensure_min_samples=2, ensure_all_finite=False, dtype=np.float64)
        if Yv.ndim != 2 or Yv.shape[1] != len(names):
            raise ValueError(f"y has shape {Yv.shape}; give one column per output")
        _check_finite("y", Yv, names)
        k = len(names)
        weights = _outputs.per_output_weights(sample_weight, Xv.shape[0], k)
        units = _outputs.per_output_units(y_units, names)
        seeds = _outputs.per_output_guesses(guesses, k)
        if self.warm_start and getattr(self, "n_outputs_", None) == 1 \
                and hasattr(self, "search_state_"):
            raise ValueError(f"warm_start continues the previous fit, which had one output; "
                             f"y now has {k}; set warm_start=False")
        previous = (getattr(self, "estimators_", None) or getattr(self, "_restored", None)) \
            if self.warm_start else None
        if previous is not None and list(getattr(self, "output_names_", [])) != list(names):
            raise ValueError(f"warm_start needs the same outputs as the previous fit "
                             f"({list(self.output_names_)}), got {names}")
        ests: list[SymbolicRegressor | None] = list(previous) if previous else [None] * k
        dirs = _outputs.directories(names)
        run_dir = Path(self.run_dir) if self.run_dir is not None else None
        if run_dir is not None:
            _outputs.write_layout(run_dir, names, dirs, {
                "params": self._params_meta(), "n_features": int(self.n_features_in_),
                "feature_names_in": ([str(c) for c in self.feature_names_in_]
                                     if hasattr(self, "feature_names_in_") else None)})
        progress = self.progress
        if progress is None and self.verbose:
            progress = _print_progress
        seconds = [0.0 if e is None else float(e.elapsed_) for e in ests]
        evals = [0 if e is None else int(e.n_evals_) for e in ests]
        interrupted = False
        for j in range(k):
            params = {key: v for key, v in self.get_params().items()}
            params.update(
                time_limit=_outputs.budget(self.time_limit, seconds, j, 1e-3),
                max_evals=None if self.max_evals is None else
                int(_outputs.budget(self.max_evals, evals, j, 1)),
                run_dir=None if run_dir is None else str(run_dir / dirs[j]),
                warm_start=ests[j] is not None, verbose=False,
                progress=_branches._offset(progress, sum(seconds) - seconds[j],
                                           sum(evals) - evals[j], last=j == k - 1))
            if interrupted:  # Ctrl-C: the outputs after it get one short search each
                params.update(time_limit=seconds[j] + 1e-3, decompose=False)
            est = ests[j] if ests[j] is not None else type(self)()
            est.set_params(**params)
            est.fit(X, pd.Series(Yv[:, j], name=names[j]), sample_weight=weights[j],
                    X_units=X_units, y_units=units[j], physical_constants=physical_constants,
                    guesses=seeds[j])
            est.set_params(progress=self.progress)  # (the wrapper would not pickle)
            ests[j] = est
            seconds[j], evals[j] = float(est.elapsed_), int(est.n_evals_)
            interrupted = interrupted or bool(est.interrupted_)
        self._set_outputs(ests, names)
        return self

    def _set_outputs(self, ests: list[SymbolicRegressor], names: list[str]) -> None:
        """The fitted attributes of a multi-output fit, read from its per-output estimators."""
        for attr in ("search_state_", "_state_n_features", "_restored"):
            self.__dict__.pop(attr, None)
        self.estimators_ = ests
        self.n_outputs_ = len(ests)
        self.output_names_ = list(names)
        self.variable_names_ = list(ests[0].variable_names_)
        self.physical_constants_ = list(ests[0].physical_constants_)
        self.pareto_front_ = [e.pareto_front_ for e in ests]
        self.programs_ = [e.programs_ for e in ests]
        self.best_index_ = [int(e.best_index_) for e in ests]
        self.y_var_ = [float(e.y_var_) for e in ests]
        self.n_evals_ = int(sum(e.n_evals_ for e in ests))
        self.elapsed_ = float(sum(e.elapsed_ for e in ests))
        self.interrupted_ = any(bool(e.interrupted_) for e in ests)
        self.stop_reason_ = [e.stop_reason_ for e in ests]
        self.faults_ = [dict(f, output=n) for e, n in zip(ests, names, strict=True)
                        for f in e.faults_]
        self.decomposition_ = [e.decomposition_ for e in ests]

    def _forget_outputs(self) -> None:
        """Drop what a multi-output fit left (a single-output fit follows)."""
        for attr in ("estimators_", "output_names_", "_restored"):
            self.__dict__.pop(attr, None)

    def _output(self, output: int | str) -> int:
        """Index of ``output``: a position or an output's name."""
        names = self.output_names_
        if isinstance(output, str):
            if output not in names:
                raise ValueError(f"no output {output!r}; the outputs are {names}")
            return names.index(output)
        j = check_int(output, "output", hint=f"a position or a name in {names}")
        if not -len(names) <= j < len(names):
            raise IndexError(f"output {j} is not among the {len(names)} outputs {names}")
        return j % len(names)

    def _by_output(self, i, output, call: Callable[[SymbolicRegressor, object], object]):
        """``call(estimator, row)`` for each output of a multi-output fit, as a list (or for
        ``output`` alone); ``_ONE`` for a single-output fit, whose own code then runs."""
        check_is_fitted(self, "programs_")
        if getattr(self, "estimators_", None) is None:
            if output is not None and output not in (0, -1):
                raise ValueError(f"this fit has one output; leave output out (got {output!r})")
            return _ONE
        if output is not None:
            j = self._output(output)
            return call(self.estimators_[j], self.best_index_[j] if i is None else i)
        k = len(self.estimators_)
        if i is None:
            rows = list(self.best_index_)
        elif isinstance(i, (list, tuple, np.ndarray)) and len(i) == k:
            rows = list(i)
        else:
            raise TypeError(f"this fit has {k} outputs: give i as a list of one row per output "
                            "(or output= to pick one output)")
        return [call(e, r) for e, r in zip(self.estimators_, rows, strict=True)]

    def _inner_model(self, **overrides) -> SymbolicRegressor:
        """An estimator for an easier version of the problem: these settings, no run_dir, and
        no decomposition branch of its own (the outer fit has tested the structure, and an
        inner fit testing again would spend its share on the same surrogate)."""
        params = self.get_params()
        # (an easier problem has another target: its loss scale is read from its own data)
        params.update(run_dir=None, warm_start=False, verbose=False, decompose=False,
                      loss_scale=None, **overrides)
        return type(self)(**params)

    def _with_constants(self, Xv: np.ndarray) -> np.ndarray:
        """The user's columns and, after them, one column per physical constant."""
        consts = getattr(self, "physical_constants_", [])
        if not consts:
            return Xv
        extra = np.broadcast_to([v for _, v in consts], (Xv.shape[0], len(consts)))
        return np.ascontiguousarray(np.hstack([Xv, extra]))

    def _decomposition(self, reductions, branches, note: str, state: SearchState,
                       selected: float | None = None) -> dict:
        """What `decomposition_` says: the problems tried, their cost, which one found it
        (``selected``: the selected formula's squared error, when the front's loss is not)."""
        plain = {"kind": "plain", "seconds": float(state.elapsed), "n_evals": int(state.n_evals),
                 "stop_reason": state.stop_reason}
        if selected is None:
            selected = float(self.pareto_front_["loss"].iloc[self.best_index_])
        found_by = "plain"
        for entry in branches.record:  # in the order they ran: the first to find it counts
            if entry.get("best_loss", float("inf")) <= selected * (1 + 1e-6) + 1e-15 * self.y_var_:
                found_by = entry["kind"]
                break
        return {"units": bool(reductions) or bool(note), "note": note,
                "physical_constants": [n for n, _ in self.physical_constants_],
                "branches": [*branches.record, plain], "found_by": found_by}

    def _describe(self, hof: HallOfFame) -> list[tuple[int, float, str]]:
        from eurisko.expr.printing import to_string

        rows = []
        scaling = self._scaling
        template = getattr(self, "_template", None)
        linear = bool(self.linear_scaling) and template is None
        for e in _front_without_data(hof, linear, scaling):
            p = e.program if template is None else template.written(e.program)
            rows.append((e.complexity, float(scaling.loss_to_user(e.loss)),
                         to_string(p, self.variable_names_, 4)))
        return rows

    def _n_symbols(self) -> int:
        """The symbols a formula is written in: operators, variables and a constant (what
        ``model_selection="mdl"`` charges each node for)."""
        n_vars = int(getattr(self, "n_features_in_", 1)) + len(getattr(self, "physical_constants_",
                                                                     None) or [])
        return len(resolve_operators(self.operators)) + n_vars + 1

    def _set_front(self, front: list[FrontEntry], r2: Sequence[float] | None = None,
                   select: tuple[np.ndarray, float] | None = None) -> None:
        """The front's programs and table; ``front``'s losses are in the search's units
        (``r2``: the rows' R^2, and ``select``: the losses and yardstick the selection reads,
        where the loss is not squared error; `search.front.inlier_losses`)."""
        from eurisko.expr.printing import to_string

        if not front:
            raise RuntimeError("the search found no formula whose predictions are finite on "
                               "every row; allow more operators or time")
        self.programs_ = [e.program for e in front]
        self.n_outputs_ = 1
        losses = np.array([e.loss for e in front])
        comps = np.array([e.complexity for e in front])
        y_var = self._search_y_var
        if r2 is None:
            r2 = 1.0 - losses / y_var if y_var > 0 else np.where(losses == 0, 1.0, 0.0)
        self.pareto_front_ = pd.DataFrame({
            "complexity": comps, "loss": self._scaling.loss_to_user(losses), "r2": r2,
            "equation": [to_string(p, self.variable_names_) for p in self.programs_],
        })
        sel_losses, sel_var = select if select is not None else (losses, y_var)
        self.best_index_ = select_index(sel_losses, comps, sel_var, self.model_selection,
                                        self._n_rows, self._n_symbols())

    # --- using the result ------------------------------------------------------------

    def _program(self, i: int | None) -> Program:
        check_is_fitted(self, "programs_")
        i = self.best_index_ if i is None else check_int(i, "i", hint="i is a row of pareto_front_")
        if not -len(self.programs_) <= i < len(self.programs_):
            raise IndexError(f"row {i} is not in the Pareto front (it has "
                             f"{len(self.programs_)} rows)")
        return self.programs_[i]

    def template_parts(self, i: int | Sequence[int] | None = None,
                       precision: int | None = None, *, output: int | str | None = None):
        """With a ``template``: the functions of the selected formula (or of front row ``i``)
        as text, ``{"f": "x0 + x1^2", "g": "x2"}``, and the fitted ``?`` values under
        ``"?"`` (in the order they appear in the template). For a 2-D ``y``: a list, one per
        output, or that of ``output`` alone (as `sympy`)."""
        out = self._by_output(i, output, lambda e, r: e.template_parts(r, precision))
        if out is not _ONE:
            return out
        template = getattr(self, "_template", None)
        if template is None:
            raise ValueError("template_parts needs a fit with a template (template=None here)")
        parts = template.describe(self._program(i), precision)
        if parts is None:  # (the final rewrites keep the form; this is a safeguard)
            raise ValueError("this formula does not have the template's form")
        return parts

    def predict(self, X, i: int | Sequence[int] | None = None) -> np.ndarray:
        """Predictions of the selected formula (or of front row ``i``); for a 2-D ``y``, an
        ``(n, k)`` array, one column per output (``i``: a list of one row per output)."""
        check_is_fitted(self, "programs_")
        Xv = validate_data(self, X, reset=False, dtype=np.float64, ensure_all_finite=False)
        _check_finite("X", Xv, self.variable_names_)
        cols = self._by_output(i, None, lambda e, r: e.predict(X, r))
        if cols is not _ONE:
            return np.column_stack(cols).astype(np.float64, copy=False)
        Xv = self._with_constants(Xv)
        out = eval_program(self._program(i), np.ascontiguousarray(Xv.T))
        return np.asarray(out, dtype=np.float64)

    def sympy(self, i: int | Sequence[int] | None = None, precision: int | None = None, *,
              real: bool = False, output: int | str | None = None):
        """The selected formula (or row ``i``) as a SymPy expression, in plain Symbols named
        as the columns, so ``sp.Symbol("x")`` matches them (e.g. in ``subs``); ``real=True``
        gives real Symbols instead (SymPy then simplifies over the reals).

        For a 2-D ``y``: a list, one expression per output (``i``: a list of one row per
        output), or the expression of ``output`` alone (a position or an output's name)."""
        out = self._by_output(i, output, lambda e, r: e.sympy(r, precision, real=real))
        if out is not _ONE:
            return out
        from eurisko.expr.sympy_bridge import to_sympy

        return to_sympy(self._program(i), self.variable_names_, precision, real=real)

    def latex(self, i: int | Sequence[int] | None = None, precision: int = 4, *,
              output: int | str | None = None) -> str | list[str]:
        """The selected formula (or row ``i``) in LaTeX (a 2-D ``y``: one per output, as
        `sympy` gives them)."""
        out = self._by_output(i, output, lambda e, r: e.latex(r, precision))
        if out is not _ONE:
            return out
        from eurisko.expr.printing import to_latex

        return to_latex(self._program(i), self.variable_names_, precision)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.non_deterministic = False
        tags.target_tags.multi_output = True  # a 2-D y: one search per output
        return tags

    # --- runs on disk ----------------------------------------------------------------

    @classmethod
    def from_run(cls, path: str | os.PathLike) -> SymbolicRegressor:
        """The estimator saved in a run directory, fitted with what the run had found.

        A finished run restores its final front; a killed run restores the front of its last
        checkpoint. ``fit`` on the result continues the search (``warm_start`` is set).

        A multi-output run (a 2-D ``y``) restores every output's run from its sub-directory.
        Where the run was killed before its last outputs had started, the result is not
        fitted (``predict`` says so) and ``fit`` on the same data finishes it: the outputs
        with a checkpoint go on, the others start.
        """
        layout = _outputs.read_layout(path)
        if layout is not None:
            return cls._from_outputs(Path(path), layout)
        state, meta = load_state(path)
        params = dict(meta["params"])
        model = cls(**params, warm_start=True, run_dir=path)
        model.variable_names_ = list(meta["variable_names"])
        model.n_features_in_ = int(meta["n_features"])
        if meta.get("feature_names_in"):
            model.feature_names_in_ = np.asarray(meta["feature_names_in"], dtype=object)
        model._scaling = Scaling.from_dict(meta.get("scaling"))
        model._search_y_var = float(meta["y_var"])
        model.y_var_ = float(model._scaling.loss_to_user(model._search_y_var))
        model._n_rows = meta.get("n_rows")  # runs saved before it: PySR's rule
        model.physical_constants_ = [(str(n), float(v))
                                     for n, v in meta.get("physical_constants", [])]
        model._template = (Template.parse(params["template"], model.variable_names_)
                           if params.get("template") else None)
        model.search_state_ = state
        model._state_n_features = model.n_features_in_
        model.n_evals_ = state.n_evals
        model.elapsed_ = state.elapsed
        model.interrupted_ = state.interrupted
        model.stop_reason_ = state.stop_reason
        model.faults_ = list(state.faults)
        with complexities_in_force(complexities(model.complexity_of_operators,
                                                model.complexity_of_variables,
                                                model.complexity_of_constants)):
            if "front" in meta:
                front = [FrontEntry(Program.from_dict(e["program"]).complexity(),
                                    Program.from_dict(e["program"]), float(e["loss"]))
                         for e in meta["front"]]
                r2 = [float(e["r2"]) for e in meta["front"]] \
                    if all("r2" in e for e in meta["front"]) and meta["front"] else None
            else:  # (a killed run under another loss: r2 is 1 - loss / the best constant's loss)
                t = model._template
                front = _front_without_data(
                    state.hof, bool(params.get("linear_scaling", True)) and t is None,
                    model._scaling)
                if t is not None:
                    front = [FrontEntry(e.complexity, t.written(e.program), e.loss)
                             for e in front]
                r2 = None
            model._set_front(front, r2)
            if "best_index" in meta and 0 <= int(meta["best_index"]) < len(model.programs_):
                model.best_index_ = int(meta["best_index"])
        model.decomposition_ = meta.get("decomposition", {})
        return model

    @classmethod
    def _from_outputs(cls, path: Path, layout: dict) -> SymbolicRegressor:
        """A multi-output run: one single-output run per sub-directory (`from_run`)."""
        model = cls(**dict(layout["params"]), warm_start=True, run_dir=path)
        names = [str(o["name"]) for o in layout["outputs"]]
        ests = [cls.from_run(path / o["dir"]) if (path / o["dir"] / "state.json").is_file()
                else None for o in layout["outputs"]]
        model.n_features_in_ = int(layout["n_features"])
        if layout.get("feature_names_in"):
            model.feature_names_in_ = np.asarray(layout["feature_names_in"], dtype=object)
        if all(e is not None for e in ests):
            model._set_outputs(ests, names)
            return model
        model._restored = ests  # not fitted: `fit` (warm_start) finishes the run
        model.output_names_ = names
        model.n_outputs_ = len(names)
        model.n_evals_ = int(sum(e.n_evals_ for e in ests if e is not None))
        model.elapsed_ = float(sum(e.elapsed_ for e in ests if e is not None))
        return model

    # --- exports: the formula without eurisko (eurisko.expr.export) -----------------

    def _export_args(self) -> dict:
        """Names of the program's columns and the physical constants they bind."""
        return {"names": self.variable_names_,
                "fixed": dict(getattr(self, "physical_constants_", []))}

    def numpy(self, i: int | Sequence[int] | None = None, *, output: int | str | None = None):
        """The selected formula (or row ``i``) as a plain callable ``f(X) -> y`` that needs
        numpy only (no SymPy, no eurisko evaluator at call time); it takes the X that
        ``predict`` takes. Its ``source`` attribute is the same function as a standalone
        Python module (what ``eurisko fit`` writes to ``formula.py``). A 2-D ``y``: one
        callable per output, or ``output``'s (as `sympy`)."""
        out = self._by_output(i, output, lambda e, r: e.numpy(r))
        if out is not _ONE:
            return out
        from eurisko.expr.export import to_numpy

        p = self._program(i)
        names = getattr(self, "feature_names_in_", None)
        return to_numpy(p, **self._export_args(),
                        feature_names=None if names is None else list(names))

    def pytorch(self, i: int | Sequence[int] | None = None, dtype=None, *,
                output: int | str | None = None):
        """The selected formula (or row ``i``) as a ``torch.nn.Module`` whose constants are
        one trainable parameter, ``module.constants`` (float64 unless ``dtype``); needs
        ``pip install 'eurisko[torch]'``. A 2-D ``y``: one module per output, or
        ``output``'s (as `sympy`)."""
        out = self._by_output(i, output, lambda e, r: e.pytorch(r, dtype))
        if out is not _ONE:
            return out
        from eurisko.expr.export import to_pytorch

        return to_pytorch(self._program(i), **self._export_args(), dtype=dtype)

    def jax(self, i: int | Sequence[int] | None = None, *, output: int | str | None = None):
        """The selected formula (or row ``i``) as ``(fn, params)``: ``fn(X, params) -> y``, a
        pure JAX function, and its constants; float64 only after
        ``jax.config.update("jax_enable_x64", True)``. Needs ``pip install 'eurisko[jax]'``.
        A 2-D ``y``: one pair per output, or ``output``'s (as `sympy`)."""
        out = self._by_output(i, output, lambda e, r: e.jax(r))
        if out is not _ONE:
            return out
        from eurisko.expr.export import to_jax

        return to_jax(self._program(i), **self._export_args())

    def c_code(self, i: int | Sequence[int] | None = None, function_name: str = "f", *,
               output: int | str | None = None) -> str | list[str]:
        """C99 source of the selected formula (or row ``i``): ``double f(const double *x)``
        on one row and ``f_rows`` on a row-major table; needs only ``<math.h>``. A 2-D
        ``y``: one source per output, or ``output``'s (as `sympy`)."""
        out = self._by_output(i, output, lambda e, r: e.c_code(r, function_name))
        if out is not _ONE:
            return out
        from eurisko.expr.export import to_c

        return to_c(self._program(i), **self._export_args(), function_name=function_name)

    def latex_table(self, indices: Sequence[int] | None = None, precision: int = 3, *,
                    output: int | str | None = None) -> str | list[str]:
        """The Pareto front (or its rows ``indices``) as a booktabs LaTeX table for a paper:
        equation, complexity, loss and R^2 per row. A 2-D ``y``: one table per output
        (``indices``: a list of row lists, one per output), or ``output``'s."""
        from eurisko.expr.export import latex_table

        check_is_fitted(self, "programs_")
        if getattr(self, "estimators_", None) is not None:
            if output is not None:
                return self.estimators_[self._output(output)].latex_table(indices, precision)
            k = len(self.estimators_)
            if indices is not None and not (isinstance(indices, (list, tuple))
                                            and len(indices) == k):
                raise TypeError(f"this fit has {k} outputs: give indices as a list of row "
                                "lists, one per output (or output= to pick one output)")
            return [e.latex_table(None if indices is None else indices[j], precision)
                    for j, e in enumerate(self.estimators_)]
        if output is not None and output not in (0, -1):
            raise ValueError(f"this fit has one output; leave output out (got {output!r})")
        rows = list(range(len(self.programs_))) if indices is None else [
            check_int(k, "indices", hint="rows of pareto_front_") for k in indices]
        for k in rows:
            self._program(k)  # the IndexError that names the front's size
        front = self.pareto_front_.iloc[rows]
        return latex_table(
            [self.programs_[k] for k in rows], self.variable_names_, precision=precision,
            columns={"Complexity": front["complexity"].tolist(), "Loss": front["loss"].tolist(),
                     "$R^2$": front["r2"].tolist()})


def _r2(program: Program, X: np.ndarray, y: np.ndarray, w: np.ndarray) -> float:
    """Weighted R^2 of ``program`` on the user's data (-inf where it is not finite)."""
    mse = _branches.raw_loss(program, X, y, w)
    var = float(np.average((y - np.average(y, weights=w)) ** 2, weights=w))
    if not np.isfinite(mse):
        return float("-inf")
    return 1.0 - mse / var if var > 0 else (1.0 if mse == 0 else 0.0)


def _front_without_data(hof: HallOfFame, linear_scaling: bool,
                        scaling: Scaling) -> list[FrontEntry]:
    """Front from the hall of fame alone: a and b folded in, no polishing (needs no data);
    formulas in the user's variables, losses in the search's units."""
    programs, losses = [], []
    for _, p, loss, (a, b) in hof.front():
        q = simplify(fold_scaling(p, a, b)[3]) if linear_scaling else p
        programs.append(scaling.to_user(q))
        losses.append(loss)
    return pareto(programs, losses)


def _in_user_units(progress: Callable[[SearchProgress], None], scaling: Scaling
                   ) -> Callable[[SearchProgress], None]:
    """``progress`` shown the best loss in the user's units (the search's are scaled)."""
    def report(p: SearchProgress) -> None:
        progress(dataclasses.replace(p, best_loss=float(scaling.loss_to_user(p.best_loss))))

    return report


def _print_progress(p: SearchProgress) -> None:
    import sys

    now = p.elapsed
    last = getattr(_print_progress, "_last", -1e9)
    if p.done or now - last >= 5.0:
        _print_progress._last = now  # type: ignore[attr-defined]
        print(f"progress: {now:7.1f}s  evals {p.n_evals:>10d}  {p.evals_per_second:9.0f}/s  "
              f"best loss {p.best_loss:.4g}", file=sys.stderr)
