"""What every benchmark problem shares: a true law, its variables, and data made for one run.

A problem (Feynman equation, Strogatz ODE state, classic formula) knows its law as a SymPy
expression over named variables and how to make a train/test split for a seed and a noise level,
following SRBench (La Cava et al. 2021):

* rows are drawn the problem's own way (uniform ranges, ODE trajectories, a train/test spec);
  where there is one pool of rows, 25 % of it, chosen at random, is the test set;
* Gaussian noise of standard deviation ``noise * RMS(y_train)`` is added to the training
  target only; the test target stays exact, so test R^2 measures the law, not the noise;
* each (problem, seed) gets its own stream of random numbers (the seed and a checksum of the
  problem's name), so two problems with the same ranges do not get the same rows.
"""

from __future__ import annotations

import functools
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import sympy as sp

from eurisko.validation import check_int, check_number

NOISE_HINT = "a noise level is a fraction of RMS(y), e.g. 0.01"

TEST_FRACTION = 0.25


@dataclass(frozen=True)
class Split:
    """One run's data: training rows (noisy target) and test rows (exact target)."""

    X_train: Any  # pandas.DataFrame, columns named as the problem's variables
    y_train: np.ndarray
    X_test: Any
    y_test: np.ndarray
    y_train_clean: np.ndarray
    noise: float
    seed: int


def rms(y: np.ndarray) -> float:
    """Root mean square: the scale SRBench measures noise against."""
    y = np.asarray(y, dtype=np.float64)
    return float(np.sqrt(np.mean(y**2))) if y.size else 0.0


def add_noise(y: np.ndarray, level: float, rng: np.random.Generator) -> np.ndarray:
    """``y`` plus Gaussian noise of standard deviation ``level * RMS(y)`` (SRBench's rule)."""
    level = check_number(level, "noise", low=0, hint=NOISE_HINT)
    y = np.asarray(y, dtype=np.float64)
    if level == 0:
        return y.copy()
    return y + rng.normal(0.0, level * rms(y), y.shape)


def problem_rng(name: str, seed: int) -> np.random.Generator:
    """The random stream of one (problem, seed): independent across problems and seeds."""
    seed = check_int(seed, "seed", low=0)
    return np.random.default_rng([seed, zlib.crc32(name.encode("utf-8"))])


class Problem:
    """Base of the benchmark problems: a law ``formula(variables)`` and the data it makes.

    Subclasses (dataclasses) hold ``name``, ``formula`` (SymPy, exact rationals), ``variables``
    (column order) and ``ranges`` (``{variable: (low, high)}``, where the exact-recovery check
    samples), and implement `_rows` (or override `split`).
    """

    suite: ClassVar[str] = ""
    extra_modules: ClassVar[tuple[str, ...]] = ("numpy",)

    @property
    def family(self) -> str:
        """The group a problem belongs to within its suite (``nguyen``, ``lv``, ``I``)."""
        return self.suite

    @property
    def symbols(self) -> list[sp.Symbol]:
        """The formula's Symbols in column order (a variable it ignores gets a fresh one)."""
        by_name = {s.name: s for s in self.formula.free_symbols}
        return [by_name.get(v, sp.Symbol(v, real=True)) for v in self.variables]

    def evaluate(self, X) -> np.ndarray:
        """The law on a table whose columns are the variables (DataFrame or array)."""
        cols = [np.asarray(X[v] if hasattr(X, "columns") else X[:, j], dtype=np.float64)
                for j, v in enumerate(self.variables)]
        f = _lambdified(self.formula, tuple(self.symbols), self.extra_modules)
        with np.errstate(all="ignore"):
            y = np.asarray(f(*cols))
        if np.iscomplexobj(y):  # a real law has no complex values: mark them undefined
            y = np.where(np.abs(y.imag) > 0, np.nan, y.real)
        y = y.astype(np.float64)
        return np.broadcast_to(y, cols[0].shape).copy() if cols else y

    def _rows(self, n: int | None, rng: np.random.Generator):
        """One pool of rows ``(X DataFrame, y)`` to split 75/25."""
        raise NotImplementedError

    def split(self, seed: int = 0, noise: float = 0.0, n: int | None = None) -> Split:
        """Train/test data for one run: rows the problem's way, 25 % held out for testing,
        noise on the training target only. ``n`` is the number of rows before the split
        (each suite has its default)."""
        n = check_int(n, "n", low=4, none_ok=True, what="rows")
        rng = problem_rng(self.name, seed)
        X, y = self._rows(n, rng)
        order = rng.permutation(len(y))
        n_test = max(1, int(round(TEST_FRACTION * len(y))))
        test, train = order[:n_test], order[n_test:]
        return make_split(X.iloc[train].reset_index(drop=True), y[train],
                           X.iloc[test].reset_index(drop=True), y[test], noise, seed, rng)

    def describe(self) -> dict[str, Any]:
        """What a results file records about the problem."""
        return {"suite": self.suite, "problem": self.name, "family": self.family,
                "truth": str(self.formula), "variables": list(self.variables)}


@functools.lru_cache(maxsize=512)
def _lambdified(formula: sp.Expr, symbols: tuple[sp.Symbol, ...], modules: tuple[str, ...]):
    """The law as a numpy function, made once per formula (lambdify is slow)."""
    return sp.lambdify(list(symbols), formula, modules=list(modules))


def make_split(X_train, y_train, X_test, y_test, noise: float, seed: int,
                rng: np.random.Generator) -> Split:
    """A train/test split with noise added to the training target (the clean one is kept)."""
    y_train = np.asarray(y_train, dtype=np.float64)
    return Split(X_train=X_train, y_train=add_noise(y_train, noise, rng), X_test=X_test,
                 y_test=np.asarray(y_test, dtype=np.float64), y_train_clean=y_train,
                 noise=float(noise), seed=int(seed))


def finite_rows(X, y: np.ndarray):
    """Drop the rows where the law is undefined (nan, inf): the data a method can learn from."""
    keep = np.isfinite(y)
    if keep.all():
        return X, y
    return X.loc[keep].reset_index(drop=True), y[keep]


def bounds_of(X, variables: Mapping[str, Any] | list[str]) -> dict[str, tuple[float, float]]:
    """``{variable: (min, max)}`` of a table, for the exact check's numeric screen."""
    return {v: (float(np.min(X[v])), float(np.max(X[v]))) for v in variables}
