"""Fixed-form templates: parsing and its errors, and fits that keep the outer form.

Fast seeded fits with ``max_evals``; each test says what it would catch."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import sympy as sp
from sklearn.base import clone

from eurisko import SymbolicRegressor
from eurisko.expr.operators import VAR
from eurisko.expr.parser import parse
from eurisko.expr.template import Template, with_hole_scaling
from eurisko.search.template import TemplateGrammar, unscaled_variants

NAMES = ["x0", "x1", "x2"]


def quick(**kw) -> SymbolicRegressor:
    params = dict(time_limit=None, max_evals=40000, n_jobs=1, random_state=0,
                  population_size=40, n_islands=2)
    params.update(kw)
    return SymbolicRegressor(**params)


@pytest.fixture(scope="module")
def gauss():
    rng = np.random.default_rng(0)
    X = rng.uniform(0.5, 2.0, (200, 3))
    return X, (X[:, 0] + X[:, 1] ** 2) * np.exp(-0.5 * X[:, 2])


# --- parsing ------------------------------------------------------------------------------

def test_parse_holes_params_and_fixed_numbers():
    t = Template.parse("f(x0, x1) * exp(?*g(x2)) + 2", NAMES)
    assert t.hole_names == ("f", "g") and t.hole_vars == ((0, 1), (2,))
    assert t.n_params == 1 and t.fixed == (2.0,) and t.n_columns == 4
    f, g = parse("a + b^2", ["a", "b"]), parse("square(a)", ["a"])
    p = t.compose([f, g], [-0.5])
    holes, params = t.split(p)
    assert params == [-0.5]
    assert [h.codes.tolist() for h in holes] == [f.codes.tolist(), g.codes.tolist()]
    assert holes[1].args.tolist()[0] == 0  # g's x2 is its own variable 0
    # the fixed 2 is column 3 while searching, and a constant once written back
    assert 3 in p.args[p.codes == VAR].tolist()
    assert t.written(p).n_consts == 2 and not (t.written(p).args[t.written(p).codes == VAR]
                                               >= 3).any()
    # a formula whose g uses x0 is not of the form
    wrong = Template.parse("f(x0, x1) * exp(?*g(x0))", NAMES).compose([f, g], [1.0])
    assert t.split(wrong) is None


@pytest.mark.parametrize(("text", "needle"), [
    ("f(x0) * f(x1)", "'f' appears more than once"),
    ("f(x0) * exp(g(x9))", "takes variable names as arguments, found 'x9'"),
    ("f(x0) * foo", "unknown name 'foo'"),
    ("f(x0 + 1)", "expected ',' or ')'"),
    ("f(x0) * ", "found the end of the formula"),
    ("x0 * 2", "has no function to search"),
    ("f(x0) $ 2", "unexpected character '$'"),
    ("f(x0, x0)", "names 'x0' twice"),
    ("x1(x0) * x2", "'x1' at column 1 is a variable"),
])
def test_parse_errors_are_one_line(text, needle):
    with pytest.raises(ValueError, match=None) as e:
        Template.parse(text, NAMES)
    msg = str(e.value)
    assert needle in msg and "\n" not in msg, msg


def test_mutations_touch_only_the_holes_and_their_variables():
    # every child of every operation keeps the outer form and each hole's own variables
    import random

    t = Template.parse("f(x0, x1) * exp(?*g(x2)) - 1", NAMES)
    g = TemplateGrammar(["add", "sub", "mul", "div", "exp", "sin"], t).within(None, 40)
    rng = random.Random(0)
    pop = [g.random_tree(rng, 8) for _ in range(20)]
    for _ in range(300):
        p, q = rng.choice(pop), rng.choice(pop)
        for child in (g.point(p, rng), g.subtree(p, rng, 40), g.insert(p, rng),
                      g.delete(p, rng), g.hoist(p, rng), g.crossover(p, q, rng, 40),
                      g.perturb_constants(p, rng)):
            if child is None:
                continue
            child = g.simplified(child)
            assert g.template.matches(child) and t.matches(child)
            pop.append(child)
    assert len({p.codes.tobytes() for p in pop}) > 50  # the holes did evolve


def test_unscaled_variants_keep_the_form():
    t = Template.parse("f(x0) * exp(g(x2))", NAMES)
    s = with_hole_scaling(t)
    p = s.compose([parse("x0"), parse("x0")], [2.0, 3.0])
    variants = unscaled_variants(t, p)
    assert all(t.matches(q) for q in variants)
    assert min(len(q) for q in variants) == 4  # x0*exp(x2): both scales dropped
    assert len(variants) == 4  # all kept, all dropped, one dropped, the other


# --- fits ---------------------------------------------------------------------------------

def _exact(model: SymbolicRegressor, truth: str) -> bool:
    x0, x1, x2 = sp.symbols("x0 x1 x2")
    expr = sp.nsimplify(model.sympy(), rational=True, tolerance=1e-8)
    return sp.simplify(expr - sp.sympify(truth, locals={"x0": x0, "x1": x1, "x2": x2})) == 0


def test_template_fit_recovers_the_law_and_keeps_the_form(gauss):
    X, y = gauss
    tmpl = "f(x0, x1) * exp(g(x2))"
    model = quick(template=tmpl).fit(X, y)
    assert _exact(model, "(x0 + x1**2)*exp(-x2/2)"), model.pareto_front_
    t = Template.parse(tmpl, NAMES)
    for p, eq in zip(model.programs_, model.pareto_front_["equation"], strict=True):
        assert t.matches(p), eq  # the outer form in every row of the front
        f, g = t.split(p)[0]
        # each hole uses only its variables (split checks it; and the holes are in their own)
        assert (f.args[f.codes == VAR] < 2).all() and (g.args[g.codes == VAR] < 1).all()
    # only the symmetry tests inside the functions may run (the rest would search parts in
    # another form), and 200 rows are too few for them
    branches = model.decomposition_["branches"]
    assert [b["kind"] for b in branches] == ["symmetry", "plain"]
    assert "rows" in branches[0]["skipped"]


def test_question_marks_are_fitted_and_numbers_stay(gauss):
    X, y = gauss
    model = quick(template="f(x0, x1) * exp(?*g(x2))").fit(X, y)
    assert model.pareto_front_["r2"].iloc[model.best_index_] > 1 - 1e-10
    assert _exact(model, "(x0 + x1**2)*exp(-x2/2)")
    parts = model.template_parts()
    assert set(parts) == {"f", "g", "?"} and len(parts["?"]) == 1
    x0, x1, x2, c = sp.symbols("x0 x1 x2 c")
    f = sp.sympify(parts["f"].replace("^", "**"))
    g = sp.sympify(parts["g"].replace("^", "**"))
    assert f.free_symbols <= {x0, x1} and g.free_symbols <= {x2}
    # the ? is fitted: whatever g is (x2, 0.5*x2, ...), ? * g is -x2/2
    assert sp.simplify(sp.nsimplify(parts["?"][0] * g, rational=True, tolerance=1e-8)
                       + x2 / 2) == 0
    # a fixed number that is wrong stays wrong: the fit cannot reach the data
    off = quick(template="f(x0, x1) * exp(3*g(x2)) + 7", max_evals=8000).fit(X, y)
    for i, eq in enumerate(off.pareto_front_["equation"]):
        assert eq.rstrip().endswith("+ 7"), eq
        assert set(off.template_parts(i)) == {"f", "g"}  # the 3 and 7 are no ? to fit
    t = Template.parse("f(x0, x1) * exp(3*g(x2)) + 7", NAMES)
    assert all(t.split(p) is None for p in off.programs_)  # 3 and 7 are constants now...
    assert all(p.consts.tolist().count(7.0) == 1 for p in off.programs_)  # ...never refitted


def test_dataframe_names_and_guesses(gauss):
    X, y = gauss
    df = pd.DataFrame(X, columns=["a", "b", "sigma"])
    with pytest.warns(UserWarning, match="guess 'a\\*b' does not have the template's form"):
        model = quick(template="f(a, b) * exp(g(sigma))", max_evals=3000).fit(
            df, y, guesses=["(a + b^2)*exp(-0.4*sigma)", "a*b"])
    assert model.pareto_front_["r2"].max() > 1 - 1e-10  # the guess of the form, refitted
    assert "sigma" in model.pareto_front_["equation"].iloc[-1]


def test_template_errors_at_fit(gauss):
    X, y = gauss
    with pytest.raises(ValueError, match="f.*more than once"):
        quick(template="f(x0) + f(x1)").fit(X, y)
    with pytest.raises(ValueError, match="not supported together"):
        quick(template="f(x0, x1, x2)").fit(X, y, X_units=["m", "m", "m"], y_units="m")
    with pytest.raises(TypeError, match="template must be a str"):
        quick(template=3).fit(X, y)
    with pytest.raises(ValueError, match="max_size=6 is below the smallest formula"):
        quick(template="f(x0) * exp(g(x1)) + h(x2)", max_size=6).fit(X, y)
    with pytest.warns(UserWarning, match="does not have the template's form"):
        quick(template="f(x0, x1) * exp(g(x2))", max_evals=500).fit(X, y, guesses=["x0 + x2"])
    with pytest.raises(ValueError, match="needs a fit with a template"):
        quick(max_evals=500).fit(X, y).template_parts()


def test_clone_and_get_params_keep_the_template():
    m = SymbolicRegressor(template="f(x0) * exp(g(x1))")
    assert m.get_params()["template"] == "f(x0) * exp(g(x1))"
    assert clone(m).template == "f(x0) * exp(g(x1))"
    assert clone(m.set_params(template=None)).template is None


def test_saved_run_keeps_the_template(gauss, tmp_path):
    X, y = gauss
    model = quick(template="f(x0, x1) * exp(g(x2))", max_evals=3000, run_dir=tmp_path).fit(X, y)
    again = SymbolicRegressor.from_run(tmp_path)
    assert again.template == model.template
    assert list(again.pareto_front_["equation"]) == list(model.pareto_front_["equation"])
    np.testing.assert_allclose(again.predict(X), model.predict(X))


def test_two_outputs_each_keep_the_form(gauss):
    X, y = gauss
    model = quick(template="f(x0, x1) * exp(?*g(x2))", max_evals=6000).fit(
        X, np.column_stack([y, 2 * y]))
    t = Template.parse("f(x0, x1) * exp(?*g(x2))", NAMES)
    for est in model.estimators_:
        assert all(t.matches(p) for p in est.programs_)
    parts = model.template_parts()
    assert len(parts) == 2 and all(set(d) == {"f", "g", "?"} for d in parts)


def test_warm_start_goes_on_within_the_form(gauss):
    X, y = gauss
    model = quick(template="f(x0, x1) * exp(g(x2))", max_evals=3000, warm_start=True)
    model.fit(X, y)
    n = model.n_evals_
    model.set_params(max_evals=8000).fit(X, y)
    assert model.n_evals_ > n
    t = Template.parse("f(x0, x1) * exp(g(x2))", NAMES)
    assert all(t.matches(p) for p in model.programs_)


# --- symmetries inside the functions -------------------------------------------------------

def test_only_variables_of_one_function_alone_may_merge():
    from eurisko._decompose import _own_columns

    names = [f"x{i}" for i in range(6)]
    t = Template.parse("f(x0, x1) * exp(g(x1, x2, x3)) + x4 * h(x4, x5)", names)
    # x1 is in two functions and x4 in the outer form: a symmetry in them is not a function's
    assert _own_columns(t) == {0: 0, 2: 1, 3: 1, 5: 2}


def test_a_symmetry_inside_a_function_is_found_and_written_back_in_the_form():
    """y depends on x1 and x2 only through x2 - x1, inside g: the tests merge the pair, the
    search on the merged table finds g of one variable, and the law comes back in the user's
    variables with the template's form. Fails if the tests do not run with a template, if
    they test pairs outside one function, or if the write-back breaks the form."""
    rng = np.random.default_rng(1)
    X = np.column_stack([rng.uniform(1, 3, 600), rng.uniform(-2, 2, 600),
                         rng.uniform(-2, 2, 600)])
    y = X[:, 0] * np.exp(-0.5 * (X[:, 2] - X[:, 1]) ** 2)
    tmpl = "f(x0) * exp(g(x0, x1, x2))"
    model = quick(template=tmpl, max_evals=60000, exact_fit_tol=1e-12).fit(X, y)
    sym = model.decomposition_["branches"][0]
    assert sym["kind"] == "symmetry" and len(sym["accepted"]) == 1, sym
    assert sorted(p for q in sym["tested"] for p in q["pair"]).count("x0") == 0, sym["tested"]
    assert sym["searches"][0]["template"].startswith("f(x0) * exp(g(x0, ")
    assert model.decomposition_["found_by"] == "symmetry"
    assert _exact(model, "x0*exp(-(x2 - x1)**2/2)"), model.pareto_front_
    t = Template.parse(tmpl, NAMES)
    assert all(t.parts(p) is not None for p in model.programs_)


def test_a_guess_writes_the_templates_numbers_as_numbers(recwarn):
    """The template's plain numbers are columns while searching; a user's guess has them as
    numbers and must still count as of the form (it was left out with a warning)."""
    rng = np.random.default_rng(2)
    X = rng.uniform(0.5, 2.0, (100, 2))
    y = X[:, 0] * (np.exp(X[:, 1] / 2) - 1)
    model = quick(template="f(x0) * (exp(g(x1)) - 1)", max_evals=500).fit(
        X, y, guesses=["x0*(exp(0.4*x1) - 1)"])
    assert not [w for w in recwarn if "template's form" in str(w.message)]
    assert model.pareto_front_["r2"].iloc[model.best_index_] > 1 - 1e-12
