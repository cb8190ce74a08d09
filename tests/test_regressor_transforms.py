"""Output transforms: a law whose formula is big but small for sin, square, log or 1/x of its
target is found by walking the transformed targets of a dimensionless problem."""

from __future__ import annotations

import numpy as np
import pandas as pd
import sympy as sp

from eurisko import SymbolicRegressor
from eurisko._branches import _write_back_operators, inverted, output_transforms
from eurisko.evaluate.reference import eval_program
from eurisko.expr.parser import parse
from eurisko.expr.printing import to_string

# the walk gets a fifth of its branch's share of the evaluations: the budgets below give it
# room to reach the laws' sizes; the plain search stops early on the exact guess
FAST = dict(max_evals=10_000_000, time_limit=None, n_jobs=1, random_state=0)


def _dimensionless(model: SymbolicRegressor) -> dict:
    """The first dimensionless problem's record (translation and separation tests run first)."""
    return next(b for b in model.decomposition_["branches"] if b["kind"] == "dimensionless")


def test_a_law_that_needs_asin_is_found_through_sin():
    # theta = asin(lambd/(n*d)): asin is not among the search's operators, sin(theta) is small
    rng = np.random.default_rng(0)
    n = 300
    df = pd.DataFrame({"lambd": rng.uniform(1, 2, n), "n": rng.uniform(2, 5, n),
                       "d": rng.uniform(2, 5, n)})
    theta = np.arcsin(df["lambd"] / (df["n"] * df["d"]))
    m = SymbolicRegressor(**FAST).fit(
        df, theta, X_units={"lambd": "m", "n": "", "d": "m"}, y_units="")
    lambd, n_, d = sp.symbols("lambd n d", real=True)
    assert sp.simplify(m.sympy(real=True) - sp.asin(lambd / (n_ * d))) == 0, m.sympy(real=True)
    assert "asin" in str(m.sympy(real=True))
    first = _dimensionless(m)
    assert first["transform"] == "sin" and first["enumeration"]["transforms"]["sin"] >= 1
    assert first["enumeration"]["transforms"]["identity"] == 0
    assert m.decomposition_["found_by"] == "dimensionless" and m.stop_reason_ == "exact fit"


def test_the_law_of_cosines_is_found_through_its_square():
    # r/x2 = sqrt(g^2 + 1 - 2*g*cos(theta)) is 11 nodes; its square, 8 with the scaling
    rng = np.random.default_rng(0)
    n = 300
    df = pd.DataFrame({"x1": rng.uniform(1, 3, n), "x2": rng.uniform(1, 3, n),
                       "theta": rng.uniform(0, 3, n)})
    r = np.sqrt(df.x1**2 + df.x2**2 - 2 * df.x1 * df.x2 * np.cos(df.theta))
    m = SymbolicRegressor(**FAST).fit(df, r, X_units={"x1": "m", "x2": "m", "theta": ""},
                                      y_units="m")
    np.testing.assert_allclose(m.predict(df), r, rtol=1e-12)
    first = _dimensionless(m)
    assert first["transform"] == "square"
    assert first["enumeration"]["skipped"] == {"sin": "|t| > pi/2 on some rows"}
    x1, x2, th = sp.symbols("x1 x2 theta", positive=True)
    got = m.sympy().subs({s: sp.Symbol(s.name, positive=True) for s in m.sympy().free_symbols})
    assert sp.simplify(got**2 - (x1**2 + x2**2 - 2 * x1 * x2 * sp.cos(th))) == 0, got


def test_only_transforms_invertible_on_the_data_are_walked():
    w = np.ones(4)
    names = lambda t: [name for name, _, _ in output_transforms(np.array(t), w)[0]]  # noqa: E731
    assert names([0.5, 1.0, 1.5, 0.2]) == ["identity", "square", "inv", "log", "sin"]
    _, skipped = output_transforms(np.array([0.5, 1.0, 2.0, 0.2]), w)
    assert skipped == {"sin": "|t| > pi/2 on some rows"}
    _, skipped = output_transforms(np.array([-0.5, 0.0, 1.0, 0.2]), w)
    assert set(skipped) == {"square", "inv", "log"}
    # t < 0 everywhere: the square's inverse is -sqrt
    ts = output_transforms(np.array([-0.5, -1.0, -2.0, -0.2]), w)[0]
    assert dict((n, inv) for n, _, inv in ts)["square"] == ("sqrt", "neg")
    # rows of zero weight do not count (a reduction zeroes the rows its scale cannot use)
    ts, skipped = output_transforms(np.array([0.5, 0.0, 1.0, 0.2]), np.array([1, 0, 1, 1.0]))
    assert skipped == {} and all(np.isfinite(v).all() for _, v, _ in ts)


def test_an_inverse_is_written_with_its_own_operator():
    g = parse("x0*x1", ["x0", "x1"])
    p = inverted(g, ("asin",))
    assert to_string(p) == "asin(x0*x1)"
    X = np.array([[0.1, 0.2, 0.3], [0.5, 0.5, 2.0]])
    np.testing.assert_allclose(eval_program(p, X), np.arcsin(X[0] * X[1]))
    assert _write_back_operators(["add", "mul", "sin"], p) == ("add", "mul", "sin", "asin")
    assert _write_back_operators(["add", "mul"], g) == ["add", "mul"]
