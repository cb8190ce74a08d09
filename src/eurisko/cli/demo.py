"""``eurisko demo``: rediscover a known law from built-in data, and check it.

    eurisko demo [kepler] [--time-limit 15] [--out runs/demo]
    eurisko demo ode [--out runs/demo-ode]

``kepler`` (the default) runs a short search for the orbital period of 8 planets and 5 dwarf
planets from their semi-major axis (their mass is in the table as a distractor), selects the
simplest formula whose error is essentially zero, and compares it with Kepler's third law
T² ∝ a³. ``ode`` finds the equations behind 2000 noisy samples of the Lorenz attractor and
compares them with Lorenz's. Results are written as by ``eurisko fit`` and ``eurisko ode``.

Exit codes: 0 when the demo ran to its end (also when the law found is not the known one, which
it says); 130 when Ctrl-C stopped the search early (results kept); 2 for bad options.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING, Any

from eurisko.cli._common import ODE_COLUMNS, Table, load_table, make_console
from eurisko.cli.fit import Job, add_search_options, fill_defaults, new_model, run_job, run_record
from eurisko.cli.ode import discover, report, trajectories

if TYPE_CHECKING:
    from rich.console import Console

    from eurisko.dynamics import ODEModel
    from eurisko.regressor import SymbolicRegressor

DEMO_OPERATORS = ("add", "sub", "mul", "div", "sqrt", "square")
DEMO_FEATURES = ("semi_major_axis_au", "mass_earths")
DEMO_TARGET = "period_years"
LORENZ_TRUTH = ("dx/dt = 10*(y - x)", "dy/dt = x*(28 - z) - y", "dz/dt = x*y - 8/3*z")


def register(sub: Any) -> None:
    """Add the ``demo`` sub-command to ``sub`` (argparse sub-parsers)."""
    demo = sub.add_parser(
        "demo", help="rediscover Kepler's third law from planetary data",
        description="Run a short search on the built-in Kepler data (period from semi-major "
                    "axis, with mass as a distractor) and compare the result with T² ∝ a³.")
    demo.add_argument("example", nargs="?", choices=("kepler", "ode"), default="kepler",
                      help="kepler (default): Kepler's third law; ode: the Lorenz equations "
                           "from a noisy trajectory")
    add_search_options(demo, demo=True)
    demo.set_defaults(func=cmd_demo, operators=None, max_size=None)


def cmd_demo(args: argparse.Namespace) -> int:
    """Run ``eurisko demo`` (Kepler) or ``eurisko demo ode``; returns the exit code."""
    if getattr(args, "example", "kepler") == "ode":
        return _demo_ode(args)
    import numpy as np

    from eurisko.data import data_path

    fill_defaults(args)
    console = make_console()
    out = Path(args.out or Path("runs") / "demo")
    table = load_table(data_path("kepler"), DEMO_TARGET, list(DEMO_FEATURES))
    # "Essentially zero": less than a millionth of the variance of the periods unexplained.
    threshold = args.loss_threshold or 1e-6 * float(np.var(table.y))
    # One process by default: on 13 rows the law is found before worker processes would
    # have finished starting.
    model = new_model(args, out, operators=list(DEMO_OPERATORS), max_size=20,
                      loss_threshold=threshold, n_jobs=args.n_jobs or 1)
    console.print("[bold]eurisko demo[/]: Kepler's third law from the orbits of 8 planets and 5 "
                  "dwarf planets.\nWhich formula gives the orbital period from the semi-major "
                  "axis? The masses are in the table too, as a distractor.", soft_wrap=True)

    def simplest_exact(model: SymbolicRegressor) -> int | None:
        # Real measurements carry rounding: once the error is essentially zero, a few more
        # constants only fit that noise. Select the simplest formula below the threshold.
        hits = np.flatnonzero(model.pareto_front_["loss"].to_numpy() <= threshold)
        return int(hits[0]) if hits.size else None

    job = Job(table, model, out, run_record("demo", table, False, args.argv))
    code, model = run_job(job, console, "demo", simplest_exact)
    _compare_with_kepler(model, table, console)
    return code


def _compare_with_kepler(model: SymbolicRegressor, table: Table, console: Console) -> None:
    import numpy as np

    a = table.X["semi_major_axis_au"].to_numpy()
    pred = np.asarray(model.predict(table.X), dtype=np.float64)
    eq = str(model.pareto_front_["equation"].iloc[model.best_index_])
    try:
        tidy = str(model.sympy(precision=4))
    except (ValueError, TypeError, NotImplementedError):
        tidy = eq
    same = tidy.replace(" ", "") == eq.replace(" ", "")
    console.print()
    console.print(f"discovered:     period_years = {eq}" + ("" if same else f"  =  {tidy}"),
                  style="bold", markup=False, soft_wrap=True)
    console.print("Kepler (1619):  T² ∝ a³, i.e. period_years = semi_major_axis_au**(3/2) "
                  "(years and AU)", soft_wrap=True)
    if not (np.isfinite(pred).all() and (pred > 0).all()):
        console.print("check:          the formula found is not positive on every body; "
                      "run longer (--time-limit) to get closer to the law", soft_wrap=True)
        return
    slope = float(np.polyfit(np.log(a), np.log(pred), 1)[0])
    worst = float(np.max(np.abs(pred / table.y - 1.0)))
    gap = float(np.max(np.abs(pred / a**1.5 - 1.0)))
    uses_mass = "mass_earths" in eq
    agrees = abs(slope - 1.5) < 0.01 and gap < 0.01 and not uses_mass
    kepler = "it is a^1.5 exactly" if gap < 1e-9 else f"it is within {100 * gap:.2g}% of a^1.5"
    console.print(f"check:          on the {len(a)} bodies it grows as a^{slope:.4f}, {kepler}, "
                  f"it matches every measured period within {100 * worst:.2g}%, and it "
                  f"{'uses' if uses_mass else 'ignores'} the masses", soft_wrap=True)
    console.print("                " + ("Kepler's law, rediscovered." if agrees else
                                        "Not Kepler's law yet: run longer with --time-limit."),
                  style="bold green" if agrees else "yellow", soft_wrap=True)


def _demo_ode(args: argparse.Namespace) -> int:
    """The Lorenz equations from a built-in trajectory with 1% noise."""
    from importlib import resources

    console = make_console()
    path = Path(str(resources.files("eurisko.data").joinpath("lorenz.csv")))
    out = Path(args.out or Path("runs") / "demo-ode")
    console.print("[bold]eurisko demo ode[/]: which equations drive this motion? 2000 noisy "
                  "samples (1% noise) of the Lorenz attractor, nothing else.", soft_wrap=True)
    table = load_table(path, "t", columns=ODE_COLUMNS)
    ts, Xs = trajectories(table)
    seed = args.seed if getattr(args, "seed", None) is not None else 0
    model = discover(ts, Xs, table.features, argparse.Namespace(seed=seed))
    report(model, ts, Xs, out, console, {"command": "demo ode", "data_path": str(path),
                                         "argv": list(getattr(args, "argv", []))})
    console.print("Lorenz (1963): " + ";  ".join(LORENZ_TRUTH), markup=False, highlight=False,
                  soft_wrap=True)
    same = _matches_lorenz(model)
    console.print("Lorenz's equations, rediscovered." if same else
                  "Not exactly Lorenz's equations: see the terms above.",
                  style="bold green" if same else "yellow")
    return 0


def _matches_lorenz(model: ODEModel) -> bool:
    """Same terms as Lorenz's system and every coefficient within 2%."""
    import sympy as sp

    x, y, z = (sp.Symbol(n, real=True) for n in "xyz")
    truth = [10 * (y - x), x * (28 - z) - y, x * y - sp.Rational(8, 3) * z]
    for got, want in zip(model.rhs_exprs(rounded=False), truth, strict=True):
        g = sp.Poly(sp.expand(got), x, y, z).as_dict()
        w = sp.Poly(sp.expand(want), x, y, z).as_dict()
        if set(g) != set(w):
            return False
        if any(abs(float(g[k]) - float(w[k])) > 0.02 * abs(float(w[k])) for k in w):
            return False
    return True
