"""`SymbolicRegressor.fit` with units: the dimensionless problems, the way back, the errors."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
import sympy as sp

from eurisko import SymbolicRegressor

FAST = dict(max_evals=6000, time_limit=None, n_jobs=1, random_state=0)


def searched(m):
    """The record's branches that ran (the decomposition branch skips tables under 300 rows)."""
    return [b for b in m.decomposition_["branches"] if not b.get("skipped")]


def dimensionless(m):
    return next(b for b in m.decomposition_["branches"] if b["kind"] == "dimensionless")


@pytest.fixture(scope="module")
def kinetic():
    rng = np.random.default_rng(3)
    df = pd.DataFrame({"m": rng.uniform(1, 5, 120), "v": rng.uniform(-3, 3, 120),
                       "h": rng.uniform(0, 2, 120)})
    return df, 0.5 * df["m"] * df["v"] ** 2


def test_a_law_without_groups_is_one_constant_times_the_scale(kinetic):
    df, E = kinetic
    m = SymbolicRegressor(**{**FAST, "max_evals": 100_000}).fit(
        df, E, X_units={"m": "kg", "v": "m/s", "h": "m"}, y_units="J")
    got = m.sympy(real=True)
    m_, v_ = sp.symbols("m v", real=True)
    assert sp.simplify(got - m_ * v_**2 / 2) == 0, got
    first = dimensionless(m)
    assert first["kind"] == "dimensionless"
    assert first["problem"].endswith("= C") and first["n_evals"] <= 2
    assert m.decomposition_["found_by"] == "dimensionless"
    assert m.stop_reason_ == "exact fit" and m.n_evals_ < 50_000  # the law ends the search


def test_units_as_a_list_and_in_other_units_than_si(kinetic):
    df, E = kinetic
    # grams and km/s: the constant of the law changes, the law does not
    m = SymbolicRegressor(**FAST).fit(df, E * 1e3, X_units=["g", "km/s", "m"], y_units="J")
    got = m.sympy(real=True)
    m_, v_ = sp.symbols("m v", real=True)
    assert sp.simplify(got - 500 * m_ * v_**2) == 0, got


def test_physical_constants_join_the_columns_and_print_by_name():
    rng = np.random.default_rng(0)
    df = pd.DataFrame({"m": rng.uniform(1, 3, 80)})
    c = 299792458.0
    m = SymbolicRegressor(**FAST).fit(df, df["m"] * c**2, X_units={"m": "kg"}, y_units="J",
                                      physical_constants=["c"])
    assert m.variable_names_ == ["m", "c"]
    got = m.sympy(real=True)
    assert sp.simplify(got - sp.Symbol("m", real=True) * sp.Symbol("c", real=True) ** 2) == 0
    assert m.n_features_in_ == 1
    np.testing.assert_allclose(m.predict(df), df["m"] * c**2, rtol=1e-12)
    assert m.decomposition_["physical_constants"] == ["c"]


def test_the_reduced_problem_is_written_back_in_the_users_variables():
    rng = np.random.default_rng(1)
    n = 200
    df = pd.DataFrame({"m_0": rng.uniform(1, 5, n), "v": rng.uniform(1, 2, n),
                       "c": rng.uniform(3, 10, n)})
    y = df["m_0"] * (1 + df["v"] / df["c"])
    m = SymbolicRegressor(**FAST).fit(df, y, X_units={"m_0": "kg", "v": "m/s", "c": "m/s"},
                                      y_units="kg")
    first = dimensionless(m)
    assert first["groups"] == ["v_c"] and "f(v/c)" in first["problem"]
    # every formula the reduced search found reads the user's columns, not the groups
    assert first["formulas"] and all("v_c" not in f for f in first["formulas"])
    assert all("m_0" in f for f in first["formulas"] if f != "0")
    assert m.pareto_front_["r2"].max() > 1 - 1e-12


def test_units_that_do_not_balance_warn_and_search_the_raw_data(kinetic):
    df, E = kinetic
    with pytest.warns(UserWarning, match="no dimensionless form"):
        m = SymbolicRegressor(**FAST).fit(df, E, X_units={"m": "kg", "v": "m", "h": "m"},
                                          y_units="K")
    assert m.decomposition_["units"] and m.decomposition_["note"]
    assert [b["kind"] for b in searched(m)] == ["plain"]


def test_without_units_the_record_holds_the_walk_and_the_plain_search():
    # two columns, 100 rows: no structure tests (under 300 rows), the walk of the raw table
    rng = np.random.default_rng(0)
    X = rng.uniform(1, 3, (100, 2))
    m = SymbolicRegressor(**FAST).fit(X, X[:, 0] * X[:, 1] ** 2)
    d = m.decomposition_
    assert (d["units"], d["note"], d["physical_constants"]) == (False, "", [])
    assert [b["kind"] for b in searched(m)] == ["walk", "plain"]
    assert sum(b["n_evals"] for b in searched(m)) == m.n_evals_
    # the walk's share of 6000 evaluations ends within 4 nodes, where x0*x1^2 is
    walk = searched(m)[0]
    assert walk["enumeration"]["stop_reason"] == "budget" and walk["n_evals"] <= 0.07 * 6000
    assert walk["formulas"] == ["x0*x1^2"] and d["found_by"] == "walk"


@pytest.mark.parametrize("kwargs, message", [
    ({"X_units": {"m": "kg", "v": "m/s", "h": "m"}}, "give y_units too"),
    ({"y_units": "J"}, "give X_units too"),
    ({"X_units": {"m": "kg", "v": "m/sek", "h": "m"}, "y_units": "J"}, "unknown unit 'm/sek'"),
    ({"X_units": {"m": "kg", "v": "m/s"}, "y_units": "J"}, "h"),
    ({"X_units": {"m": "kg", "v": "m/s", "h": "m", "q": "C"}, "y_units": "J"}, "q"),
    ({"physical_constants": ["c"]}, "give X_units"),
    ({"X_units": ["kg", "m/s", "m"], "y_units": "J", "physical_constants": "c"}, "list of names"),
])
def test_bad_units_are_one_line_errors(kinetic, kwargs, message):
    df, E = kinetic
    with pytest.raises((ValueError, TypeError), match=message) as info:
        SymbolicRegressor(**FAST).fit(df, E, **kwargs)
    assert "\n" not in str(info.value)


def test_units_survive_a_saved_run(kinetic, tmp_path):
    df = pd.DataFrame({"m": kinetic[0]["m"]})
    c = 299792458.0
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        m = SymbolicRegressor(**FAST, run_dir=str(tmp_path)).fit(
            df, df["m"] * c**2, X_units=["kg"], y_units="J", physical_constants=["c"])
    again = SymbolicRegressor.from_run(tmp_path)
    np.testing.assert_allclose(again.predict(df), m.predict(df), rtol=1e-12)
    assert again.decomposition_["found_by"] == m.decomposition_["found_by"]


def test_a_law_the_evolution_misses_is_found_on_its_groups():
    # m/m_0 = 1/sqrt(1 - (v/c)^2): on one group the small formulas are walked exhaustively
    rng = np.random.default_rng(0)
    n = 300
    df = pd.DataFrame({"m_0": rng.uniform(1, 5, n), "v": rng.uniform(1, 2, n),
                       "c": rng.uniform(3, 10, n)})
    y = df["m_0"] / np.sqrt(1 - df["v"] ** 2 / df["c"] ** 2)
    m = SymbolicRegressor(**{**FAST, "max_evals": 20000}).fit(
        df, y, X_units={"m_0": "kg", "v": "m/s", "c": "m/s"}, y_units="kg")
    m0, v, c = sp.symbols("m_0 v c", real=True)
    assert sp.simplify(m.sympy(real=True) - m0 / sp.sqrt(1 - v**2 / c**2)) == 0, m.sympy(real=True)
    first = dimensionless(m)
    assert first["enumeration"]["exact"] >= 1 and m.decomposition_["found_by"] == "dimensionless"


def test_guesses_start_the_search_and_are_fitted():
    rng = np.random.default_rng(2)
    X = pd.DataFrame({"a": rng.uniform(1, 2, 100), "b": rng.uniform(1, 2, 100)})
    y = 2.5 * np.exp(-X["a"] / X["b"])
    m = SymbolicRegressor(**{**FAST, "max_evals": 3000}).fit(X, y, guesses=["exp(-a/b)"])
    a, b = sp.symbols("a b", real=True)
    got = m.sympy(real=True)
    assert sp.simplify(got - sp.Rational(5, 2) * sp.exp(-a / b)) == 0, got
    with pytest.raises(ValueError, match="guess 'exp\\(-a/q\\)' could not be read"):
        SymbolicRegressor(**FAST).fit(X, y, guesses=["exp(-a/q)"])
