"""The estimator's views of its formulas: names kept as given, plain SymPy symbols, and the
exports (numpy, C, PyTorch, JAX, LaTeX table) agreeing with ``predict``."""

from __future__ import annotations

import ctypes
import shutil
import subprocess
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import sympy as sp

from eurisko import SymbolicRegressor
from eurisko.evaluate.reference import eval_program
from eurisko.expr import parse

COLUMNS = ["lambda_", "I_", "E", "S", "beta", "x 1"]


def quick(**kw) -> SymbolicRegressor:
    params = dict(time_limit=None, max_evals=20000, n_jobs=1, random_state=0,
                  population_size=40, n_islands=2)
    params.update(kw)
    return SymbolicRegressor(**params)


@pytest.fixture(scope="module")
def named_fit():
    rng = np.random.default_rng(0)
    X = pd.DataFrame(rng.uniform(1, 3, (200, len(COLUMNS))), columns=COLUMNS)
    y = X["lambda_"] * X["I_"] + X["E"]
    return X, y, quick().fit(X, y)


def test_names_are_kept_as_given(named_fit):
    X, y, model = named_fit
    # identifiers stay exactly as given, trailing underscores included; "x 1" is no
    # identifier: its space becomes _
    assert model.variable_names_ == ["lambda_", "I_", "E", "S", "beta", "x_1"]
    eq = model.pareto_front_["equation"].iloc[model.best_index_]
    assert "lambda_" in eq and "I_" in eq, eq
    for i, text in enumerate(model.pareto_front_["equation"]):  # every row reads back
        p = parse(text, model.variable_names_)
        got = eval_program(p, np.ascontiguousarray(X.to_numpy().T))
        np.testing.assert_allclose(np.broadcast_to(got, len(X)), model.predict(X, i),
                                   rtol=1e-12)
    assert model.score(X, y) > 1 - 1e-10


def test_sympy_symbols_are_the_users(named_fit):
    X, _, model = named_fit
    expr = model.sympy()
    lam, I_, E = sp.Symbol("lambda_"), sp.Symbol("I_"), sp.Symbol("E")
    assert {lam, I_, E} <= expr.free_symbols
    assert not expr.has(sp.I) and not expr.has(sp.E)  # I_ is not i, E is not e
    at = expr.subs({lam: 2, I_: 3, E: 1})  # subs with the user's own Symbols works
    assert at.free_symbols == set() and float(at) == pytest.approx(7.0, rel=1e-9)
    row = X.iloc[:1]
    f = sp.lambdify([sp.Symbol(n) for n in model.variable_names_], expr, "numpy")
    assert f(*row.to_numpy()[0]) == pytest.approx(model.predict(row)[0], rel=1e-12)
    real = model.sympy(real=True)
    assert all(s.is_real for s in real.free_symbols)
    assert sp.simplify(real.xreplace({s: sp.Symbol(s.name) for s in real.free_symbols})
                       - expr) == 0


def _c_predict(model, i, X, tmp_path):
    cc = shutil.which("cc") or shutil.which("gcc")
    if cc is None:
        pytest.skip("C export: no C compiler (cc) on this machine")
    d = Path(tempfile.mkdtemp(dir=tmp_path))  # a new path: dlopen caches by path
    (d / "f.c").write_text(model.c_code(i))
    subprocess.run([cc, "-std=c99", "-shared", "-fPIC", "-o", str(d / "f.so"),
                    str(d / "f.c"), "-lm"], check=True, capture_output=True)
    lib = ctypes.CDLL(str(d / "f.so"))
    Xc = np.ascontiguousarray(X, dtype=np.float64)
    y = np.empty(len(Xc))
    lib.f_rows(Xc.ctypes.data_as(ctypes.c_void_p), ctypes.c_long(len(Xc)),
               y.ctypes.data_as(ctypes.c_void_p))
    return y


def test_every_export_agrees_with_predict_on_every_row(named_fit, tmp_path):
    _, _, model = named_fit
    X = pd.DataFrame(np.random.default_rng(1).uniform(0.5, 3.5, (300, len(COLUMNS))),
                     columns=COLUMNS)
    for i in range(len(model.programs_)):
        want = model.predict(X, i)
        np.testing.assert_allclose(model.numpy(i)(X), want, rtol=1e-12)
        np.testing.assert_allclose(model.numpy(i)(X.to_numpy()), want, rtol=1e-12)
        np.testing.assert_allclose(_c_predict(model, i, X, tmp_path), want, rtol=1e-12)
    with pytest.raises(ValueError, match="columns"):
        model.numpy()(X[COLUMNS[::-1]])  # as predict, the columns are checked by name


def test_pytorch_and_jax_agree_with_predict(named_fit):
    X, _, model = named_fit
    torch = pytest.importorskip("torch", reason="PyTorch export: pip install 'eurisko[torch]'")
    module = model.pytorch()
    np.testing.assert_allclose(module(torch.tensor(X.to_numpy())).detach().numpy(),
                               model.predict(X), rtol=1e-12)
    assert module.constants.requires_grad
    jax = pytest.importorskip("jax", reason="JAX export: pip install 'eurisko[jax]'")
    jax.config.update("jax_enable_x64", True)
    fn, params = model.jax()
    np.testing.assert_allclose(np.asarray(fn(X.to_numpy(), params)), model.predict(X),
                               rtol=1e-12)


def test_latex_table_of_the_front(named_fit):
    _, _, model = named_fit
    text = model.latex_table()
    rows = [ln for ln in text.splitlines() if ln.startswith("$y = ")]
    assert len(rows) == len(model.programs_)
    assert r"\lambda_{}" in text  # SymPy's LaTeX of lambda_
    assert len([ln for ln in model.latex_table(indices=[0, -1]).splitlines()
                if ln.startswith("$y = ")]) == 2
    with pytest.raises(IndexError, match="not in the Pareto front"):
        model.latex_table(indices=[99])


def test_exports_need_a_fitted_model():
    from sklearn.exceptions import NotFittedError

    for method in ("numpy", "c_code", "latex_table", "pytorch", "jax"):
        with pytest.raises(NotFittedError):
            getattr(SymbolicRegressor(), method)()


def test_exports_of_a_template_fit_agree_with_predict(tmp_path):
    # a fixed number (a data column during the search) and a fitted ?: every export writes
    # both back as constants of the formula
    rng = np.random.default_rng(3)
    X = rng.uniform(0.5, 2.0, (200, 2))
    y = (X[:, 0] + 1) * np.exp(-0.5 * X[:, 1] ** 2) + 0.3
    model = quick(template="f(x0) * exp(-0.5 * g(x1)) + ?").fit(X, y)
    Xn = rng.uniform(0.5, 2.0, (100, 2))
    for i in range(len(model.programs_)):
        want = model.predict(Xn, i)
        np.testing.assert_allclose(model.numpy(i)(Xn), want, rtol=1e-12)
        np.testing.assert_allclose(_c_predict(model, i, Xn, tmp_path), want, rtol=1e-12)
        f = sp.lambdify([sp.Symbol(n) for n in model.variable_names_], model.sympy(i), "numpy")
        np.testing.assert_allclose(np.broadcast_to(f(*Xn.T), len(Xn)), want, rtol=1e-9)
