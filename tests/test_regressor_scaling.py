"""Data of any finite magnitude: the search works on scaled data, the front is in the user's
units, and ordinary data are searched exactly as before."""

from __future__ import annotations

import warnings

import numpy as np
import pandas.testing as pd_testing
import pytest
import sympy as sp

from eurisko import SymbolicRegressor


def quick(**kw) -> SymbolicRegressor:
    params = dict(time_limit=None, max_evals=8000, n_jobs=1, random_state=0,
                  population_size=40, n_islands=2)
    params.update(kw)
    return SymbolicRegressor(**params)


def _ordinary_data():
    rng = np.random.default_rng(3)
    X = rng.uniform(1, 3, (200, 2))
    y = X[:, 0] * X[:, 1] ** 2 + rng.normal(0, 0.05, 200)
    # columns and target at the edges of the magnitudes left unscaled
    X2 = np.column_stack([rng.uniform(300, 900, 200), rng.uniform(0.002, 0.006, 200)])
    y2 = X2[:, 0] * X2[:, 1] ** 2 * (1 + rng.normal(0, 0.01, 200))
    return [(X, y), (X2, y2)]


# What the search gave on these data (seed 0, n_jobs=1, max_evals=8000) before the data were
# scaled (commit d0d8132), with the final front's rewrites since (positive forms, constants
# snapped where the data cannot tell them from short numbers): the search itself must be
# exactly as then (same evaluations, same selected formula).
PINNED = [
    ([
      [1, 26.51415479346984,
       "8.772981689857207"],
      [3, 12.010251115095278,
       "4.537856055185257*x1"],
      [4, 8.084680930611523,
       "2*x1^2"],
      [5, 0.0023356354394303293,
       "x1*(x0*x1)"],
      [10, 0.0022760129376192175,
       "248391534.973455*x0/(15748.853121067737/x1 + x1)^2"],
      [14, 0.0022536581371384802,
       "5384.6585553110235*(123.37005501361698*x0/(819.1771652904167/x1 -"
       " (4.319689898685965 - x1))^2)"]], 3, 8019),
    ([
      [1, 7.334435887660692e-05,
       "x1"],
      [3, 1.8999459199037318e-05,
       "2.75*x1"],
      [4, 1.4386346529313365e-08,
       "x0*x1^2"],
      [5, 1.4336361564701728e-08,
       "sin(x0*x1^2)"],
      [8, 1.4313202959234239e-08,
       "x0*x1^2*cos(sqrt(x1))"],
      [11, 1.3784036258447926e-08,
       "(1.0185916357881302 - sqrt(0.07599088773175333*x1))*(x0*x1^2)"],
      [12, 1.3670721986043552e-08,
       "(1.005357059920726 - 246.74011002723395*x1*x1)*(x0*x1^2)"],
      [19, 1.3543869223026156e-08,
       "0.02316082248070637*x0*x1^2*(log(0.1111111111111111/(x1*log(x0)^2)) +"
       " 43.982297150257104) - 7.345141499843763e-05"]], 2, 8276),
]


@pytest.mark.parametrize("case", [0, 1])
def test_ordinary_magnitudes_are_searched_as_before(case):
    X, y = _ordinary_data()[case]
    rows, best, n_evals = PINNED[case]
    # the plain search alone: the walk of a small table (decompose) changes its path by design
    model = quick(decompose=False).fit(X, y)
    front = model.pareto_front_
    assert list(front["equation"]) == [r[2] for r in rows]
    assert list(front["complexity"]) == [r[0] for r in rows]
    np.testing.assert_allclose(front["loss"], [r[1] for r in rows], rtol=1e-9)
    assert model.best_index_ == best
    assert model.n_evals_ == n_evals


def test_a_target_whose_square_overflows_fits():
    # the report of issue 15: exp(x) for x up to 400 crashed the tournament (IndexError)
    rng = np.random.default_rng(0)
    x = rng.uniform(1, 400, (300, 1))
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)  # no overflow leaks out of fit
        model = quick().fit(x, np.exp(x[:, 0]))
    assert model.sympy(real=True) == sp.exp(sp.Symbol("x0", real=True))
    # the structure tests and the walk need ordinary magnitudes: skipped, and said so
    assert all("ordinary magnitudes" in b["skipped"]
               for b in model.decomposition_["branches"] if b["kind"] != "plain")
    assert model.pareto_front_["r2"].iloc[model.best_index_] == pytest.approx(1.0)
    np.testing.assert_allclose(model.predict(x), np.exp(x[:, 0]), rtol=1e-12)


def _extreme(case: str):
    rng = np.random.default_rng(2)
    x = rng.uniform(1, 2, (200, 1))
    cols = np.column_stack([rng.uniform(1, 2, 200) * 1e-200, rng.uniform(1, 2, 200) * 1e200])
    return {
        "y=1e-300*x": (x, 1e-300 * x[:, 0], 1e-300, 0),
        "y=1e300*x": (x, 1e300 * x[:, 0], 1e300, 0),
        "y=3*x, x~1e200": (cols, 3 * cols[:, 1], 3.0, 1),
        "y=5e-100*x, x~1e-200": (cols, 5e-100 * cols[:, 0], 5e-100, 0),
    }[case]


@pytest.mark.parametrize("case", ["y=1e-300*x", "y=1e300*x", "y=3*x, x~1e200",
                                  "y=5e-100*x, x~1e-200"])
def test_laws_of_any_magnitude_are_recovered(case):
    X, y, c, j = _extreme(case)
    model = quick().fit(X, y)
    assert model.stop_reason_ == "exact fit"
    expr = model.sympy(real=True)
    x = sp.Symbol(f"x{j}", real=True)
    assert expr.free_symbols == {x}
    assert float(sp.simplify(expr / x)) == pytest.approx(c, rel=1e-12), expr
    assert model.pareto_front_["equation"].iloc[model.best_index_] in (f"{c!r}*x{j}",
                                                                        f"{c:g}*x{j}")
    np.testing.assert_allclose(model.predict(X), y, rtol=1e-12)


def test_columns_far_apart_in_magnitude_multiply():
    X, _, _, _ = _extreme("y=3*x, x~1e200")
    model = quick().fit(X, X[:, 0] * X[:, 1])  # an ordinary target of extreme columns
    assert model.sympy(real=True) == sp.Symbol("x0", real=True) * sp.Symbol("x1", real=True)


def test_exp_of_arguments_up_to_700_fits_without_error():
    x = np.random.default_rng(4).uniform(1, 700, (200, 1))
    model = quick(max_evals=3000).fit(x, np.exp(x[:, 0]))
    assert np.isfinite(model.predict(x)).all()
    assert model.pareto_front_["r2"].max() > 0


@pytest.mark.parametrize("magnitude", [1e-100, 1e100])
def test_reported_losses_are_those_of_predict_in_the_users_units(magnitude):
    rng = np.random.default_rng(5)
    X = np.column_stack([rng.uniform(1, 2, 200) * 1e50, rng.uniform(1, 3, 200)])
    y = magnitude * (X[:, 0] / 1e50 * np.sin(X[:, 1]) + rng.normal(0, 0.01, 200))
    w = rng.uniform(0.5, 1.5, 200)
    model = quick(exact_fit_tol=None).fit(X, y, sample_weight=w)
    assert model._scaling.y_exp != 0 and model._scaling.x_exps[0] != 0
    front = model.pareto_front_
    assert len(front) > 2
    for i in range(len(front)):
        mse = np.average((model.predict(X, i) - y) ** 2, weights=w)
        assert front["loss"].iloc[i] == pytest.approx(mse, rel=1e-9)
        assert front["r2"].iloc[i] == pytest.approx(1 - mse / model.y_var_, rel=1e-9)
    assert front["r2"].iloc[model.best_index_] > 0.9


def test_loss_threshold_and_progress_are_in_the_users_units():
    rng = np.random.default_rng(6)
    x = rng.uniform(1, 2, (200, 1))
    y = 1e100 * (x[:, 0] + rng.normal(0, 0.01, 200))
    seen = []
    model = quick(loss_threshold=1e197, exact_fit_tol=None, max_evals=50000,
                  progress=seen.append).fit(x, y)
    assert model.stop_reason_ == "loss threshold"
    assert model.pareto_front_["loss"].min() <= 1e197 * (1 + 1e-6)
    assert seen[-1].done and 1e190 < seen[-1].best_loss <= 1e197
    assert all("x0" in row[2] for row in seen[-1].front[1:])


def test_run_dir_from_run_and_warm_start_keep_the_scales(tmp_path):
    X, y, c, _ = _extreme("y=1e300*x")
    y = 1e-200 * y * (1 + np.random.default_rng(7).normal(0, 1e-3, len(y)))  # loss ~1e194
    model = quick(run_dir=tmp_path, exact_fit_tol=None, max_evals=4000).fit(X, y)
    back = SymbolicRegressor.from_run(tmp_path)
    assert back._scaling == model._scaling and back._scaling.y_exp > 300
    pd_testing.assert_frame_equal(back.pareto_front_, model.pareto_front_)
    np.testing.assert_array_equal(back.predict(X), model.predict(X))
    back.set_params(max_evals=6000)
    back.fit(X, y)  # continues the search bred on the same scaled data
    assert back.n_evals_ >= 6000 and back._scaling == model._scaling
    # the continued search keeps what it had (the front may trade a little loss for snapped
    # constants where the data allow: compare the searches' own best)
    assert back.search_state_.hof.best_loss() <= model.search_state_.hof.best_loss()
    assert np.isfinite(back.pareto_front_["loss"]).all()


def test_newtons_gravitation_in_si_units_has_one_constant():
    rng = np.random.default_rng(0)
    X = np.column_stack([rng.uniform(1, 10, 300) * 1e24, rng.uniform(1, 10, 300) * 1e22,
                         rng.uniform(1, 10, 300) * 1e7])  # kg, kg, m
    model = quick(max_evals=30000).fit(X, 6.674e-11 * X[:, 0] * X[:, 1] / X[:, 2] ** 2)
    m1, m2, r = sp.symbols("x0 x1 x2", real=True)
    assert model.sympy(real=True) == sp.Float(6.674e-11) * m1 * m2 / r**2
    assert model.pareto_front_["equation"].iloc[model.best_index_].count("e-11") == 1
