"""bench/: SRBench's exact-recovery rule, its time limit, and the Feynman problem loader."""

from __future__ import annotations

import time

import numpy as np
import pytest
import sympy as sp

from eurisko.bench import exact
from eurisko.bench.exact import check_recovery, is_exact_recovery, symbols_of
from eurisko.bench.feynman import load_problem, load_problems, parse_formula

x = sp.Symbol("x", real=True)
y = sp.Symbol("y", real=True)
GAUSS = sp.exp(-x**2 / 2) / sp.sqrt(2 * sp.pi)


@pytest.mark.parametrize("model, truth", [
    (0.39894 * sp.exp(-0.5 * x**2), GAUSS),  # factor 0.399*sqrt(2*pi), inner 0.5 exact
    (x + 2.0001, x),  # constant offset
    (3.7 * x**2 * sp.sin(y), x**2 * sp.sin(y)),  # constant factor
    (1.0000002 * x * y + 3e-7, x * y),  # linear-scaling residue rounds away
    (x * (1 + y) - x, x * y),  # needs simplify
    (sp.exp(-0.50004 * x**2), sp.exp(-x**2 / 2)),  # inner constant right to 3 decimals
    (0.02653 * x / y, x / (12 * sp.pi * y)),  # 4 significant digits: 3 decimals would be 0.027
])
def test_exact_models_count(model, truth):
    result = check_recovery(model, truth)
    assert result.exact, result.reason
    assert is_exact_recovery(model, truth)


@pytest.mark.parametrize("model, truth", [
    (x**2, x**3),
    (sp.Integer(0), GAUSS),  # 0 never counts, though 0/truth is constant
    (0.00001 * x + x**2, x),  # 3 decimals drop the tiny term, but x**2 stays wrong
    (sp.exp(-0.49 * x**2), sp.exp(-x**2 / 2)),  # inner constant off
    (0.39894 * sp.exp(-0.5 * x**2) + 0.01 * x, GAUSS),
    (sp.Float(2.5), x),  # constant model
    (x + y, x),
    # a constant below 1e-4 rounds to 0 under log: the rounded model is nan, which SymPy
    # calls constant (a front row of a real I.40.1 run passed this way)
    (0.34 * (sp.sin(sp.sin(sp.log(5.57e-05 * x / y) / 1.65)) + 0.7) ** 2 * y,
     y * sp.exp(-y / x)),
    (sp.log(0.00002 * x) * x, x),
])
def test_wrong_models_do_not_count(model, truth):
    assert not is_exact_recovery(model, truth)


def test_variables_match_by_name_whatever_their_assumptions():
    plain = sp.Symbol("x")
    assert is_exact_recovery(2.0 * x, plain)
    assert symbols_of(x + y) == {"x": x, "y": y}


def test_positive_variables_are_an_option():
    c, v = sp.symbols("c v", real=True)
    model, truth = c / sp.sqrt(c**2 - v**2), 1 / sp.sqrt(1 - v**2 / c**2)
    ranges = {"c": (3.0, 10.0), "v": (1.0, 2.0)}
    assert not is_exact_recovery(model, truth, ranges=ranges)  # c/|c| for real c
    assert is_exact_recovery(model, truth, ranges=ranges, positive=True)


def test_in_process_check_and_input_errors():
    assert is_exact_recovery(x + 1.0, x, timeout=None)
    with pytest.raises(TypeError, match="SymPy expression"):
        is_exact_recovery("x", x)
    with pytest.raises(ValueError, match="timeout"):
        is_exact_recovery(x, x, timeout=0)


@pytest.fixture
def helper_module(tmp_path, monkeypatch):
    (tmp_path / "bench_exact_helpers.py").write_text(
        "import os, time\n"
        "def slow(payload):\n    time.sleep(3600)\n"
        "def crash(payload):\n    os._exit(3)\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    exact.shutdown_worker()  # the next worker must see the helper module
    yield
    exact.shutdown_worker()


def test_timeout_counts_as_not_recovered_and_the_worker_recovers(helper_module, monkeypatch):
    assert is_exact_recovery(x + 1.0, x)  # worker up
    monkeypatch.setattr(exact, "_CHECK_TARGET", "bench_exact_helpers:slow")
    t0 = time.monotonic()
    result = check_recovery(x + 1.0, x, timeout=0.5)
    assert not result.exact and "timed out" in result.reason
    assert time.monotonic() - t0 < 60  # did not wait for the hour-long check
    monkeypatch.setattr(exact, "_CHECK_TARGET", "eurisko.bench.exact:_check_payload")
    assert is_exact_recovery(x + 1.0, x)  # a fresh worker took over


def test_a_crashing_check_is_not_a_crash(helper_module, monkeypatch):
    monkeypatch.setattr(exact, "_CHECK_TARGET", "bench_exact_helpers:crash")
    result = check_recovery(x, x, timeout=30)
    assert not result.exact and "exited" in result.reason


# --- Feynman problems ---------------------------------------------------------------------


def test_feynman_problem_loads_and_samples():
    p = load_problem("I.6.2a")
    assert p.name == "I.6.2a" and p.dataset == "feynman_I_6_2a" and p.variables == ("theta",)
    assert p.ranges == {"theta": (1.0, 3.0)}
    theta = p.symbols[0]
    assert sp.simplify(p.formula - sp.exp(-theta**2 / 2) / sp.sqrt(2 * sp.pi)) == 0
    X, yv = p.sample(50, seed=1)
    assert list(X.columns) == ["theta"] and yv.shape == (50,)
    assert X["theta"].between(1.0, 3.0).all()
    np.testing.assert_allclose(yv, np.exp(-X["theta"] ** 2 / 2) / np.sqrt(2 * np.pi))
    X2, y2 = p.sample(50, seed=1)
    np.testing.assert_array_equal(yv, y2)
    assert is_exact_recovery(0.3989 * sp.exp(-0.5 * theta**2), p.formula, ranges=p.ranges)


def test_all_feynman_problems_parse_and_sample_finite():
    problems = load_problems()
    assert len(problems) >= 99
    for p in problems:
        assert {s.name for s in p.formula.free_symbols} <= set(p.variables), p.name
        _, yv = p.sample(20, seed=0)
        assert np.isfinite(yv).all(), p.name


def test_feynman_names_and_directory(tmp_path, monkeypatch):
    assert load_problem("feynman_I_10_7").name == load_problem("I_10_7").name == "I.10.7"
    with pytest.raises(ValueError, match="no Feynman problem"):
        load_problem("I.99.99")
    monkeypatch.setenv("EURISKO_FEYNMAN_DIR", str(tmp_path))
    (tmp_path / "feynman_T_1.yaml").write_text(
        "dataset: feynman_T_1\ndescription: |\n    f = a*ln(b)\n\n    a in [1.0,2.0]\n"
        "    b in [2.0,3.0]\nfeatures:\n  - name: a\n  - name: b\n")
    p = load_problem("T.1")
    a, b = p.symbols
    assert p.formula == a * sp.log(b) and p.ranges["b"] == (2.0, 3.0)


@pytest.mark.parametrize("text", ["__import__('os')", "open('x')", "x.__class__", "eval('1')"])
def test_formula_parser_is_a_whitelist(text):
    with pytest.raises(ValueError):
        parse_formula(text, ["x"])


def test_formula_parser_reads_operon_and_pmlb_spellings():
    assert parse_formula("(1.5 * x) ^ 2 + arcsin(x)", ["x"]) == (1.5 * x) ** 2 + sp.asin(x)
    assert parse_formula("3/5*x", ["x"], rational=True) == sp.Rational(3, 5) * x
    assert parse_formula("0.25*x", ["x"], rational=True) == x / 4


def test_a_model_undefined_where_the_law_is_real_is_screened_out():
    # sqrt(x - 5) is imaginary on all of [1, 3]: numbers can say no without SymPy
    assert exact._screen(sp.sqrt(x - 5), x, [x], {"x": (1.0, 3.0)}) == (False, False)
    assert exact._screen(2 * x, x, [x], {"x": (1.0, 3.0)}) == (False, True)  # ratio 2
