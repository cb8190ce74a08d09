"""``eurisko ode``: discover the differential equations dx/dt = f(x) behind trajectories in a CSV.

    eurisko ode trajectory.csv --time t [--states x y z] [--trajectory run] [--out runs/lorenz]

The CSV has a time column and one column per state (and, for several trajectories, a column
that labels them; the rows of one label are one trajectory, in time order). The states' column
names become the variable names of the equations. Results go to ``--out``, each file written
atomically: ``equations.txt``, ``model.json`` (equations, settings, scores) and
``simulation.png`` (data against a simulation of the discovered system from the first sample).

Exit codes: 0 when the equations were found and written; 2 for a problem with the CSV or the
options (one line ``error: ...`` on stderr); 1 when the discovery itself failed.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from eurisko.cli._common import (
    EXIT_OK,
    ODE_COLUMNS,
    Table,
    UsageError,
    load_table,
    make_console,
    number_option,
)
from eurisko.version import __version__

if TYPE_CHECKING:
    import numpy as np
    from rich.console import Console

    from eurisko.dynamics import ODEModel


def register(sub: Any) -> None:
    """Add the ``ode`` sub-command to ``sub`` (argparse sub-parsers)."""
    p = sub.add_parser(
        "ode", help="discover differential equations dx/dt = f(x) in trajectories (CSV)",
        description="Find the system of ODEs behind sampled trajectories: derivatives from the "
                    "data, sparse regression over polynomial (and your) terms, symbolic "
                    "regression where those fall short. Writes equations.txt, model.json and "
                    "simulation.png to --out.",
        epilog="Example: eurisko ode trajectory.csv --time t --out runs/lorenz\n"
               "         eurisko ode runs.csv --time t --trajectory run --terms 'sin(x)'",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("data", help="CSV file with a header line: a time column and state columns")
    p.add_argument("--time", required=True, metavar="COL", help="the time column")
    p.add_argument("--states", nargs="+", metavar="COL",
                   help="state columns (default: every other column)")
    p.add_argument("--trajectory", metavar="COL",
                   help="column labelling separate trajectories (rows of one label are one run)")
    p.add_argument("--degree", type=number_option(int, "--degree"), default=3, metavar="N",
                   help="highest degree of polynomial terms (default 3)")
    p.add_argument("--terms", nargs="+", metavar="FORMULA",
                   help="extra candidate terms, e.g. 'sin(x)' 'x/(1+y)'")
    p.add_argument("--differentiator", default="auto",
                   choices=("auto", "fd", "savgol", "spline", "tikhonov"),
                   help="how to estimate derivatives (default: auto, chosen from the noise)")
    p.add_argument("--formulation", default="auto", choices=("auto", "weak", "derivative"),
                   help="weak (integral) or pointwise derivative regression (default auto)")
    p.add_argument("--symbolic", default="auto", choices=("auto", "on", "off"),
                   help="symbolic regression for equations the library cannot explain "
                        "(default auto: only when the sparse fit is poor)")
    p.add_argument("--symbolic-evals", type=number_option(int, "--symbolic-evals"),
                   default=200_000, metavar="N",
                   help="formula evaluations per symbolic search (default 200000; reproducible)")
    p.add_argument("--symbolic-time", type=number_option(float, "--symbolic-time"), default=None,
                   metavar="SECONDS", help="optional wall-clock cap per symbolic search")
    p.add_argument("--seed", type=int, default=0, metavar="S", help="random seed (default 0)")
    p.add_argument("--out", metavar="DIR",
                   help="directory for the results (default runs/<file name>-ode-<time>)")
    p.set_defaults(func=cmd_ode)


def trajectories(table: Table) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Time vectors and state arrays of each trajectory in a table read with `ODE_COLUMNS`:
    one per label of the trajectory column, in order of first appearance (one without it)."""
    frame = table.frame
    groups = ([g for _, g in frame.groupby(table.extra, sort=False)] if table.extra
              else [frame])
    ts = [g[table.target].to_numpy(dtype="float64") for g in groups]
    Xs = [g[table.features].to_numpy(dtype="float64") for g in groups]
    return ts, Xs


def cmd_ode(args: argparse.Namespace) -> int:
    """Run ``eurisko ode``; returns the exit code."""
    from eurisko.dynamics import check_state_names

    table = load_table(args.data, args.time, args.states, args.trajectory, columns=ODE_COLUMNS)
    states = table.features
    try:
        check_state_names(states)
    except ValueError as exc:
        raise UsageError(f"{exc} (rename the column in the CSV)") from None
    ts, Xs = trajectories(table)
    out = Path(args.out) if args.out else \
        Path("runs") / f"{Path(args.data).stem}-ode-{time.strftime('%Y%m%d-%H%M%S')}"
    if out.exists() and not out.is_dir():
        raise UsageError(f"--out {str(out)!r} is a file; give a directory for the results")
    console = make_console()
    n = sum(len(t) for t in ts)
    console.print(f"ode: d/dt of {', '.join(states)} from {n} samples in {len(ts)} "
                  f"trajectory(ies) of {Path(args.data).name}; results in {out}",
                  markup=False, highlight=False)
    model = discover(ts, Xs, states, args)
    report(model, ts, Xs, out, console, {
        "command": "ode", "data_path": str(Path(args.data).resolve()), "time": args.time,
        "states": states, "trajectory": args.trajectory, "argv": list(getattr(args, "argv", [])),
    })
    return EXIT_OK


def discover(ts: list[np.ndarray], Xs: list[np.ndarray], states: list[str],
             args: argparse.Namespace) -> ODEModel:
    """`discover_ode` with the options in ``args`` (defaults for those it lacks)."""
    from eurisko.dynamics import discover_ode

    symbolic = {"auto": "auto", "on": True, "off": False}[getattr(args, "symbolic", "auto")]
    return discover_ode(
        ts if len(ts) > 1 else ts[0], Xs if len(Xs) > 1 else Xs[0], names=states,
        degree=getattr(args, "degree", 3), terms=getattr(args, "terms", None),
        differentiator=getattr(args, "differentiator", "auto"),
        formulation=getattr(args, "formulation", "auto"), symbolic=symbolic,
        symbolic_time=getattr(args, "symbolic_time", None),
        symbolic_evals=getattr(args, "symbolic_evals", 200_000),
        random_state=getattr(args, "seed", 0))


def report(model: ODEModel, ts: list[np.ndarray], Xs: list[np.ndarray], out: Path,
           console: Console, cli: dict[str, Any]) -> dict[str, Any]:
    """Print the equations and scores; write equations.txt, model.json, simulation.png."""
    import warnings

    from eurisko.atomic import atomic_write_bytes
    from eurisko.report.front import atomic_write_json

    console.print("discovered:", style="bold")
    for line, src in zip(model.equation_strings(), model.sources, strict=True):
        console.print(f"  {line}" + ("   [symbolic regression]" if src == "symbolic" else ""),
                      markup=False, highlight=False, soft_wrap=True)
    t0, X0 = ts[0], Xs[0]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sim = model.simulate_result(X0[0], t0, time_limit=10.0)
        r2 = model.score(ts if len(ts) > 1 else t0, Xs if len(Xs) > 1 else X0)
    from eurisko.dynamics.model import valid_time

    vpt = valid_time(t0, X0, sim.x)
    info = model.info
    console.print(f"derivatives: {info['differentiator']}; formulation: {info['formulation']}; "
                  f"noise ≈ {100 * max(info['noise']):.2g}% of the spread; "
                  f"{info['seconds']:.1f} s", markup=False, highlight=False, soft_wrap=True)
    console.print(f"derivative R² {r2:.6f}; a simulation from the first sample follows the data "
                  f"for {vpt:.4g} of {t0[-1] - t0[0]:.4g} time units"
                  + ("" if sim.ok else f" ({sim.message})"), markup=False, highlight=False,
                  soft_wrap=True)
    out.mkdir(parents=True, exist_ok=True)
    text = "\n".join(model.equation_strings()) + "\n"
    atomic_write_bytes(out / "equations.txt", text.encode("utf-8"))
    result = {"model": model.to_dict(), "derivative_r2": r2, "valid_prediction_time": vpt,
              "simulation_status": sim.status, "simulation_message": sim.message,
              "eurisko_version": __version__, "cli": cli,
              "finished": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
    atomic_write_json(out / "model.json", result)
    atomic_write_bytes(out / "simulation.png", _png(model.names, t0, X0, sim.x))
    console.print(f"results: {out / 'equations.txt'}, model.json, simulation.png",
                  markup=False, highlight=False, soft_wrap=True)
    return result


def _png(names: list[str], t: np.ndarray, X: np.ndarray, Xsim: np.ndarray) -> bytes:
    import io

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    d = len(names)
    fig, axes = plt.subplots(d, 1, figsize=(8, 1.8 * d + 0.6), sharex=True, squeeze=False)
    for j, ax in enumerate(axes[:, 0]):
        ax.plot(t, X[:, j], ".", ms=2, color="0.45", label="data")
        ax.plot(t, Xsim[:, j], "-", lw=1.2, color="tab:red", label="discovered model")
        ax.set_ylabel(names[j])
    axes[0, 0].legend(loc="upper right", fontsize=8)
    axes[-1, 0].set_xlabel("time")
    fig.suptitle("data vs. simulation of the discovered system from the first sample",
                 fontsize=10)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110)
    plt.close(fig)
    return buf.getvalue()
