"""eurisko.dynamics: discovering dx/dt = f(x) from trajectories."""

from __future__ import annotations

import json
import time
import warnings

import numpy as np
import pytest
import sympy as sp
from scipy.integrate import solve_ivp

from eurisko.dynamics import (
    AutoDifferentiator,
    FiniteDifference,
    ODEModel,
    SavitzkyGolay,
    SimulationWarning,
    SmoothingSpline,
    SparseRegression,
    Tikhonov,
    discover_ode,
    estimate_noise,
)
from eurisko.dynamics.model import Equation


def lorenz(_t, v):
    x, y, z = v
    return [10 * (y - x), x * (28 - z) - y, x * y - 8 / 3 * z]


def lotka_volterra(_t, v):
    x, y = v
    return [1.1 * x - 0.4 * x * y, 0.1 * x * y - 0.4 * y]


def simulate(f, x0, t):
    sol = solve_ivp(f, (t[0], t[-1]), x0, t_eval=t, rtol=1e-11, atol=1e-11, method="DOP853")
    return sol.y.T


def terms_of(expr: sp.Expr, names: list[str]) -> dict[tuple[int, ...], float]:
    syms = [sp.Symbol(n, real=True) for n in names]
    return {k: float(v) for k, v in sp.Poly(sp.expand(expr), *syms).as_dict().items()}


def assert_system(model: ODEModel, truth: list[sp.Expr], rtol: float) -> None:
    """Same set of monomials in every equation, each coefficient within ``rtol``."""
    for got, want in zip(model.rhs_exprs(rounded=False), truth, strict=True):
        g, w = terms_of(got, model.names), terms_of(want, model.names)
        assert set(g) == set(w), f"terms {sorted(g)} != {sorted(w)} in {got}"
        for k in w:
            assert abs(g[k] - w[k]) <= rtol * abs(w[k]), (k, g[k], w[k])


def lv_truth():
    x, y = sp.symbols("x y", real=True)
    return [1.1 * x - 0.4 * x * y, 0.1 * x * y - 0.4 * y]


# --- recovery -------------------------------------------------------------------------------


def test_lorenz_recovered_exactly_from_clean_data():
    t = np.arange(2000) * 0.01
    X = simulate(lorenz, [-8.0, 8.0, 27.0], t)
    model = discover_ode(t, X, names=["x", "y", "z"])
    x, y, z = sp.symbols("x y z", real=True)
    assert_system(model, [10 * (y - x), x * (28 - z) - y, x * y - sp.Rational(8, 3) * z], 1e-4)
    assert model.info["differentiator"].startswith("auto: finite differences")
    assert model.sources == ["sparse"] * 3
    eqs = model.equations
    assert isinstance(eqs[0], sp.Eq) and isinstance(eqs[0].lhs, sp.Derivative)
    assert "dz/dt = x*y - 2.66667*z" in str(model)
    assert model.score(t, X) > 0.99999
    assert model.valid_prediction_time(t[:800], X[:800]) > 5.0


def test_noisy_lotka_volterra_with_the_automatic_differentiator():
    t = np.linspace(0, 40, 2000)
    X = simulate(lotka_volterra, [10.0, 5.0], t)
    rng = np.random.default_rng(0)
    Xn = X + 0.02 * X.std(axis=0) * rng.normal(size=X.shape)
    model = discover_ode(t, Xn, names=["x", "y"])
    assert "Tikhonov" in model.info["differentiator"]
    assert 0.01 < max(model.info["noise"]) < 0.04  # 2% noise, measured from the data alone
    assert_system(model, lv_truth(), 0.05)
    # constants are printed only to the digits the noise supports
    assert len(str(model.rhs_exprs()[0].args[0]).split(".")[-1].rstrip("*xy")) <= 4


def test_several_trajectories():
    t = np.linspace(0, 8, 300)
    ics = [[10.0, 5.0], [4.0, 2.0], [2.0, 8.0]]
    Xs = [simulate(lotka_volterra, ic, t) for ic in ics]
    model = discover_ode([t, t, t], Xs, names=["x", "y"], degree=2)
    assert model.info["n_trajectories"] == 3
    assert_system(model, lv_truth(), 1e-3)
    assert model.score([t] * 3, Xs) > 0.9999


@pytest.mark.parametrize("formulation", ["weak", "derivative"])
def test_uneven_time_steps(formulation):
    rng = np.random.default_rng(1)
    t = np.cumsum(rng.uniform(0.01, 0.03, 1500))
    X = simulate(lotka_volterra, [10.0, 5.0], t)
    model = discover_ode(t, X, names=["x", "y"], degree=2, formulation=formulation)
    assert model.info["formulation"] == formulation
    assert_system(model, lv_truth(), 1e-3)


def test_user_terms_and_sparse_choice_without_threshold():
    # dx/dt = -sin(x) is outside the polynomial library; given as a term it is chosen alone.
    t = np.linspace(0, 6, 600)
    Xs = [simulate(lambda _t, v: [-np.sin(v[0])], [a], t) for a in (0.5, 2.0, 3.0)]
    model = discover_ode([t] * 3, Xs, names=["x"], degree=2, terms=["sin(x)"], symbolic=False)
    expr = model.rhs_exprs(rounded=False)[0]
    assert expr.free_symbols == {sp.Symbol("x", real=True)}
    assert abs(float(expr.coeff(sp.sin(sp.Symbol("x", real=True)))) + 1) < 1e-4
    assert len(sp.Add.make_args(expr)) == 1


def test_symbolic_regression_when_the_library_falls_short():
    # dx/dt = exp(-x): the cubic library cannot match it over this range; symbolic regression can.
    t = np.linspace(0, 5, 400)
    Xs = [simulate(lambda _t, v: [np.exp(-v[0])], [a], t) for a in (-2.0, 0.0, 1.5)]
    model = discover_ode([t] * 3, Xs, names=["x"], symbolic_evals=40_000)
    assert model.info["poor_sparse_fit"] == [True]
    assert model.sources == ["symbolic"]
    xs = np.linspace(-2, 3, 50)[:, None]
    assert np.allclose(model.rhs(xs)[:, 0], np.exp(-xs[:, 0]), rtol=1e-3, atol=1e-4)


def test_symbolic_budget_is_counted_in_evaluations_and_reproducible():
    t = np.linspace(0, 5, 300)
    Xs = [simulate(lambda _t, v: [np.exp(-v[0])], [a], t) for a in (-2.0, 0.0, 1.5)]
    runs = [discover_ode([t] * 3, Xs, names=["x"], symbolic_evals=15_000,
                         symbolic_search=None, random_state=3) for _ in range(2)]
    assert str(runs[0]) == str(runs[1])
    assert runs[0].info["symbolic_evals"] == runs[1].info["symbolic_evals"]
    n, searches = runs[0].info["symbolic_evals"][0], runs[0].info["symbolic_searches"][0]
    assert 1 <= searches <= 4
    assert n <= searches * (15_000 + 6_000)  # each search stops within an epoch of its budget
    with pytest.raises(ValueError, match="symbolic_evals"):
        discover_ode([t] * 3, Xs, names=["x"], symbolic_evals=0)
    with pytest.raises(ValueError, match="symbolic_time"):
        discover_ode([t] * 3, Xs, names=["x"], symbolic_time=-1.0)


def test_symbolic_fallback_recovers_a_damped_pendulum_exactly():
    # dv/dt = -sin(x) - 0.5*v: the sine is outside the cubic library over this swing, so the
    # fallback must find it, and the constants must snap to exactly -1 and -0.5.
    t = np.linspace(0, 8, 400)
    f = lambda _t, s: [s[1], -np.sin(s[0]) - 0.5 * s[1]]  # noqa: E731
    Xs = [simulate(f, ic, t) for ic in ([2.5, 0.0], [-2.0, 1.5], [1.0, -2.5])]
    model = discover_ode([t] * 3, Xs, names=["x", "v"], symbolic_evals=60_000)
    x, v = sp.symbols("x v", real=True)
    assert model.info["poor_sparse_fit"] == [False, True]
    assert model.sources[1] in ("symbolic", "hybrid")
    got = model.rhs_exprs(rounded=False)
    assert sp.simplify(got[1] - (-sp.sin(x) - v / 2)) == 0, got[1]


def test_terms_found_for_one_equation_serve_the_others():
    # A stand-in search that always offers dx/dt's law: right for dx/dt, useless for dy/dt,
    # which needs its sin(x) times y. The hybrid step (library + found terms x monomials)
    # must then find dy/dt by sparse regression.
    from eurisko.dynamics.symbolic import Candidate

    x, y = sp.symbols("x y", real=True)
    law = 0.3 * y - sp.sin(x)

    class OneFormula:
        restarts = 0

        def candidates(self, X_train, y_train, X_val, y_val, names, random_state=0):
            f = sp.lambdify([x, y], law)
            self.last_search_ = {"n_evals": 1, "seconds": 0.0, "stop_reason": "stub"}
            return [Candidate(law, lambda X: f(*np.asarray(X).T), 6, np.nan, "symbolic")]

    t = np.linspace(0, 6, 300)
    rhs = lambda _t, s: [0.3 * s[1] - np.sin(s[0]), -0.5 * s[1] * np.sin(s[0]) - 0.2 * s[0]]  # noqa: E731
    Xs = [simulate(rhs, ic, t) for ic in ([2.8, 1.0], [-2.5, 2.0], [1.0, -2.5])]
    model = discover_ode([t] * 3, Xs, names=["x", "y"], symbolic_search=OneFormula())
    assert model.sources == ["symbolic", "hybrid"]
    got = model.rhs_exprs(rounded=False)
    assert sp.simplify(got[0] - law) == 0
    want = {y * sp.sin(x): -0.5, x: -0.2}
    assert len(sp.Add.make_args(got[1])) == 2, got[1]
    for term, c in want.items():
        assert abs(float(got[1].coeff(term)) - c) < 1e-6, got[1]
    np.testing.assert_allclose(model.rhs(Xs[0][:20]), np.array([rhs(0, s) for s in Xs[0][:20]]),
                               rtol=1e-5, atol=1e-6)


def test_snapping_finds_short_constants_in_the_expanded_form_and_phases():
    from eurisko.dynamics.symbolic import found_terms, product_terms, simplest_form

    x, y = sp.symbols("x y", real=True)
    rng = np.random.default_rng(0)
    P = rng.uniform(0.5, 2.5, (200, 2))

    def scorer(truth):
        want = sp.lambdify((x, y), truth)(P[:, 0], P[:, 1])

        def score(e):
            got = sp.lambdify((x, y), e)(P[:, 0], P[:, 1])
            return float(np.mean((got - want) ** 2))
        return score

    truth = (sp.cos(y) ** 2 + sp.sin(y) ** 2 / 10) * sp.sin(x)
    found = 0.900000013 * (1.111111108 - sp.sin(y) ** 2) * sp.sin(x)
    assert sp.simplify(simplest_form(found, scorer(truth)) - truth) == 0
    found = x + sp.cos(y + 3.14158) / x  # a phase of pi is a sign
    assert simplest_form(found, scorer(x - sp.cos(y) / x)) == x - sp.cos(y) / x
    terms = found_terms([-0.075 * y**2 + y - y / (x + 1), -sp.sin(y) - sp.sin(x - y) / 2],
                        [x, y])
    assert set(terms) == {1 / (x + 1), sp.sin(y), sp.sin(x - y)}
    prods = product_terms(terms, [x, y], 2, 100)
    assert len(prods) == 18 and x * y / (x + 1) in prods


def test_sparse_regression_prefers_fewer_terms_on_noise():
    rng = np.random.default_rng(3)
    theta = rng.normal(size=(600, 8))
    y = 2.0 * theta[:, 1] - 0.5 * theta[:, 4] + 0.05 * rng.normal(size=600)
    (fit,) = SparseRegression().fit(theta, y, np.repeat(np.arange(5), 120))
    assert sorted(fit.support.tolist()) == [1, 4]
    assert abs(fit.coef[1] - 2.0) < 0.02 and abs(fit.coef[4] + 0.5) < 0.02


# --- differentiators ------------------------------------------------------------------------


@pytest.mark.parametrize("uneven", [False, True])
def test_differentiators_follow_the_true_derivative(uneven):
    rng = np.random.default_rng(2)
    t = np.sort(rng.uniform(0, 10, 800)) if uneven else np.linspace(0, 10, 800)
    x = np.column_stack([np.sin(t), np.cos(2 * t)])
    dx = np.column_stack([np.cos(t), -2 * np.sin(2 * t)])
    _, d = FiniteDifference(order=4)(t, x)
    assert np.max(np.abs(d - dx)) < 1e-3
    noisy = x + 0.01 * rng.normal(size=x.shape)
    for D in (SavitzkyGolay(), SmoothingSpline(), Tikhonov()):
        xs, d = D(t, noisy)
        inner = slice(20, -20)
        assert np.sqrt(np.mean((d - dx)[inner] ** 2)) < 0.1, D.describe()
        assert np.sqrt(np.mean((xs - x)[inner] ** 2)) < 0.01, D.describe()
    # raw differences of noisy data are far worse: smoothing is doing the work
    _, d = FiniteDifference(order=2)(t, noisy)
    assert np.sqrt(np.mean((d - dx) ** 2)) > 0.3


def test_noise_estimate_and_automatic_choice():
    t = np.linspace(0, 20, 2000)
    x = np.column_stack([np.sin(t), 3 * np.cos(0.7 * t)])
    rng = np.random.default_rng(4)
    sigma = np.array([0.02, 0.1])
    est = estimate_noise(t, x + sigma * rng.normal(size=x.shape))
    assert np.all(np.abs(est / sigma - 1) < 0.15)
    assert np.all(estimate_noise(t, x) < 1e-5)
    auto = AutoDifferentiator()
    auto(t, x)
    assert isinstance(auto.chosen_, FiniteDifference)
    auto(t, x + sigma * rng.normal(size=x.shape))
    assert isinstance(auto.chosen_, Tikhonov)


# --- simulation -----------------------------------------------------------------------------


def _model(expr_text: str, evaluator=None) -> ODEModel:
    x = sp.Symbol("x", real=True)
    expr = sp.sympify(expr_text, locals={"x": x})
    return ODEModel(["x"], [Equation(expr, "given", 4, evaluator)])


def test_simulate_reports_divergence_instead_of_hanging():
    model = _model("x**2")  # x(t) = 1 / (1 - t) blows up at t = 1
    t = np.linspace(0, 2, 201)
    with pytest.warns(SimulationWarning, match="left"):
        X = model.simulate([1.0], t)
    assert np.isfinite(X[t < 0.9]).all() and np.isnan(X[t > 1.01]).all()
    res = model.simulate_result([1.0], t)
    assert res.status == "diverged" and 0.9 < res.t_end < 1.01
    np.testing.assert_allclose(X[t < 0.9, 0], 1 / (1 - t[t < 0.9]), rtol=1e-5)


def test_simulate_stops_at_the_wall_clock_limit():
    def slow(X):
        time.sleep(0.002)
        return -X[:, 0] * 1e4 * np.cos(X[:, 0])  # stiff and slow to evaluate

    model = _model("-x", evaluator=slow)
    started = time.monotonic()
    res = model.simulate_result([1.0], np.linspace(0, 1e3, 50), time_limit=0.3, method="RK45")
    assert time.monotonic() - started < 5
    assert res.status == "time_limit" and np.isnan(res.x[-1]).all()


def test_model_round_trips_through_json():
    t = np.arange(1500) * 0.01
    X = simulate(lorenz, [-8.0, 8.0, 27.0], t)
    model = discover_ode(t, X, names=["x", "y", "z"], degree=2)
    again = ODEModel.from_dict(json.loads(model.to_json()))
    np.testing.assert_allclose(again.rhs(X[:50]), model.rhs(X[:50]), rtol=1e-9)
    assert str(again) == str(model)


# --- bad input ------------------------------------------------------------------------------


@pytest.mark.parametrize("make, message", [
    (lambda t, X: (t[::-1], X), "strictly increasing"),
    (lambda t, X: (t, np.where(np.arange(len(t))[:, None] == 5, np.nan, X)), "NaN"),
    (lambda t, X: (t[:1], X[:1]), "1 sample"),
    (lambda t, X: (t[:-3], X), "one time per row"),
    (lambda t, X: ([t, t], [X, X[:, :1]]), "same state columns"),
    (lambda t, X: (np.r_[t[:3], t[2], t[4:]], X), "repeats"),
])
def test_bad_input_gets_advice(make, message):
    t = np.linspace(0, 5, 100)
    X = np.column_stack([np.sin(t), np.cos(t)])
    tt, XX = make(t, X)
    with pytest.raises(ValueError, match=message):
        discover_ode(tt, XX)


def test_bad_names_and_options():
    t = np.linspace(0, 5, 100)
    X = np.column_stack([np.sin(t), np.cos(t)])
    with pytest.raises(ValueError, match="2 state columns"):
        discover_ode(t, X, names=["x"])
    with pytest.raises(ValueError, match="cannot be used"):
        discover_ode(t, X, names=["x", "t"])
    with pytest.raises(ValueError, match="formulation"):
        discover_ode(t, X, formulation="integral")
    with pytest.raises(ValueError, match="unknown differentiator"):
        discover_ode(t, X, differentiator="magic")
    with pytest.raises(ValueError, match="library term"):
        discover_ode(t, X, terms=["sin(q)"])


def test_no_stray_warnings_on_clean_fit():
    t = np.arange(1200) * 0.01
    X = simulate(lorenz, [-8.0, 8.0, 27.0], t)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model = discover_ode(t, X, names=["x", "y", "z"], degree=2)
        model.simulate(X[0], t[:300])
