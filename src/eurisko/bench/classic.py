"""The classic symbolic-regression benchmarks (Nguyen, Keijzer, Korns, Livermore, Jin, ...).

Definitions are DSO's ``benchmarks.csv`` and ``function_sets.csv`` (BSD-3-Clause, shipped in
``eurisko/bench/data/classic``): a formula over ``x1 .. xk`` with its own training and test
sampling specs, as JSON text such as ``{"all": {"U": [-1, 1, 20]}}`` or
``{"x1": {"E": [0.05, 10, 0.1]}, "x2": {"E": [0.05, 10.05, 2]}}``:

* ``U[a, b, n]``: n points drawn uniformly in [a, b], each variable independently;
* ``E[a, b, step]``: points evenly spaced from a to b by ``step`` (b included when it falls on
  the grid); a ``step`` larger than ``b - a`` means that many points, as DSO reads it
  (``E[-1, 1, 20]`` is 20 points). Several E variables form the full grid (outer product);
* ``all`` applies to every variable, a missing variable takes ``x1``'s spec (DSO's rule);
* a test spec of ``None`` means a fresh draw from the training spec (the same grid for E).

Points where the law is undefined (nan, inf, complex: ``sqrt`` or ``log`` of a negative) are
dropped; for ``U`` specs new points are drawn until there are n. Unlike DSO, targets of any
size are kept (DSO also drops |y| >= 100), so that the data follow the published ranges. The
``function_set`` of each problem is recorded for information; runners use their own operators.
"""

from __future__ import annotations

import csv
import functools
import itertools
import json
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

import numpy as np
import sympy as sp

from eurisko.bench.feynman import parse_formula
from eurisko.bench.problem import Problem, Split, make_split, problem_rng

DATA_DIR = Path(__file__).resolve().parent / "data" / "classic"
BENCHMARKS_CSV = "dso_benchmarks.csv"
FUNCTION_SETS_CSV = "dso_function_sets.csv"
MAX_DRAWS = 1000  # rounds of rejection sampling before a U spec is declared unsampleable

# DSO's formula text uses these names besides sin, cos, exp, log, sqrt, pi.
_EXTRA_FUNCTIONS = {"pow": sp.Pow, "div": lambda a, b: a / b, "abs": sp.Abs,
                    "harmonic": sp.harmonic}


@dataclass(frozen=True)
class Axis:
    """How one variable is sampled: ``U`` (low, high, n points) or ``E`` (start, stop, step)."""

    kind: str
    low: float
    high: float
    size: float  # n for U, step for E

    def grid(self) -> np.ndarray:
        """The evenly spaced points of an ``E`` axis."""
        if self.kind != "E":
            raise ValueError("only an E axis has a grid")
        span = self.high - self.low
        if self.size > span:  # DSO's reading of E[a, b, n] with n > b - a: n points
            return np.linspace(self.low, self.high, int(self.size))
        n = int(math.floor(span / self.size + 1e-9)) + 1
        return self.low + self.size * np.arange(n)

    @property
    def count(self) -> int:
        """Number of points this axis gives (before dropping undefined ones)."""
        return int(self.size) if self.kind == "U" else len(self.grid())


@dataclass(frozen=True)
class SamplingSpec:
    """A train or test spec: one `Axis` per variable, in column order."""

    axes: tuple[Axis, ...]
    text: str = field(default="", compare=False)

    @classmethod
    def parse(cls, text: str, n_variables: int) -> SamplingSpec | None:
        """Read DSO's JSON spec text (``None`` gives None). Never evaluates the text."""
        text = (text or "").strip()
        if text in ("", "None"):
            return None
        try:
            raw = json.loads(text)
        except ValueError as e:
            raise ValueError(f"sampling spec {text!r} is not JSON: {e}") from None
        if not isinstance(raw, dict) or not raw:
            raise ValueError(f"sampling spec {text!r} must map 'all' or 'x1'.. to a spec")
        axes = []
        for i in range(1, n_variables + 1):
            key = "all" if "all" in raw else (f"x{i}" if f"x{i}" in raw else "x1")
            if key not in raw:
                raise ValueError(f"sampling spec {text!r} says nothing about x{i} (nor x1, all)")
            entry = raw[key]
            if not isinstance(entry, dict) or len(entry) != 1:
                raise ValueError(f"sampling spec {text!r}: {key} needs one of U or E")
            (kind, args), = entry.items()
            if kind not in ("U", "E") or not isinstance(args, list) or len(args) != 3:
                raise ValueError(f"sampling spec {text!r}: {key} must be U[a,b,n] or "
                                 f"E[a,b,step], got {entry}")
            low, high, size = (float(a) for a in args)
            if not (high > low and size > 0):
                raise ValueError(f"sampling spec {text!r}: {key} needs a < b and a positive "
                                 "third number")
            if kind == "U" and size != int(size):
                raise ValueError(f"sampling spec {text!r}: U needs a whole number of points")
            axes.append(Axis(kind, low, high, size))
        kinds = {a.kind for a in axes}
        if len(kinds) > 1:
            raise ValueError(f"sampling spec {text!r} mixes U and E variables")
        return cls(tuple(axes), text)

    @property
    def kind(self) -> str:
        return self.axes[0].kind

    @property
    def size(self) -> int:
        """Rows this spec asks for: n for U, the grid's size for E."""
        if self.kind == "U":
            return int(self.axes[0].size)
        return int(np.prod([a.count for a in self.axes])) if len(self.axes) > 1 else \
            self.axes[0].count

    def draw(self, rng: np.random.Generator, law, max_draws: int = MAX_DRAWS):
        """Rows ``X`` (array) and ``y = law(X)`` where the law is defined."""
        if self.kind == "E":
            grids = [a.grid() for a in self.axes]
            X = (np.array(list(itertools.product(*grids)), dtype=np.float64)
                 if len(grids) > 1 else grids[0][:, None])
            y = law(X)
            keep = np.isfinite(y)
            if not keep.any():
                raise ValueError(f"the law is undefined on every point of {self.text}")
            return X[keep], y[keep]
        want, xs, ys = self.size, [], []
        have = 0
        for _ in range(max_draws):
            X = np.column_stack([rng.uniform(a.low, a.high, want) for a in self.axes])
            y = law(X)
            keep = np.isfinite(y)
            xs.append(X[keep])
            ys.append(y[keep])
            have += int(keep.sum())
            if have >= want:
                return np.vstack(xs)[:want], np.concatenate(ys)[:want]
        raise ValueError(f"could not draw {want} points where the law is defined from "
                         f"{self.text} ({have} after {max_draws} rounds)")

    def bounds(self) -> list[tuple[float, float]]:
        return [(a.low, a.high) for a in self.axes]


@dataclass(frozen=True)
class ClassicProblem(Problem):
    """One classic benchmark: formula over ``x1 .. xk`` with its own train and test specs.

    `split` ignores ``n``: the specs say how many rows (train and test sets are drawn
    separately, as the benchmark defines them, not split 75/25).
    """

    suite: ClassVar[str] = "classic"
    extra_modules: ClassVar[tuple[str, ...]] = ("scipy", "numpy")  # harmonic -> polygamma

    name: str  # "Nguyen-1"
    expression: str  # as written in the CSV
    formula: sp.Expr
    variables: tuple[str, ...]
    train_spec: SamplingSpec
    test_spec: SamplingSpec | None
    function_set_name: str = ""
    function_set: tuple[str, ...] = ()

    @property
    def family(self) -> str:
        """``nguyen``, ``keijzer``, ``korns``, ``livermore``, ``livermore2``, ``r`` (R1-R3),
        ... : the name up to its first ``-`` (or its trailing number), lower case."""
        return family_of(self.name)

    @property
    def ranges(self) -> dict[str, tuple[float, float]]:
        """The training spec's box (for the exact check's numeric screen)."""
        return dict(zip(self.variables, self.train_spec.bounds(), strict=True))

    def split(self, seed: int = 0, noise: float = 0.0, n: int | None = None) -> Split:
        """Train rows from the training spec (noisy target), test rows from the test spec."""
        import pandas as pd

        rng = problem_rng(self.name, seed)

        def law(X: np.ndarray) -> np.ndarray:
            return self.evaluate(X)

        X_train, y_train = self.train_spec.draw(rng, law)
        X_test, y_test = (self.test_spec or self.train_spec).draw(rng, law)
        cols = list(self.variables)
        return make_split(pd.DataFrame(X_train, columns=cols), y_train,
                           pd.DataFrame(X_test, columns=cols), y_test, noise, seed, rng)

    def describe(self) -> dict:
        return {**super().describe(), "train_spec": self.train_spec.text,
                "test_spec": self.test_spec.text if self.test_spec else None,
                "function_set": self.function_set_name}


def family_of(name: str) -> str:
    """The set a classic benchmark belongs to: ``Nguyen-12a`` -> ``nguyen``, ``R2a`` -> ``r``."""
    if "-" in name:
        return name.split("-")[0].lower()
    return re.sub(r"\d+[a-z]?$", "", name).lower() or name.lower()


@functools.lru_cache(maxsize=1)
def function_sets() -> dict[str, tuple[str, ...]]:
    """DSO's function sets by name (``Koza``: add, sub, mul, div, sin, cos, exp, log)."""
    with open(DATA_DIR / FUNCTION_SETS_CSV, encoding="utf-8", newline="") as fh:
        return {row["name"]: tuple(t.strip() for t in row["function_set"].split(","))
                for row in csv.DictReader(fh)}


def read_classic_row(row: dict[str, str]) -> ClassicProblem:
    """One CSV row (``name, variables, expression, train_spec, test_spec, function_set``)."""
    name = row["name"].strip()
    try:
        k = int(row["variables"])
    except ValueError:
        raise ValueError(f"{name}: 'variables' must be a count, got {row['variables']!r}") from None
    variables = tuple(f"x{i}" for i in range(1, k + 1))
    formula = parse_formula(row["expression"], variables, rational=True,
                            functions=_EXTRA_FUNCTIONS)
    train = SamplingSpec.parse(row["train_spec"], k)
    if train is None:
        raise ValueError(f"{name}: a training spec is required")
    fs_name = (row.get("function_set") or "").strip()
    return ClassicProblem(name=name, expression=row["expression"], formula=formula,
                          variables=variables, train_spec=train,
                          test_spec=SamplingSpec.parse(row["test_spec"], k),
                          function_set_name=fs_name,
                          function_set=function_sets().get(fs_name, ()))


@functools.lru_cache(maxsize=1)
def _load_all() -> tuple[ClassicProblem, ...]:
    with open(DATA_DIR / BENCHMARKS_CSV, encoding="utf-8", newline="") as fh:
        return tuple(read_classic_row(row) for row in csv.DictReader(fh))


def load_classic(family: str | None = None) -> list[ClassicProblem]:
    """All classic problems in file order, or one family (``"nguyen"``, ``"korns"``, ...)."""
    problems = list(_load_all())
    if family is None:
        return problems
    chosen = [p for p in problems if p.family == family.lower()]
    if not chosen:
        raise ValueError(f"no classic benchmark family {family!r}; known: "
                         f"{', '.join(classic_families())}")
    return chosen


def classic_families() -> list[str]:
    """The family names, in file order."""
    return list(dict.fromkeys(p.family for p in _load_all()))
