"""The estimator's PySR-style controls: constraints, complexities, guesses, model selection,
batching. Fast seeded fits with ``max_evals``; each test says what it would catch."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from eurisko import SymbolicRegressor
from eurisko.expr.operators import complexities, complexities_in_force
from eurisko.search.constraints import Constraints
from eurisko.search.front import select_index


def quick(**kw) -> SymbolicRegressor:
    params = dict(time_limit=None, max_evals=15000, n_jobs=1, random_state=0,
                  population_size=40, n_islands=2)
    params.update(kw)
    return SymbolicRegressor(**params)


def test_front_keeps_constraints_the_walk_would_break():
    # exp(exp(x)) fits exactly and the exhaustive walk of this small table finds it; the
    # nested constraint rules it out, so it must not reach the front (filtered as a guess)
    rng = np.random.default_rng(0)
    X = rng.uniform(0, 1, (80, 1))
    y = np.exp(np.exp(X[:, 0]))
    spec = dict(max_depth=5, nested_constraints={"exp": {"exp": 0}},
                constraints={"div": (-1, 3)})
    free = quick(operators=["add", "mul", "div", "exp", "sin"]).fit(X, y)
    assert any(e.count("exp") >= 2 for e in free.pareto_front_["equation"])  # can fail
    model = quick(operators=["add", "mul", "div", "exp", "sin"], **spec).fit(X, y)
    cons = Constraints.of(spec["max_depth"], spec["constraints"], spec["nested_constraints"])
    for p, eq in zip(model.programs_, model.pareto_front_["equation"], strict=True):
        assert cons.allows(p), (eq, cons.violation(p))
    assert model.pareto_front_["r2"].iloc[model.best_index_] > 0.99  # still a good fit


def test_complexities_count_in_the_front():
    rng = np.random.default_rng(1)
    X = rng.uniform(-2, 2, (100, 2))
    y = np.sin(X[:, 0]) + X[:, 1]
    kw = dict(complexity_of_operators={"sin": 4}, complexity_of_constants=2,
              complexity_of_variables=1)
    model = quick(**kw, max_size=20).fit(X, y)
    table = complexities({"sin": 4}, 1, 2)
    with complexities_in_force(table):
        counted = [p.complexity() for p in model.programs_]
    assert list(model.pareto_front_["complexity"]) == counted
    assert any(len(p) != c for p, c in zip(model.programs_, counted, strict=True))
    assert max(counted) <= 20 + 4 + 2 * 2  # max_size, plus the folded a + b*f at most


def test_complexities_survive_a_saved_run(tmp_path):
    rng = np.random.default_rng(2)
    X = rng.uniform(1, 2, (60, 1))
    model = quick(max_evals=3000, complexity_of_operators={"exp": 5}, run_dir=tmp_path,
                  operators=["add", "mul", "exp"]).fit(X, np.exp(X[:, 0]) + 1)
    again = SymbolicRegressor.from_run(tmp_path)
    assert list(again.pareto_front_["complexity"]) == list(model.pareto_front_["complexity"])
    assert again.best_index_ == model.best_index_


@pytest.mark.parametrize(("kw", "message"), [
    (dict(max_depth=0), "max_depth"),
    (dict(constraints={"pow": 2}), "constraints['pow'] must be a pair"),
    (dict(constraints={"sinus": 2}), "unknown operator 'sinus'"),
    (dict(nested_constraints={"sin": {"cos": "no"}}), "nested_constraints['sin']['cos']"),
    (dict(complexity_of_operators={"exp": 0}), "complexity_of_operators['exp']"),
    (dict(complexity_of_operators=["exp"]), "must be a dict"),
    (dict(complexity_of_variables=40), "below the complexity of a single variable"),
    (dict(model_selection="knee"), "model_selection must be 'auto', 'best'"),
    (dict(batching="yes"), "batching"),
    (dict(batch_size=2), "batch_size"),
])
def test_bad_parameters_are_one_line_errors(kw, message):
    X = np.random.default_rng(0).uniform(1, 2, (30, 1))
    with pytest.raises((ValueError, TypeError)) as err:
        quick(**kw).fit(X, X[:, 0])
    assert message in str(err.value) and "\n" not in str(err.value)


@pytest.fixture(scope="module")
def relativistic():
    rng = np.random.default_rng(3)
    X = pd.DataFrame({"m_0": rng.uniform(1, 5, 200), "v": rng.uniform(1, 2, 200),
                      "c": rng.uniform(3, 10, 200)})
    y = X["m_0"] / np.sqrt(1 - X["v"] ** 2 / X["c"] ** 2)
    return X, y


def test_guess_is_fitted_and_seeded(relativistic):
    X, y = relativistic
    kw = dict(max_evals=3000, decompose=False)
    without = quick(**kw).fit(X, y)
    # wrong constants on purpose: the fit must find 1 and 1
    model = quick(**kw).fit(X, y, guesses=["2*m_0/sqrt(1 - 0.5*v**2/c**2)", "m_0 + v"])
    assert without.pareto_front_["r2"].max() < 1 - 1e-9  # the budget alone is not enough
    assert model.pareto_front_["r2"].iloc[model.best_index_] > 1 - 1e-12
    assert model.score(X, y) > 1 - 1e-12


@pytest.mark.parametrize(("guess", "message"), [
    ("m_0 * w", "guess 'm_0 * w' could not be read: unknown name 'w'"),
    ("foo(v)", "guess 'foo(v)' could not be read: unknown function 'foo'"),
    ("m_0 * tanh(v)", "guess 'm_0 * tanh(v)' uses tanh, not among the operators"),
    ("sin(sin(v))", "guess 'sin(sin(v))' breaks the constraints: sin appears 1 time(s) nested"),
    ("m_0 * (", "guess 'm_0 * (' could not be read"),
])
def test_bad_guess_names_the_guess(relativistic, guess, message):
    X, y = relativistic
    with pytest.raises(ValueError) as err:
        quick(nested_constraints={"sin": {"sin": 0}}).fit(X, y, guesses=[guess])
    assert message in str(err.value) and "\n" not in str(err.value)
    with pytest.raises(TypeError, match="guesses must be"):
        quick().fit(X, y, guesses=[3.5])


def test_model_selection_rules_pick_their_rows():
    rng = np.random.default_rng(4)
    X = rng.uniform(-1, 1, (20, 1))
    y = X[:, 0] ** 3 + X[:, 0] + rng.normal(0, 0.01, 20)
    picked = {}
    n_symbols = 11 + 1 + 1  # the default operators, x0 and a constant
    for rule in ("accuracy", "best", "score", "bic", "mdl", "auto"):
        m = quick(model_selection=rule, decompose=False).fit(X, y)
        front = m.pareto_front_
        assert m.best_index_ == select_index(
            front["loss"].to_numpy() / m.y_var_ * m._search_y_var, front["complexity"].to_numpy(),
            m._search_y_var, rule, 20, n_symbols)
        picked[rule] = (m.best_index_, len(front))
    assert picked["accuracy"][0] == picked["accuracy"][1] - 1
    assert picked["auto"] == picked["mdl"]  # 20 rows: auto reads the front by MDL


def test_batching_scores_children_on_batches_and_the_front_on_all_rows():
    rng = np.random.default_rng(5)
    X = rng.uniform(1, 2, (4000, 2))
    y = X[:, 0] * X[:, 1] + 0.5 * X[:, 0]
    m = quick(batching=True, batch_size=200, decompose=False).fit(X, y)
    full = quick(decompose=False).fit(X, y)
    for i in range(len(m.pareto_front_)):  # the front's losses are on all 4000 rows
        mse = float(np.mean((m.predict(X, i) - y) ** 2))
        assert m.pareto_front_["loss"].iloc[i] == pytest.approx(mse, rel=1e-9, abs=1e-300)
    assert m.score(X, y) > 1 - 1e-9
    # the same evaluations budget buys more children on batches (a batch is 1/20 of a pass)
    assert m.n_evals_ <= 15000 * 1.1 and full.n_evals_ <= 15000 * 1.1
    assert len(m.search_state_.hof.entries) >= 1


def test_passes_scikit_learn_checks_with_the_new_parameters():
    from sklearn.utils.estimator_checks import check_estimator

    skipped = {  # as in test_regressor.py
        "check_sample_weights_invariance": "search path depends on round-off of weighted sums",
        "check_sample_weight_equivalence_on_dense_data": "same reason",
    }
    # batches of 16 rows make an evaluation a fraction of a pass: fewer evaluations than
    # test_regressor.py's check buy as many children
    est = SymbolicRegressor(time_limit=None, max_evals=300, n_jobs=1, random_state=0,
                            population_size=20, n_islands=1, max_depth=6,
                            constraints={"div": (-1, 5)},
                            nested_constraints={"exp": {"exp": 0}},
                            complexity_of_operators={"exp": 2}, complexity_of_constants=2,
                            model_selection="best", batching=True, batch_size=32)
    check_estimator(est, expected_failed_checks=skipped)
