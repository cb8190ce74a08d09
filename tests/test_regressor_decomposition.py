"""`SymbolicRegressor.fit`'s decomposition branch: translations and separations found first."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import sympy as sp

from eurisko import SymbolicRegressor

FAST = dict(max_evals=6000, time_limit=None, n_jobs=1, random_state=0)


def entry(m, kind):
    return next(b for b in m.decomposition_["branches"] if b["kind"] == kind)


def test_a_distance_is_found_on_the_differences_of_its_coordinates():
    # I.8.14: the plain search alone misses it in this time; two translations leave a law of
    # two columns, which the exhaustive walk finds exactly
    rng = np.random.default_rng(0)
    cols = ["x1", "x2", "y1", "y2"]
    df = pd.DataFrame(rng.uniform(1, 5, (400, 4)), columns=cols)

    def law(d):
        return np.sqrt((d["x2"] - d["x1"]) ** 2 + (d["y2"] - d["y1"]) ** 2)

    m = SymbolicRegressor(n_jobs=1, random_state=0, time_limit=15).fit(df, law(df))
    fresh = pd.DataFrame(rng.uniform(1, 5, (1000, 4)), columns=cols)
    np.testing.assert_allclose(m.predict(fresh), law(fresh), rtol=1e-9)
    t = entry(m, "symmetry")
    assert t["accepted"] == ["x2_x1 = -x1 + x2", "y2_y1 = -y1 + y2"]
    assert t["columns"] == ["x2_x1", "y2_y1"]
    assert {tuple(p["pair"]) for p in t["tested"] if p["accepted"]} == {("x1", "x2"),
                                                                       ("y1", "y2")}
    assert m.decomposition_["found_by"] == "symmetry"


def test_a_law_without_the_symmetry_is_not_translated():
    rng = np.random.default_rng(1)
    X = rng.uniform(1, 5, (400, 2))
    m = SymbolicRegressor(**FAST).fit(X, X[:, 0] * X[:, 1] + X[:, 1] ** 2)
    t = entry(m, "symmetry")
    assert [p["pair"] for p in t["tested"]] == [["x0", "x1"]]
    assert t["accepted"] == [] and not t["tested"][0]["accepted"]
    assert t["columns"] == ["x0", "x1"] and "searches" not in t


def test_with_units_only_columns_of_one_unit_are_paired():
    rng = np.random.default_rng(2)
    n = 400
    df = pd.DataFrame({"a": rng.uniform(1, 2, n), "b": rng.uniform(3, 5, n),
                       "t": rng.uniform(1, 3, n), "m": rng.uniform(1, 3, n)})
    v = (df["b"] - df["a"]) / df["t"]
    m = SymbolicRegressor(**FAST).fit(df, df["m"] * v, X_units=["m", "m", "s", "kg"],
                                      y_units="kg*m/s")
    t = entry(m, "symmetry")
    assert [p["pair"] for p in t["tested"]] == [["a", "b"]]
    assert t["accepted"] == ["b_a = -a + b"]
    # the translated table has one group fewer: m*(b - a)/t is one constant times the scale
    assert t["searches"][0]["kind"] == "dimensionless"
    assert entry(m, "separation")["skipped"] == "a formula of the translated problem fits exactly"
    assert m.decomposition_["found_by"] == "symmetry"
    assert [b["kind"] for b in m.decomposition_["branches"]] == [
        "symmetry", "separation", "plain"]  # the untranslated groups need no search
    assert m.pareto_front_["r2"].iloc[m.best_index_] > 1 - 1e-12


@pytest.mark.parametrize("rows, cols, why", [(299, 3, "299 rows"), (400, 1, "columns")])
def test_the_branch_is_skipped_on_small_tables(rows, cols, why):
    rng = np.random.default_rng(3)
    X = rng.uniform(1, 2, (rows, cols))
    m = SymbolicRegressor(**FAST).fit(X, np.exp(X[:, 0] - X[:, -1] ** 2))
    kinds = [b["kind"] for b in m.decomposition_["branches"]]
    # the walk of the raw table (without units) needs no rows to judge: it runs between them
    assert kinds == ["symmetry", "walk", "separation", "plain"]
    for b in (entry(m, "symmetry"), entry(m, "separation")):
        assert why in b["skipped"] and "tested" not in b
    assert "skipped" not in entry(m, "walk") and "enumeration" in entry(m, "walk")


def test_without_units_a_small_table_is_walked_with_its_output_transforms():
    # theta = asin(n*sin(theta2)): 200 rows, too few for the structure tests; the walk of the
    # raw table finds sin(theta) = n*sin(theta2) and writes asin back
    rng = np.random.default_rng(0)
    df = pd.DataFrame({"n": rng.uniform(0, 1, 200), "theta2": rng.uniform(1, 5, 200)})
    m = SymbolicRegressor(**{**FAST, "max_evals": 2_000_000}).fit(
        df, np.arcsin(df["n"] * np.sin(df["theta2"])))
    n, theta2 = sp.symbols("n theta2", real=True)
    assert sp.simplify(m.sympy(real=True) - sp.asin(n * sp.sin(theta2))) == 0, m.sympy(real=True)
    w = entry(m, "walk")
    assert w["transform"] == "sin" and w["enumeration"]["transforms"]["sin"] >= 1
    assert w["columns"] == ["n", "theta2"]
    assert m.decomposition_["found_by"] == "walk" and m.stop_reason_ == "exact fit"


def test_a_scaling_symmetry_makes_a_ratio_column_without_units():
    # m0/sqrt(1 - v^2/c^2): f(m0, v/c) has two columns, which the walk solves exactly
    rng = np.random.default_rng(1)
    n = 400
    df = pd.DataFrame({"m0": rng.uniform(1, 5, n), "v": rng.uniform(1, 2, n),
                       "c": rng.uniform(3, 10, n)})
    m = SymbolicRegressor(**{**FAST, "max_evals": 2_000_000}).fit(
        df, df["m0"] / np.sqrt(1 - df["v"] ** 2 / df["c"] ** 2))
    m0, v, c = sp.symbols("m0 v c", positive=True)
    got = m.sympy().subs({s: sp.Symbol(s.name, positive=True) for s in m.sympy().free_symbols})
    assert sp.simplify(got - m0 / sp.sqrt(1 - v**2 / c**2)) == 0, got
    t = entry(m, "symmetry")
    assert t["scaling_accepted"] == ["v_c = v/c"] and t["accepted"] == []
    assert t["columns"] == ["m0", "v_c"]
    assert [p["pair"] for p in t["scaling_tested"] if p["accepted"]] == [["v", "c"]]
    assert entry(m, "walk")["skipped"].startswith("the table after the accepted symmetries")
    assert m.decomposition_["found_by"] == "symmetry" and m.stop_reason_ == "exact fit"


def test_a_law_without_scaling_symmetry_gets_no_ratio_column():
    rng = np.random.default_rng(6)
    X = rng.uniform(1, 5, (400, 2))
    m = SymbolicRegressor(**FAST).fit(X, X[:, 0] + X[:, 1] ** 2)
    t = entry(m, "symmetry")
    assert [p["pair"] for p in t["scaling_tested"]] == [["x0", "x1"]]
    assert t["scaling_accepted"] == [] and t["columns"] == ["x0", "x1"]
    assert "enumeration" in entry(m, "walk")  # the raw table is walked instead


def test_a_table_of_four_columns_is_not_walked():
    rng = np.random.default_rng(7)
    X = rng.uniform(1, 5, (100, 4))
    m = SymbolicRegressor(**FAST).fit(X, X[:, 0] * X[:, 1] + X[:, 2] * X[:, 3])
    w = entry(m, "walk")
    assert w["skipped"].startswith("4 varying columns") and "enumeration" not in w


def test_a_product_is_split_searched_in_parts_and_recombined():
    rng = np.random.default_rng(4)
    X = rng.uniform(1, 3, (400, 3))
    # 8 nodes: beyond the walk of three columns (7 nodes)
    y = (X[:, 0] + X[:, 1] ** 2) * np.exp(-X[:, 2] ** 2)
    m = SymbolicRegressor(**{**FAST, "max_evals": 20000}).fit(X, y)
    s = entry(m, "separation")
    assert s["accepted"] == "g(x2) * g(x0, x1)"
    assert [p["variables"] for p in s["parts"]] == [["x2"], ["x0", "x1"]]
    # the recombined formula, its constants re-fitted on the rows, is the selected one
    assert m.decomposition_["found_by"] == "separation"
    assert m.pareto_front_["r2"].iloc[m.best_index_] > 1 - 1e-12


def test_a_law_that_is_not_separable_is_never_split():
    rng = np.random.default_rng(5)
    X = rng.uniform(1, 3, (400, 2))
    # 1.7 is no constant of the walk (sin(x0*x1) it finds exactly, and no split is tested)
    m = SymbolicRegressor(**FAST).fit(X, np.sin(1.7 * X[:, 0] * X[:, 1]))
    s = entry(m, "separation")
    assert s["accepted"] is None and "parts" not in s and "best_loss" not in s
    assert m.decomposition_["found_by"] in ("walk", "plain")


def test_decompose_false_searches_the_raw_data_only():
    rng = np.random.default_rng(0)
    X = rng.uniform(1, 3, (400, 2))
    y = X[:, 0] * X[:, 1] ** 2
    m = SymbolicRegressor(**FAST, decompose=False).fit(X, y)
    assert [b["kind"] for b in m.decomposition_["branches"]] == ["plain"]
    assert m.decomposition_["found_by"] == "plain"
    on = SymbolicRegressor(**FAST).fit(X, y)
    assert [b["kind"] for b in on.decomposition_["branches"]][-1] == "plain"
    assert len(on.decomposition_["branches"]) > 1
    with pytest.raises(ValueError, match="decompose"):
        SymbolicRegressor(**FAST, decompose="yes").fit(X, y)
