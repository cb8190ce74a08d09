"""Several targets: a 2-D y gives one front per output; predict, score, exports, runs on disk."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import sympy as sp

from eurisko import SymbolicRegressor


def quick(**kw) -> SymbolicRegressor:
    params = dict(time_limit=None, max_evals=20000, n_jobs=1, random_state=0,
                  population_size=40, n_islands=2)
    params.update(kw)
    return SymbolicRegressor(**params)


def table(n: int = 200, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    X = pd.DataFrame({"a": rng.uniform(1, 3, n), "b": rng.uniform(1, 3, n)})
    Y = pd.DataFrame({"p": X["a"] * X["b"], "q": X["a"] + X["b"] ** 2})
    return X, Y


@pytest.fixture(scope="module")
def two_laws():
    X, Y = table()
    return X, Y, quick().fit(X, Y)


def test_recovers_two_laws_one_front_each(two_laws):
    X, Y, model = two_laws
    a, b = sp.symbols("a b")
    found = model.sympy()
    assert isinstance(found, list) and len(found) == 2
    for expr, truth in zip(found, [a * b, a + b**2], strict=True):
        assert sp.simplify(sp.nsimplify(expr, tolerance=1e-8, rational=True) - truth) == 0, \
            f"selected {found}"
    assert model.n_outputs_ == 2 and model.output_names_ == ["p", "q"]
    assert isinstance(model.pareto_front_, list) and len(model.pareto_front_) == 2
    assert all(isinstance(f, pd.DataFrame) and list(f.columns) ==
               ["complexity", "loss", "r2", "equation"] for f in model.pareto_front_)
    assert len(model.best_index_) == 2 and len(model.stop_reason_) == 2
    assert model.n_evals_ == sum(e.n_evals_ for e in model.estimators_)


def test_predict_score_and_exports_per_output(two_laws):
    X, Y, model = two_laws
    pred = model.predict(X)
    assert pred.shape == (len(X), 2) and pred.dtype == np.float64
    np.testing.assert_allclose(pred, Y.to_numpy(), rtol=1e-9)
    assert model.score(X, Y) > 0.999999
    # one item per output, or the output asked for (by name or position)
    assert model.sympy(output="q") == model.sympy()[1] == model.sympy(output=1)
    assert model.latex(output="p") == model.latex()[0]
    for j, f in enumerate(model.numpy()):
        np.testing.assert_allclose(f(X), pred[:, j], rtol=1e-12)
    assert len(model.c_code()) == 2 and "double f(" in model.c_code(output=0)
    tables = model.latex_table()
    assert len(tables) == 2 and tables[1] == model.latex_table(output="q")
    # rows: one per output, as PySR takes them
    rows = [0, len(model.pareto_front_[1]) - 1]
    np.testing.assert_allclose(model.predict(X, rows)[:, 0], model.predict(X, [0, 0])[:, 0])
    np.testing.assert_allclose(model.predict(X, rows)[:, 1], pred[:, 1], rtol=1e-9)


def test_pytorch_and_jax_one_per_output(two_laws):
    X, _, model = two_laws
    pred = model.predict(X)
    torch = pytest.importorskip("torch", reason="PyTorch export: pip install 'eurisko[torch]'")
    modules = model.pytorch()
    assert len(modules) == 2
    for j, module in enumerate(modules):
        np.testing.assert_allclose(module(torch.tensor(X.to_numpy())).detach().numpy(),
                                   pred[:, j], rtol=1e-12)
    jax = pytest.importorskip("jax", reason="JAX export: pip install 'eurisko[jax]'")
    jax.config.update("jax_enable_x64", True)
    fn, params = model.jax(output="q")
    np.testing.assert_allclose(np.asarray(fn(X.to_numpy(), params)), pred[:, 1], rtol=1e-12)


def test_bad_rows_and_outputs_are_one_line_errors(two_laws):
    X, Y, model = two_laws
    with pytest.raises(TypeError, match="list of one row per output"):
        model.sympy(0)
    with pytest.raises(ValueError, match=r"no output 'r'; the outputs are \['p', 'q'\]"):
        model.sympy(output="r")
    with pytest.raises(IndexError, match="output 2 is not among the 2 outputs"):
        model.numpy(output=2)
    with pytest.raises(IndexError, match="not in the Pareto front"):
        model.sympy([0, 99])


def test_first_output_is_the_single_output_fit_on_its_share():
    """Budgets are for the whole fit: the first output searches with half of max_evals, as a
    single-output fit of its column would, and its own column of a 2-D sample_weight."""
    X, Y = table(n=120, seed=3)
    w = np.random.default_rng(1).uniform(0.5, 2.0, (120, 2))
    Y = Y.assign(p=Y["p"] + 0.05 * np.random.default_rng(2).normal(size=120))
    both = quick(max_evals=6000, decompose=False).fit(X, Y, sample_weight=w)
    alone = quick(max_evals=3000, decompose=False).fit(X, Y["p"], sample_weight=w[:, 0])
    pd.testing.assert_frame_equal(both.pareto_front_[0], alone.pareto_front_)
    assert both.estimators_[0].n_evals_ == alone.n_evals_
    # the second output had what the first left: the whole fit keeps to its budget's share
    assert both.estimators_[1].max_evals == 6000 - alone.n_evals_


def test_column_array_y_is_a_single_output_fit():
    X, Y = table(n=80)
    flat = quick(max_evals=1500).fit(X, Y["p"].to_numpy())
    col = quick(max_evals=1500).fit(X, Y[["p"]].to_numpy())
    frame = quick(max_evals=1500).fit(X, Y[["p"]])
    for m in (col, frame):
        assert isinstance(m.pareto_front_, pd.DataFrame) and m.n_outputs_ == 1
        assert m.predict(X).shape == (80,)
        np.testing.assert_array_equal(m.predict(X), flat.predict(X))
    assert not hasattr(col, "estimators_")


def test_array_y_names_outputs_and_shared_weights():
    X, Y = table(n=80)
    m = quick(max_evals=3000).fit(X.to_numpy(), Y.to_numpy(), sample_weight=np.ones(80))
    assert m.output_names_ == ["y0", "y1"]
    assert m.sympy(output="y1") == m.sympy()[1]
    assert m.predict(X.to_numpy()).shape == (80, 2)
    # a single-output fit after it forgets the outputs
    m.fit(X.to_numpy(), Y["p"].to_numpy())
    assert not hasattr(m, "estimators_") and m.n_outputs_ == 1
    assert isinstance(m.sympy(), sp.Expr) and m.sympy(output=0) == m.sympy()
    with pytest.raises(ValueError, match="this fit has one output; leave output out"):
        m.numpy(output=1)


@pytest.mark.parametrize(("Y", "kw", "error", "needle"), [
    (np.ones((79, 2)), {}, ValueError, "inconsistent numbers of samples"),
    (np.ones((80, 2, 2)), {}, ValueError, r"y has shape \(80, 2, 2\)"),
    (np.ones((80, 0)), {}, ValueError, "no output column"),
    (pd.DataFrame(np.ones((80, 2)), columns=["u", "u"]), {}, ValueError, "column 'u' twice"),
    (pd.DataFrame({"u": np.ones(80), "v": np.r_[np.nan, np.ones(79)]}), {}, ValueError,
     r"y contains NaN in column\(s\) \['v'\] \(1 rows\)"),
    (np.ones((80, 2)), {"sample_weight": np.ones((80, 3))}, ValueError,
     r"sample_weight has shape \(80, 3\) but y has shape \(80, 2\)"),
    (np.ones((80, 2)), {"sample_weight": np.ones(79)}, ValueError, "sample_weight has shape"),
    (np.ones((80, 2)), {"y_units": ["m"]}, ValueError, "y_units has 1 entries but y has 2"),
    (np.ones((80, 2)), {"guesses": [["a"]]}, ValueError, "guesses has 1 lists but y has 2"),
])
def test_bad_two_dimensional_y_is_a_one_line_error(Y, kw, error, needle):
    X, _ = table(n=80)
    with pytest.raises(error, match=needle) as info:
        quick(max_evals=100).fit(X, Y, **kw)
    assert "\n" not in str(info.value)


def test_per_output_guesses_and_units_reach_each_search():
    X, Y = table(n=150)
    m = quick(max_evals=400, decompose=False).fit(
        X, Y, guesses=[["a*b"], ["a + b*b"]])
    assert all(f["r2"].max() > 1 - 1e-12 for f in m.pareto_front_)
    U = pd.DataFrame({"p": X["a"] * X["b"], "q": X["a"] / X["b"]})
    m = quick(max_evals=2000).fit(X, U, X_units=["m", "s"], y_units=["m*s", "m/s"])
    assert [d["units"] for d in m.decomposition_] == [True, True]
    assert m.score(X, U) > 0.999999


def test_run_directory_restores_and_resumes_every_output(tmp_path):
    X, Y = table(n=80)
    m = quick(max_evals=2000, run_dir=tmp_path).fit(X, Y)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["outputs.json", "p", "q"]
    again = SymbolicRegressor.from_run(tmp_path)
    assert again.output_names_ == ["p", "q"] and list(again.feature_names_in_) == ["a", "b"]
    np.testing.assert_array_equal(again.predict(X), m.predict(X))
    assert again.sympy() == m.sympy()
    again.set_params(max_evals=4000).fit(X, Y)  # warm start: goes on where it stopped
    assert again.n_evals_ > m.n_evals_
    assert [e.n_evals_ for e in again.estimators_] >= [e.n_evals_ for e in m.estimators_]
    with pytest.raises(ValueError, match="warm_start needs the same outputs"):
        again.fit(X, Y.rename(columns={"q": "r"}))
    with pytest.raises(ValueError, match="which had 2 outputs"):
        again.fit(X, Y["p"])


def test_run_killed_before_its_last_output_is_finished_by_fit(tmp_path):
    X, Y = table(n=80)
    quick(max_evals=2000, run_dir=tmp_path).fit(X, Y)
    for f in (tmp_path / "q").iterdir():  # as if killed before q's search started
        f.unlink()
    partial = SymbolicRegressor.from_run(tmp_path)
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        partial.predict(X)
    done = partial.estimators_ if hasattr(partial, "estimators_") else None
    assert done is None and partial.n_outputs_ == 2
    partial.fit(X, Y)
    assert partial.predict(X).shape == (80, 2)
    assert (tmp_path / "q" / "state.json").is_file()


def test_ctrl_c_keeps_every_output():
    X, Y = table(n=80)
    seen = []

    def progress(p):
        seen.append(p.n_evals)
        if len(seen) == 3:
            raise KeyboardInterrupt

    m = quick(max_evals=10**9, exact_fit_tol=None, progress=progress).fit(X, Y)
    assert m.interrupted_
    assert all(len(f) >= 1 for f in m.pareto_front_)
    assert m.predict(X).shape == (80, 2)
    assert m.estimators_[1].n_evals_ < 10**6  # the second output: one short search
    assert seen == sorted(seen)  # progress counts the whole fit
