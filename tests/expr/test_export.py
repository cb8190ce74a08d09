"""Exports (numpy, C, PyTorch, JAX, LaTeX table) against the reference evaluator, which is what
`SymbolicRegressor.predict` runs: per operator, on random programs, and on every formula of
saved fronts of the ten named Feynman laws (``tests/data/feynman_fronts``).

torch and jax are optional extras: their tests are skipped, with the reason, where absent; the
C tests need a C compiler (``cc``).
"""

from __future__ import annotations

import ctypes
import json
import shutil
import subprocess
import tempfile
from pathlib import Path

import numpy as np
import pytest

from eurisko.evaluate.reference import eval_program
from eurisko.expr import CONST, VAR, from_tree, op_code, parse, register_operator, registry
from eurisko.expr import operators as operators_module
from eurisko.expr.export import latex_table, numpy_source, to_c, to_jax, to_numpy, to_pytorch
from eurisko.expr.program import Program

FRONTS = Path(__file__).resolve().parents[1] / "data" / "feynman_fronts" / "fronts.json"
RTOL = 1e-6  # the bar: every export agrees with predict to 1e-6 relative


def reference(p: Program, X: np.ndarray) -> np.ndarray:
    """What predict computes: the reference evaluator on the columns."""
    out = eval_program(p, np.ascontiguousarray(np.asarray(X, dtype=np.float64).T))
    return np.broadcast_to(out, (len(X),))


def assert_agrees(got, want, rtol: float = RTOL, what: str = "") -> None:
    """Same NaN and infinities, finite values within ``rtol`` (relative)."""
    got = np.asarray(got, dtype=np.float64)
    np.testing.assert_array_equal(np.isnan(got), np.isnan(want), err_msg=f"{what}: NaN")
    fin = np.isfinite(want)
    np.testing.assert_array_equal(got[~fin & ~np.isnan(want)], want[~fin & ~np.isnan(want)],
                                  err_msg=f"{what}: infinities")
    np.testing.assert_allclose(got[fin], want[fin], rtol=rtol, atol=0, err_msg=what)


# --- the exporters, as functions X -> y ------------------------------------------------------


def _numpy(p, names, fixed=None):
    return to_numpy(p, names, fixed=fixed)


def _numpy_file(p, names, fixed=None):
    namespace: dict = {}
    exec(compile(numpy_source(p, names, fixed=fixed), "formula.py", "exec"), namespace)
    return namespace["f"]


def _c(p, names, fixed=None, tmp=None):
    cc = shutil.which("cc") or shutil.which("gcc")
    if cc is None:
        pytest.skip("C export: no C compiler (cc) on this machine")
    # a new file per formula: dlopen hands back the library already loaded from a path
    d = Path(tempfile.mkdtemp(dir=tmp))
    (d / "f.c").write_text(to_c(p, names, fixed=fixed))
    subprocess.run([cc, "-std=c99", "-O2", "-shared", "-fPIC", "-o", str(d / "f.so"),
                    str(d / "f.c"), "-lm"], check=True, capture_output=True)
    lib = ctypes.CDLL(str(d / "f.so"))

    def f(X):
        X = np.ascontiguousarray(X, dtype=np.float64)
        y = np.empty(len(X))
        lib.f_rows(X.ctypes.data_as(ctypes.c_void_p), ctypes.c_long(len(X)),
                   y.ctypes.data_as(ctypes.c_void_p))
        return y

    return f


def _torch(p, names, fixed=None):
    torch = pytest.importorskip("torch", reason="PyTorch export: pip install 'eurisko[torch]'")
    module = to_pytorch(p, names, fixed=fixed)
    return lambda X: module(torch.as_tensor(X)).detach().numpy()


def _jax(p, names, fixed=None):
    jax = pytest.importorskip("jax", reason="JAX export: pip install 'eurisko[jax]'")
    jax.config.update("jax_enable_x64", True)
    fn, params = to_jax(p, names, fixed=fixed)
    return lambda X: np.asarray(fn(X, params))


EXPORTERS = {"numpy": _numpy, "numpy_file": _numpy_file, "c": _c, "torch": _torch, "jax": _jax}


@pytest.fixture(params=list(EXPORTERS))
def exporter(request, tmp_path):
    make = EXPORTERS[request.param]
    if request.param == "c":
        return lambda p, names, fixed=None: make(p, names, fixed, tmp=tmp_path)
    return make


# --- per operator -----------------------------------------------------------------------------


def _operator_cases():
    for op in registry():
        if op.arity == 1:
            yield op.name, f"1.3*{op.name}(0.6*a - 0.2) + b"
        else:
            yield op.name, f"1.3*{op.name}(0.6*a - 0.2, b) + c"


@pytest.mark.parametrize(("name", "text"), list(_operator_cases()),
                         ids=[n for n, _ in _operator_cases()])
def test_every_operator_exports_as_the_reference_computes_it(exporter, name, text):
    rng = np.random.default_rng(1)
    X = rng.uniform(-2.5, 2.5, (300, 3))
    X[:5] = [[np.nan, 1.0, 1.0], [1 / 3, 1.0, 1.0], [-1.5, -1.0, 0.0], [0.0, 0.0, 0.0],
             [50.0, 2.0, -1.0]]  # NaN, a tie of max/min, a pole of gamma, a zero, overflow
    p = parse(text, ["a", "b", "c"])
    want = reference(p, X)
    assert_agrees(exporter(p, ["a", "b", "c"])(X), want, rtol=1e-12, what=name)


def random_program(rng: np.random.Generator, size: int) -> Program:
    """A random program of about ``size`` nodes over every operator, three variables."""
    ops = registry()

    def grow(budget: int):
        if budget <= 1:
            if rng.random() < 0.4:
                return (CONST, float(np.round(rng.uniform(-2, 2), 3)))
            return (VAR, int(rng.integers(3)))
        op = ops[int(rng.integers(len(ops)))]
        if op.arity == 1:
            return (op_code(op.name), grow(budget - 1))
        left = int(rng.integers(1, max(2, budget - 1)))
        return (op_code(op.name), grow(left), grow(max(1, budget - 1 - left)))

    return from_tree(grow(size))


def test_random_programs_export_as_the_reference_computes_them(exporter):
    rng = np.random.default_rng(5)
    X = rng.uniform(0.5, 2.5, (64, 3))
    checked = 0
    for _ in range(40):
        p = random_program(rng, int(rng.integers(1, 16)))
        want = reference(p, X)
        with np.errstate(all="ignore"):
            # compared where the value is not a knife edge: nudging the inputs by 1e-12
            # (relative) moves it by less than 1e-9; a last-bit libm difference is harmless
            again = reference(p, X * (1 + 1e-12))
            stable = np.isclose(want, again, rtol=1e-9, atol=0) & np.isfinite(want)
        got = np.asarray(exporter(p, ["x0", "x1", "x2"])(X), dtype=np.float64)
        np.testing.assert_allclose(got[stable], want[stable], rtol=1e-8, atol=0,
                                   err_msg=str(p.to_dict()))
        assert (np.isnan(got) == np.isnan(want)).mean() > 0.95
        checked += int(stable.sum())
    assert checked > 1000


def test_fixed_columns_are_bound_and_constant_formulas_broadcast(exporter):
    p = parse("G*m1*m2/r^2", ["m1", "m2", "r", "G"])
    X = np.random.default_rng(2).uniform(1, 3, (20, 3))
    want = reference(p, np.c_[X, np.full(20, 6.674e-11)])
    assert_agrees(exporter(p, ["m1", "m2", "r", "G"], {"G": 6.674e-11})(X), want, 1e-12)
    assert_agrees(exporter(parse("2.5"), ["m1", "m2", "r"])(X), np.full(20, 2.5), 0)


# --- on the saved fronts of the ten named Feynman laws ----------------------------------------


def _laws():
    return json.loads(FRONTS.read_text())["laws"]


@pytest.mark.parametrize("law", _laws(), ids=[law["name"] for law in _laws()])
def test_exports_agree_with_predict_on_the_ten_feynman_fronts(exporter, law):
    names = law["variable_names"]
    programs = [Program.from_dict(row["program"]) for row in law["front"]]
    # evaluation has not drifted since the fronts were saved with predict
    check_X = np.array(law["check_X"])
    for p, saved in zip(programs, law["check_predict"], strict=True):
        saved = np.array([np.nan if v is None else v for v in saved])
        np.testing.assert_allclose(reference(p, check_X), saved, rtol=1e-12)
    rng = np.random.default_rng(3)
    X = np.column_stack([rng.uniform(*law["ranges"][c], 200) for c in law["columns"]])
    for p, row in zip(programs, law["front"], strict=True):
        assert_agrees(exporter(p, names)(X), reference(p, X), what=row["equation"])


# --- numpy, C, torch and jax specifics --------------------------------------------------------


def test_numpy_file_needs_only_numpy_and_checks_its_input():
    src = numpy_source(parse("sqrt(a)*b", ["a", "b"]), ["a", "b"])
    assert "import eurisko" not in src and "from eurisko" not in src
    assert "scipy" not in src  # imported only for erf and gamma
    assert "import scipy.special" in numpy_source(parse("erf(a)", ["a"]), ["a"])
    namespace: dict = {}
    exec(compile(src, "formula.py", "exec"), namespace)
    with pytest.raises(ValueError, match="2 column"):
        namespace["f"](np.ones((3, 3)))
    f = to_numpy(parse("sqrt(a)*b", ["a", "b"]), ["a", "b"], feature_names=["a", "b"])
    with pytest.raises(ValueError, match="columns"):
        import pandas as pd

        f(pd.DataFrame({"b": [1.0], "a": [2.0]}))
    assert "sqrt(a)*b" in repr(f) and f.source == src


@pytest.mark.parametrize(("call", "kwargs", "match"), [
    (to_numpy, {"names": ["x 1"]}, "not an identifier"),
    (to_c, {"names": ["a"], "fixed": {"q": 1.0}}, "not a column"),
    (to_c, {"names": ["a"], "fixed": {"a": "one"}}, "must be a number"),
    (to_c, {"names": ["a"], "function_name": "f-1"}, "C identifier"),
    (numpy_source, {"names": "a"}, "not a str"),
])
def test_bad_arguments_give_one_line_advice(call, kwargs, match):
    with pytest.raises((ValueError, TypeError), match=match):
        call(parse("2*x0"), **kwargs)


@pytest.fixture
def scratch_registry(monkeypatch):
    """Register operators for one test only: the registry is restored afterwards."""
    monkeypatch.setattr(operators_module, "_REGISTRY", list(operators_module._REGISTRY))
    monkeypatch.setattr(operators_module, "_BY_NAME", dict(operators_module._BY_NAME))
    monkeypatch.setattr(operators_module, "_CODE_BY_NAME", dict(operators_module._CODE_BY_NAME))
    yield
    operators_module._TABLES.clear()
    operators_module._FINGERPRINT.clear()


def test_custom_operators_export_where_they_have_code(scratch_registry, tmp_path):
    import sympy as sp

    register_operator("softsign", 1, numpy=lambda a: a / (1 + np.abs(a)),
                      sympy=lambda a: a / (1 + sp.Abs(a)), scalar="a / (1.0 + abs(a))")
    p = parse("2*softsign(x0)")
    X = np.linspace(-3, 3, 7)[:, None]
    want = reference(p, X)
    np.testing.assert_array_equal(to_numpy(p)(X), want)  # its numpy function, bound in
    with pytest.raises(ValueError, match="no numpy code.*exports="):
        numpy_source(p)  # a lambda cannot be written to a file
    assert_agrees(_c(p, None, tmp=tmp_path)(X), want, 1e-15)  # C derived from its SymPy form
    with pytest.raises(ValueError, match="no torch code"):
        pytest.importorskip("torch", reason="PyTorch export: pip install 'eurisko[torch]'")
        to_pytorch(p)
    with pytest.raises(ValueError, match="exports must map"):
        register_operator("bad", 1, numpy=np.abs, sympy=sp.Abs, scalar="abs(a)",
                          exports={"fortran": "abs(a)"})


def test_c_code_reads_like_c():
    text = to_c(parse("max(a, -2.5)*exp(b) + nan", ["a", "b"]), ["a", "b"],
                function_name="law")
    assert "#include <math.h>" in text and "double law(const double *x)" in text
    assert "void law_rows(const double *X, long n, double *y)" in text
    assert "(-2.5)" in text and "x[0] = a" in text


def test_pytorch_module_trains_its_constants():
    torch = pytest.importorskip("torch", reason="PyTorch export: pip install 'eurisko[torch]'")
    p = parse("1.0*exp(0.5*x0) + 0.0")
    X = torch.linspace(0, 2, 50, dtype=torch.float64)[:, None]
    y = 2.0 * torch.exp(-1.5 * X[:, 0]) + 0.3
    module = to_pytorch(p)
    assert [n for n, _ in module.named_parameters()] == ["constants"]
    opt = torch.optim.LBFGS(module.parameters(), max_iter=500, tolerance_grad=1e-14,
                            tolerance_change=1e-16, line_search_fn="strong_wolfe")

    def closure():
        opt.zero_grad()
        loss = ((module(X) - y) ** 2).mean()
        loss.backward()
        return loss

    opt.step(closure)
    np.testing.assert_allclose(module.constants.detach().numpy(), [2.0, -1.5, 0.3], rtol=1e-5)
    assert module.formula(3) == "2*exp(-1.5*x0) + 0.3"
    # autograd's gradient is the Jacobian Levenberg-Marquardt uses
    from eurisko.evaluate.base import Dataset
    from eurisko.evaluate.reference import NumpyBackend
    from eurisko.expr.program import ProgramBatch

    q = parse("1.3*gamma(0.6*x0 + 0.9) + max(0.2*x0, 0.45)")  # (no tie: torch splits it)
    m = to_pytorch(q)
    Xn = np.linspace(0.5, 2.5, 30)[:, None]
    m(torch.as_tensor(Xn)).sum().backward()
    _, jac = NumpyBackend().jacobian(ProgramBatch.from_programs([q]),
                                     Dataset.from_arrays(Xn, np.zeros(30)))
    np.testing.assert_allclose(m.constants.grad.numpy(), jac.sum(axis=1), rtol=1e-9)
    with pytest.raises(ValueError, match="1 column"):
        m(torch.ones(3, 2, dtype=torch.float64))


def test_jax_function_jits_and_differentiates():
    jax = pytest.importorskip("jax", reason="JAX export: pip install 'eurisko[jax]'")
    jax.config.update("jax_enable_x64", True)
    p = parse("2.5*sin(x0) + erf(0.5*x1)")
    fn, params = to_jax(p)
    X = np.random.default_rng(4).uniform(-2, 2, (40, 2))
    np.testing.assert_allclose(np.asarray(jax.jit(fn)(X, params)), reference(p, X), rtol=1e-13)
    grad = jax.grad(lambda c: fn(X, c).sum())(params)
    np.testing.assert_allclose(np.asarray(grad)[0], np.sin(X[:, 0]).sum(), rtol=1e-12)


def test_latex_table():
    progs = [parse("a", ["a", "b"]), parse("2.5*a^2/b", ["a", "b"])]
    text = latex_table(progs, ["a", "b"], columns={"Complexity": [1, 7],
                                                  "Loss": [0.25, 1.5e-9]})
    lines = text.splitlines()
    assert lines[0] == r"\begin{table}[h]" and r"\toprule" in lines and r"\bottomrule" in lines
    assert "Equation & Complexity & Loss \\\\" in lines
    assert r"$y = \frac{2.5 a^{2}}{b}$ & 7 & $1.5 \cdot 10^{-9}$ \\" in lines
    with pytest.raises(ValueError, match="one per formula"):
        latex_table(progs, ["a", "b"], columns={"Loss": [1.0]})
    with pytest.raises(ValueError, match="at least one"):
        latex_table([], ["a"])
