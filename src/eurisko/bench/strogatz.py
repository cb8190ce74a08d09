"""The Strogatz ODE problems: recover dx/dt = f(x, y) from states along simulated trajectories.

The 14 targets are one state each of seven two-state systems (bacterial respiration, bar
magnets, glider, Lotka-Volterra competition, predator-prey, shear flow, Van der Pol), as in
SRBench's ground-truth track. Their definitions are PMLB's metadata files (MIT, shipped in
``eurisko/bench/data/strogatz``); PMLB's data were made with Simulink and are not used.
eurisko makes its own: both equations of a system are integrated with ``scipy.integrate
.solve_ivp`` from the initial conditions in ``data/strogatz/simulation.yaml`` and the target of
each row is the right-hand side at the simulated state (the exact derivative along the
trajectory, which a finite difference of the trajectory reproduces).
"""

from __future__ import annotations

import functools
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import sympy as sp

from eurisko.bench.feynman import parse_formula, read_pmlb_metadata
from eurisko.bench.problem import Problem

DATA_DIR = Path(__file__).resolve().parent / "data" / "strogatz"
VARIABLES = ("x", "y")
_EQUATION_LINE = re.compile(r"^\s*([xy])'\s*=\s*(\S.*?)\s*$")
_EXTRA_FUNCTIONS = {"cot": sp.cot}


@dataclass(frozen=True)
class Trajectories:
    """Simulated states of one system: ``states[k]`` is trajectory k, shape (points, 2)."""

    system: str
    times: np.ndarray  # (points,)
    states: tuple[np.ndarray, ...]
    initial: tuple[tuple[float, float], ...]


@dataclass(frozen=True)
class StrogatzProblem(Problem):
    """One state of a Strogatz system: ``d(state)/dt = formula(x, y)``.

    `split` uses every simulated row (4 trajectories x 100 points by default; ``n`` rows in all
    when given), 75 % to train and 25 % to test, chosen at random for each seed.
    """

    suite: ClassVar[str] = "strogatz"

    name: str  # "lv1"
    dataset: str  # "strogatz_lv1"
    system: str  # "lv"
    state: str  # "x": this problem's target is dx/dt
    formula: sp.Expr
    variables: tuple[str, ...] = VARIABLES
    path: Path | None = field(default=None, compare=False)

    @property
    def family(self) -> str:
        """The system: ``bacres``, ``barmag``, ``glider``, ``lv``, ``predprey``, ..."""
        return self.system

    @property
    def ranges(self) -> dict[str, tuple[float, float]]:
        """Where the simulated states lie (for the exact check's numeric screen)."""
        states = np.vstack(simulate(self.system).states)
        return {v: (float(states[:, j].min()), float(states[:, j].max()))
                for j, v in enumerate(self.variables)}

    def _rows(self, n: int | None, rng: np.random.Generator):
        import pandas as pd

        spec = simulation_spec()
        n_traj = len(spec["systems"][self.system]["initial"])
        points = None if n is None else max(2, -(-int(n) // n_traj))
        traj = simulate(self.system, points)
        states = np.vstack(traj.states)
        if n is not None:
            states = states[:int(n)]
        X = pd.DataFrame({v: states[:, j] for j, v in enumerate(self.variables)})
        return X, self.evaluate(X)


@functools.lru_cache(maxsize=1)
def simulation_spec() -> dict[str, Any]:
    """The simulation settings in ``data/strogatz/simulation.yaml``, checked."""
    import yaml

    with open(DATA_DIR / "simulation.yaml", encoding="utf-8") as fh:
        spec = yaml.safe_load(fh)
    for name, s in spec["systems"].items():
        if not (float(s["t_end"]) > 0 and all(len(ic) == 2 for ic in s["initial"])):
            raise ValueError(f"simulation.yaml: system {name} needs t_end > 0 and [x0, y0] pairs")
    return spec


@functools.lru_cache(maxsize=64)
def simulate(system: str, points: int | None = None) -> Trajectories:
    """Integrate both equations of ``system`` from each initial condition (cached)."""
    from scipy.integrate import solve_ivp

    spec = simulation_spec()
    if system not in spec["systems"]:
        raise ValueError(f"unknown Strogatz system {system!r}; known: "
                         f"{', '.join(sorted(spec['systems']))}")
    settings = spec["systems"][system]
    points = int(points or spec["points"])
    rhs = system_rhs(system)
    t_end = float(settings["t_end"])
    times = np.linspace(0.0, t_end, points)
    states = []
    for x0, y0 in settings["initial"]:
        sol = solve_ivp(lambda t, u: rhs(u[0], u[1]), (0.0, t_end), [float(x0), float(y0)],
                        t_eval=times, method=spec.get("method", "LSODA"),
                        rtol=float(spec.get("rtol", 1e-10)), atol=float(spec.get("atol", 1e-12)))
        if sol.status != 0 or not np.all(np.isfinite(sol.y)):
            raise RuntimeError(f"simulating {system} from ({x0}, {y0}) failed: {sol.message}")
        states.append(sol.y.T.copy())
    initial = tuple((float(a), float(b)) for a, b in settings["initial"])
    return Trajectories(system=system, times=times, states=tuple(states), initial=initial)


def system_rhs(system: str):
    """``f(x, y) -> (dx/dt, dy/dt)`` for a system, from its two problems' formulas."""
    by_state = {p.state: p for p in load_strogatz() if p.system == system}
    if set(by_state) != set(VARIABLES):
        raise ValueError(f"Strogatz system {system!r} needs both an x' and a y' equation")
    fx = sp.lambdify(by_state["x"].symbols, by_state["x"].formula, modules="numpy")
    fy = sp.lambdify(by_state["y"].symbols, by_state["y"].formula, modules="numpy")
    return lambda x, y: (fx(x, y), fy(x, y))


def read_strogatz(path: str | os.PathLike) -> StrogatzProblem:
    """Parse one PMLB metadata file (``strogatz_lv1.yaml``): its ``x' = ...`` line."""
    path = Path(path)
    meta, dataset = read_pmlb_metadata(path)
    for line in str(meta["description"]).splitlines():
        if (m := _EQUATION_LINE.match(line)):
            formula = parse_formula(m.group(2), VARIABLES, rational=True,
                                    functions=_EXTRA_FUNCTIONS)
            name = dataset.removeprefix("strogatz_")
            return StrogatzProblem(name=name, dataset=dataset, system=name.rstrip("12"),
                                   state=m.group(1), formula=formula, path=path)
    raise ValueError(f"{path}: no \"x' = ...\" or \"y' = ...\" line in the description")


@functools.lru_cache(maxsize=1)
def _load_all() -> tuple[StrogatzProblem, ...]:
    return tuple(read_strogatz(p) for p in sorted(DATA_DIR.glob("strogatz_*.yaml")))


def load_strogatz() -> list[StrogatzProblem]:
    """The 14 Strogatz problems, sorted by name (``bacres1`` .. ``vdp2``)."""
    problems = list(_load_all())
    if not problems:
        raise FileNotFoundError(f"no strogatz_*.yaml files in {DATA_DIR}")
    return problems
