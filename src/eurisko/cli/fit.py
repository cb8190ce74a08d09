"""``eurisko fit``: find formulas for one column of a CSV file, watch the search, keep the results.

    eurisko fit data.csv --target y [--features a b ...] [--time-limit 60] [--out runs/name]
    eurisko fit data.csv --target y1 --target y2 [...]
    eurisko fit --resume runs/name [--time-limit 30]

The search writes checkpoints to the output directory while it runs; at the end (also after
Ctrl-C) it writes the Pareto front there: ``front.csv``, ``front.json`` and ``front.png``, the
selected formula for use without eurisko (``formula.py``, a numpy function, and ``formula.c``),
and ``cli.json`` (which data, target and features), so that ``--resume DIR`` can go on from the last
checkpoint with the same data. On ``--resume``, ``--time-limit`` and ``--max-evals`` count what
is added.

With several ``--target`` columns, each is searched in turn (one search per target, the time
limit for all of them together) and its results go to a sub-directory named after it
(``DIR/y1/front.csv``, ``DIR/y1/formula.py``, ``DIR/y1/formula.c``, ...).

Exit codes: 0 when the search ran to its end; 130 when Ctrl-C stopped it early (the results
found so far are still written); 2 for a problem with the input or the options (one line
``error: ...`` on stderr); 1 when the search itself failed.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from eurisko.cli._common import (
    EXIT_INTERRUPTED,
    EXIT_OK,
    ProgressView,
    Table,
    UsageError,
    load_table,
    make_console,
    number_option,
)
from eurisko.version import __version__

if TYPE_CHECKING:
    from rich.console import Console

    from eurisko.regressor import SymbolicRegressor

FRESH_DEFAULTS = {"time_limit": 60.0, "seed": 0, "max_size": 30, "checkpoint_every": 10.0}


def register(sub: Any) -> None:
    """Add the ``fit`` sub-command to ``sub`` (argparse sub-parsers)."""
    fit = sub.add_parser(
        "fit", help="find formulas target = f(features) in a CSV file",
        description="Search for closed-form formulas that predict one column of a CSV file from "
                    "the others, and write the Pareto front (front.csv, front.json, front.png).",
        epilog="Example: eurisko fit data.csv --target y --time-limit 30 --out runs/first\n"
               "         eurisko fit --resume runs/first --time-limit 30",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    fit.add_argument("data", nargs="?", help="CSV file with a header line")
    fit.add_argument("--target", action="append", metavar="COL",
                     help="column to predict; repeat for several (one search per column, "
                          "--time-limit for all together, results in one sub-directory each)")
    fit.add_argument("--features", nargs="+", metavar="COL",
                     help="input columns (default: every other column)")
    fit.add_argument("--weights", metavar="COL", help="column of non-negative row weights")
    fit.add_argument("--dropna", action="store_true",
                     help="skip rows with missing or infinite values instead of stopping")
    fit.add_argument("--operators", metavar="OPS",
                     help="comma-separated operators, e.g. add,sub,mul,div,sqrt,exp,log,sin,cos")
    fit.add_argument("--max-size", type=number_option(int, "--max-size"), metavar="N",
                     help="largest formula, in nodes (default 30)")
    fit.add_argument("--units", nargs="+", metavar="COL=UNIT",
                     help="units of the columns, target included, e.g. m_0=kg v=m/s c=m/s "
                          "m=kg ('1' for a pure number): the search first tries the law "
                          "between dimensionless groups")
    fit.add_argument("--constants", nargs="+", metavar="NAME",
                     help="physical constants the law needs that are not columns (with "
                          "--units), from pint's table: c h hbar k_B G e epsilon_0 ...")
    fit.add_argument("--max-depth", type=number_option(int, "--max-depth"), metavar="N",
                     help="deepest formula, in levels (a leaf is 1; default: no limit)")
    fit.add_argument("--guess", action="append", metavar="FORMULA",
                     help="a formula to start from, in the column names, e.g. "
                          "'m_0/sqrt(1 - v^2/c^2)'; repeat for several. Its constants are "
                          "fitted and every island starts with it")
    fit.add_argument("--template", metavar="FORM",
                     help="a fixed outer form whose functions are searched, e.g. "
                          "'f(x1, x2) * exp(g(x3))': f over x1, x2 only, g over x3 only; ? is "
                          "a fitted constant, plain numbers stay fixed (turns off linear "
                          "scaling and the decomposition but for its symmetry tests inside "
                          "each function; not with --units)")
    fit.add_argument("--model-selection", metavar="RULE",
                     help="how the formula is picked from the front: auto (default: bic, "
                          "inside best's 1.5x window from 100 rows on), best, accuracy, "
                          "score, bic")
    fit.add_argument("--loss", metavar="NAME",
                     help="how residuals are charged: l2 (default, squared error), l1, huber, "
                          "logcosh (robust to outliers), or a name from eurisko.register_loss")
    fit.add_argument("--loss-scale", type=number_option(float, "--loss-scale"), metavar="D",
                     help="huber's delta / logcosh's width, in the target's units (default: "
                          "1.345 times a robust estimate of the noise)")
    fit.add_argument("--resume", metavar="DIR",
                     help="continue the search saved in DIR (data, target and features are "
                          "read from DIR/cli.json unless given)")
    add_search_options(fit)
    fit.set_defaults(func=cmd_fit)


def add_search_options(p: argparse.ArgumentParser, demo: bool = False) -> None:
    """The ``search`` option group of ``fit`` (and, with other defaults, of ``demo``)."""
    g = p.add_argument_group("search")
    if demo:
        time_help = "seconds of search at most (default 15; it stops once the error is ~0)"
        n_jobs_help = ("worker processes (default 1: on 13 rows the search is over before "
                       "workers would have started)")
        threshold_help = "stop once the mean squared error is at most L (default: 1e-6 var(y))"
        out_help = "directory for checkpoints and results (default runs/demo)"
    else:
        time_help = "seconds of search (default 60; with --resume: seconds more, default 60)"
        n_jobs_help = "worker processes (default: all cores; 1 runs in this process)"
        threshold_help = "stop once a formula's mean squared error is at most L"
        out_help = ("directory for checkpoints and results (default "
                    "runs/<data file name>-<date>-<time>)")
    g.add_argument("--time-limit", type=number_option(float, "--time-limit"),
                   default=15.0 if demo else None, metavar="SECONDS", help=time_help)
    g.add_argument("--max-evals", type=number_option(int, "--max-evals"), metavar="N",
                   help="stop after N formula evaluations" + ("" if demo else
                                                              " (with --resume: N more)"))
    g.add_argument("--loss-threshold", type=number_option(float, "--loss-threshold"), metavar="L",
                   help=threshold_help)
    g.add_argument("--n-jobs", type=int, metavar="N", help=n_jobs_help)
    if not demo:
        g.add_argument("--cluster", metavar="ADDR",
                       help="run the islands on a Dask cluster: 'local' (a LocalCluster of "
                            "--n-jobs workers) or a scheduler address such as "
                            "tcp://host:8786 (needs pip install 'eurisko[dask]')")
    g.add_argument("--seed", type=int, default=None, metavar="S",
                   help="random seed (default 0)")
    g.add_argument("--checkpoint-every", type=number_option(float, "--checkpoint-every"),
                   metavar="SECONDS", help="seconds between checkpoints in the output "
                   "directory (default 10)")
    g.add_argument("--out", metavar="DIR", help=out_help)


def fill_defaults(args: argparse.Namespace) -> None:
    """Defaults of a fresh run, for the search options left unset (they stay None on
    ``--resume``, which keeps the saved run's settings unless an option is given)."""
    if getattr(args, "resume", None):
        return
    for k, v in FRESH_DEFAULTS.items():
        if getattr(args, k, None) is None:
            setattr(args, k, v)


@dataclass
class Job:
    """One fit to run: the data, the estimator and where results go."""

    table: Table
    model: SymbolicRegressor
    out_dir: Path
    cli_args: dict[str, Any]
    extra_time: float | None = None
    resumed_from: dict[str, Any] = field(default_factory=dict)
    fit_params: dict[str, Any] = field(default_factory=dict)


def units_of(pairs: list[str] | None, table: Table, constants: list[str] | None
             ) -> dict[str, Any]:
    """``--units COL=UNIT ...`` and ``--constants`` as the keyword arguments of ``fit``."""
    if not pairs:
        if constants:
            raise UsageError("--constants enter the dimensional analysis: give --units too")
        return {}
    units: dict[str, str] = {}
    for pair in pairs:
        name, sep, unit = pair.partition("=")
        if not sep or not name:
            raise UsageError(f"--units takes COLUMN=UNIT pairs such as v=m/s, got {pair!r}")
        if name not in (*table.features, *table.targets):
            raise UsageError(f"--units names {name!r}, which is not the target or an input "
                             f"column ({', '.join([*table.targets, *table.features])})")
        units[name] = unit
    from eurisko.physics import parse_unit, physical_constant

    for name, unit in units.items():  # a typo fails before the search starts
        parse_unit(unit, name)
    for name in constants or []:
        physical_constant(name)
    missing = [c for c in (*table.features, *table.targets) if c not in units]
    if missing:
        raise UsageError(f"--units has no unit for {', '.join(missing)}; give every input column "
                         "and the target one ('1' for a pure number)")
    y_units = [units[t] for t in table.targets] if table.more_targets else units[table.target]
    return {"X_units": {c: units[c] for c in table.features}, "y_units": y_units,
            "physical_constants": list(constants) if constants else None}


def _operators(text: str | None) -> list[str] | None:
    if text is None:
        return None
    ops = [o.strip() for o in text.replace(" ", ",").split(",") if o.strip()]
    if not ops:
        raise UsageError("--operators is empty; give names separated by commas, e.g. add,mul,sin")
    from eurisko.expr.operators import resolve_operators

    return list(resolve_operators(ops))  # unknown names: a ValueError that lists the known ones


def _write_cli_json(out_dir: Path, cli_args: dict[str, Any]) -> None:
    from eurisko.report.front import atomic_write_json

    atomic_write_json(out_dir / "cli.json", cli_args)


def _read_cli_json(run_dir: Path) -> dict[str, Any]:
    path = run_dir / "cli.json"
    if not path.is_file():
        return {}
    try:
        info = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise UsageError(f"could not read {path} ({exc}); give the data file and --target "
                         "again") from None
    return info if isinstance(info, dict) else {}


def new_model(args: argparse.Namespace, run_dir: Path, **overrides: Any) -> SymbolicRegressor:
    """The estimator for a fresh run with the search options in ``args`` (and ``overrides``)."""
    from eurisko.regressor import SymbolicRegressor

    params = dict(
        time_limit=args.time_limit, max_evals=args.max_evals, loss_threshold=args.loss_threshold,
        max_size=args.max_size, n_jobs=args.n_jobs, cluster=getattr(args, "cluster", None),
        random_state=args.seed, run_dir=str(run_dir), checkpoint_every=args.checkpoint_every,
    )
    params.update(overrides)
    return SymbolicRegressor(**params)


def run_record(command: str, table: Table, dropna: bool, argv: list[str]) -> dict[str, Any]:
    """What ``cli.json`` records of a fresh run: the command, its data and columns, the version."""
    record = {"command": command, "data_path": str(table.path.resolve()),
              "target": table.target, "features": table.features, "weights": table.extra,
              "dropna": bool(dropna), "eurisko_version": __version__, "argv": list(argv),
              "started": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
    if table.more_targets:
        record["targets"] = table.targets
    return record


def _fresh_job(args: argparse.Namespace) -> Job:
    if args.data is None:
        raise UsageError("give the CSV file to fit, e.g. `eurisko fit data.csv --target y`, "
                         "or continue a run with --resume DIR")
    operators = _operators(args.operators)  # before the slow imports: fail fast on a typo
    loss = {}
    if args.loss is not None:
        from eurisko.evaluate.losses import get_loss

        get_loss(args.loss)  # unknown names: a ValueError that lists the known ones
        loss["loss"] = args.loss
    if args.loss_scale is not None:
        loss["loss_scale"] = args.loss_scale
    targets = args.target or [None]
    table = load_table(args.data, targets[0], args.features, args.weights, dropna=args.dropna,
                       more_targets=targets[1:])
    if args.out is not None:
        out = Path(args.out)
    else:
        out = Path("runs") / f"{table.path.stem}-{time.strftime('%Y%m%d-%H%M%S')}"
    if out.exists() and not out.is_dir():
        raise UsageError(f"--out {str(out)!r} is a file; give a directory for the results")
    if (out / "state.json").exists() or (out / "outputs.json").exists():
        print(f"note: {out} already holds a run; starting a new one there "
              f"(use --resume {out} to continue the old one instead)", file=sys.stderr)
    fit_params = units_of(args.units, table, args.constants)
    fit_params["guesses"] = args.guess
    if args.template is not None:
        loss["template"] = args.template
    model = new_model(args, out, operators=operators, max_depth=args.max_depth,
                      model_selection=args.model_selection or "auto", **loss)
    record = run_record("fit", table, args.dropna, args.argv)
    record.update(units=args.units, constants=args.constants)
    return Job(table, model, out, record, fit_params=fit_params)


def _resume_job(args: argparse.Namespace) -> Job:
    run_dir = Path(args.resume)
    if not (run_dir / "state.json").is_file() and not (run_dir / "outputs.json").is_file():
        raise UsageError(f"no checkpoint in {str(run_dir)!r} (expected {run_dir / 'state.json'}); "
                         "was the run started with --out?")
    if args.out is not None and Path(args.out).resolve() != run_dir.resolve():
        raise UsageError("--resume continues in its own directory; leave out --out "
                         "(or copy the run directory first)")
    if (args.operators is not None or args.max_size is not None
            or args.max_depth is not None or args.guess or args.template is not None):
        raise UsageError("a resumed search keeps its operators, max size, max depth, template "
                         "and populations (no --guess); start a new run with --out to change "
                         "them")
    saved = _read_cli_json(run_dir)
    data = args.data or saved.get("data_path")
    targets = args.target or saved.get("targets") or [saved.get("target")]
    target = targets[0]
    if args.target and saved.get("target") and (saved.get("targets") or len(args.target) > 1) \
            and list(args.target) != list(saved.get("targets") or [saved["target"]]):
        before = saved.get("targets") or [saved["target"]]
        raise UsageError(f"the run in {run_dir} was fitted on --target "
                         f"{' --target '.join(before)}; resume with the same target(s), or "
                         "start a new run with --out")
    if data is None or target is None:
        raise UsageError(f"{run_dir} does not say which data it was fitted on; give the data "
                         "file and --target again")
    features = args.features if args.features is not None else saved.get("features")
    weights = args.weights if args.weights is not None else saved.get("weights")
    dropna = args.dropna or bool(saved.get("dropna", False))
    table = load_table(data, target, features, weights, dropna=dropna, more_targets=targets[1:])
    if saved.get("features") and table.features != list(saved["features"]):
        raise UsageError(f"the run in {run_dir} was fitted on the columns "
                         f"{' '.join(saved['features'])}; resume with the same columns "
                         f"(--features {' '.join(saved['features'])}) or start a new run")
    from eurisko.regressor import SymbolicRegressor

    model = SymbolicRegressor.from_run(run_dir)
    if model.n_features_in_ != len(table.features):
        raise UsageError(f"the run in {run_dir} was fitted on {model.n_features_in_} feature(s) "
                         f"but {len(table.features)} were given ({', '.join(table.features)})")
    before = {"n_evals": int(model.n_evals_), "elapsed": float(model.elapsed_)}
    # The estimator's limits count the whole search, the runs before included; on the command
    # line --time-limit and --max-evals mean "this much more".
    time_limit = args.time_limit if args.time_limit is not None else 60.0
    params: dict[str, Any] = {
        "time_limit": before["elapsed"] + time_limit,
        "max_evals": (before["n_evals"] + args.max_evals) if args.max_evals else None,
        "warm_start": True, "run_dir": str(run_dir),
    }
    for name, value in (("n_jobs", args.n_jobs), ("cluster", getattr(args, "cluster", None)),
                        ("random_state", args.seed),
                        ("model_selection", args.model_selection),
                        ("loss_threshold", args.loss_threshold),
                        ("checkpoint_every", args.checkpoint_every)):
        if value is not None:
            params[name] = value
    model.set_params(**params)
    cli_args = dict(saved)
    cli_args.update({
        "data_path": str(table.path.resolve()), "target": table.target,
        "targets": table.targets, "features": table.features, "weights": table.extra,
        "dropna": dropna, "resumes": int(saved.get("resumes", 0)) + 1, "last_argv": list(args.argv),
    })
    cli_args.setdefault("command", "fit")
    fit_params = units_of(args.units or saved.get("units"), table,
                          args.constants or saved.get("constants"))
    return Job(table, model, run_dir, cli_args, extra_time=time_limit, resumed_from=before,
               fit_params=fit_params)


def run_job(job: Job, console: Console, what: str,
            choose: Callable[[SymbolicRegressor], int | None] | None = None,
            ) -> tuple[int, SymbolicRegressor]:
    """Fit with live progress, write the results, print the summary.

    ``choose(model)`` may return the front row to select instead of the estimator's pick.
    Returns the exit code and the fitted model.
    """
    from eurisko.report.front import front_rows, front_table, write_results

    t = job.table
    model = job.model
    _write_cli_json(job.out_dir, job.cli_args)
    dropped = f", {t.n_dropped} row(s) with missing values skipped" if t.n_dropped else ""
    if job.resumed_from:
        console.print(f"resuming {job.out_dir}: {job.resumed_from['n_evals']:,} evaluations in "
                      f"{job.resumed_from['elapsed']:.1f} s so far", markup=False)
    limit = f"{model.time_limit:g} s" if model.time_limit else "no time limit"
    if job.resumed_from:
        limit = f"{job.extra_time:g} s more"
    console.print(f"{what}: {', '.join(t.targets)} = f({', '.join(t.features)}) from {len(t.y)} "
                  f"rows of "
                  f"{t.path.name}{dropped}; {limit}; results in {job.out_dir}",
                  highlight=False, markup=False)
    view = ProgressView(console, model.time_limit)
    model.set_params(progress=view)
    with view:
        y = t.y
        if t.more_targets:  # one column per output, named
            y = t.frame[t.targets]
        elif job.fit_params:  # the target's name, for the dimensionless form it prints
            import pandas as pd

            y = pd.Series(t.y, name=t.target)
        model.fit(t.X, y, sample_weight=t.w, **job.fit_params)
    model.set_params(progress=None)
    interrupted = bool(getattr(model, "interrupted_", False))
    if interrupted:
        console.print("interrupted: keeping what was found", style="yellow")
    if getattr(model, "estimators_", None) is not None:
        _report_outputs(job, model, console)
        return (EXIT_INTERRUPTED if interrupted else EXIT_OK), model
    if choose is not None:
        row = choose(model)
        if row is not None:
            model.best_index_ = int(row)  # predict, sympy and the result files follow it
    extra = {"cli": {k: job.cli_args.get(k) for k in
                     ("data_path", "target", "features", "weights", "dropna")},
             "decomposition": getattr(model, "decomposition_", {})}
    paths = write_results(model, job.out_dir, extra=extra)
    best = int(model.best_index_)
    rows = front_rows(model)
    console.print(front_table(rows, selected=best, title="Pareto front (▶ selected)"))
    c, loss, r2, eq = rows[best]
    console.print(f"selected: {t.target} = {eq}", style="bold", highlight=False, markup=False)
    console.print(f"          complexity {c}, loss {loss:.4g}, r² {r2:.6f}; "
                  f"{model.n_evals_:,} evaluations in {model.elapsed_:.1f} s"
                  f"{_stopped_by(model)}", highlight=False)
    _print_decomposition(console, getattr(model, "decomposition_", {}))
    files = ", ".join(paths[k].name for k in ("json", "png", "py", "c") if k in paths)
    console.print(f"results: {paths['csv']}, {files}  "
                  f"(continue with: eurisko fit --resume {job.out_dir})",
                  highlight=False, markup=False, soft_wrap=True)
    return (EXIT_INTERRUPTED if interrupted else EXIT_OK), model


def _report_outputs(job: Job, model: SymbolicRegressor, console: Console) -> None:
    """A multi-target fit's results: each target's front and formulas in its sub-directory."""
    from eurisko._outputs import directories
    from eurisko.report.front import front_rows, front_table, write_results

    names = list(model.output_names_)
    for name, sub, est in zip(names, directories(names), model.estimators_, strict=True):
        extra = {"cli": {**{k: job.cli_args.get(k) for k in
                            ("data_path", "features", "weights", "dropna")}, "target": name},
                 "decomposition": getattr(est, "decomposition_", {})}
        paths = write_results(est, job.out_dir / sub, extra=extra)
        best = int(est.best_index_)
        rows = front_rows(est)
        console.print(front_table(rows, selected=best,
                                  title=f"{name}: Pareto front (▶ selected)"))
        c, loss, r2, eq = rows[best]
        console.print(f"selected: {name} = {eq}", style="bold", highlight=False, markup=False)
        console.print(f"          complexity {c}, loss {loss:.4g}, r² {r2:.6f}; "
                      f"{est.n_evals_:,} evaluations in {est.elapsed_:.1f} s{_stopped_by(est)}",
                      highlight=False)
        _print_decomposition(console, getattr(est, "decomposition_", {}))
        files = ", ".join(paths[k].name for k in ("json", "png", "py", "c") if k in paths)
        console.print(f"results:  {paths['csv']}, {files}", highlight=False, markup=False,
                      soft_wrap=True)
    console.print(f"{len(names)} targets, {model.n_evals_:,} evaluations in "
                  f"{model.elapsed_:.1f} s (continue with: eurisko fit --resume {job.out_dir})",
                  highlight=False, markup=False, soft_wrap=True)


def _print_decomposition(console: Console, d: dict[str, Any]) -> None:
    """One line per easier problem the fit tried, and which search found the selected law."""
    if d.get("note"):
        console.print(f"units:    no dimensionless form ({d['note']})", highlight=False,
                      markup=False, soft_wrap=True)
    for b in d.get("branches", []):
        if b.get("kind") == "dimensionless":
            console.print(f"units:    {b['problem']}: {b['n_evals']:,} evaluations in "
                          f"{b['seconds']:.1f} s, best loss {b['best_loss']:.4g}",
                          highlight=False, markup=False, soft_wrap=True)
        elif b.get("kind") in ("symmetry", "separation") and b.get("accepted"):
            what = b["accepted"] if isinstance(b["accepted"], str) else \
                ", ".join(b["accepted"])
            console.print(f"split:    {b['kind']} {what}: {b.get('n_evals', 0):,} evaluations "
                          f"in {b['seconds']:.1f} s, best loss "
                          f"{b.get('best_loss', float('inf')):.4g}",
                          highlight=False, markup=False, soft_wrap=True)
    if any(b.get("kind") == "dimensionless" or (b.get("kind") in ("symmetry", "separation")
                                                 and b.get("accepted"))
           for b in d.get("branches", [])):
        console.print(f"          the selected formula's accuracy came from the "
                      f"{d.get('found_by', 'plain')} search", highlight=False, markup=False)


def _stopped_by(model: SymbolicRegressor) -> str:
    reason = getattr(model, "stop_reason_", "")
    return f", stopped by the {reason} rule" if reason in ("exact fit", "loss threshold") else (
        f", stopped by the {reason}" if reason in ("time limit", "evaluation budget") else "")


def cmd_fit(args: argparse.Namespace) -> int:
    """Run ``eurisko fit`` (fresh or ``--resume``); returns the exit code."""
    fill_defaults(args)
    job = _resume_job(args) if args.resume else _fresh_job(args)
    code, _ = run_job(job, make_console(), "fit")
    return code
