"""Scaling data to ordinary magnitudes and writing formulas back in the user's units."""

from __future__ import annotations

import math
import random

import numpy as np
import pytest

from eurisko.evaluate.reference import eval_program
from eurisko.expr.operators import DEFAULT_OPERATORS
from eurisko.expr.parser import parse
from eurisko.expr.printing import to_string
from eurisko.search.mutation import Grammar
from eurisko.search.scaling import Scaling, decimal_snapped


def test_ordinary_magnitudes_are_left_alone():
    rng = np.random.default_rng(0)
    X = np.column_stack([rng.uniform(1, 3, 50), rng.uniform(300, 900, 50),
                         rng.uniform(0.002, 0.006, 50), np.zeros(50),
                         np.logspace(-200, 200, 50)])  # many decades around 1
    s = Scaling.of(X, rng.uniform(-900, 900, 50))
    assert s.identity and s.x_exps == (0,) * 5
    Xs, ys = s.scale_data(X, X[:, 0])
    assert Xs is X and ys is not None
    assert s.loss_from_user(2.5) == 2.5 and float(s.loss_to_user(2.5)) == 2.5


def test_extreme_magnitudes_get_powers_of_two():
    X = np.column_stack([np.linspace(1, 2, 10) * 1e-200, np.linspace(1, 2, 10) * 1e200])
    s = Scaling.of(X, np.full(10, 1e300))
    assert s.y_exp == round(math.log2(1e300))
    assert s.x_exps == (round(math.log2(math.sqrt(2) * 1e-200)),
                        round(math.log2(math.sqrt(2) * 1e200)))
    Xs, ys = s.scale_data(X, np.full(10, 1e300))
    assert np.all((Xs > 0.5) & (Xs < 2.9)) and np.all((ys > 0.7) & (ys < 1.5))
    np.testing.assert_array_equal(np.ldexp(Xs, np.array(s.x_exps)), X)  # exact
    assert Scaling.of(np.ones((3, 1)), np.full(3, 1.7e308)).y_exp == 1000  # at most 2**1000
    assert Scaling.from_dict(s.to_dict()) == s and Scaling.from_dict(None).identity
    assert s.loss_to_user(1.0) == np.inf  # beyond float64: inf, no warning
    assert s.loss_from_user(1e-10) == 0.0


def test_written_back_formulas_compute_the_same_values():
    rng = np.random.default_rng(1)
    X = np.column_stack([rng.uniform(1, 2, 40) * 1e-30, rng.uniform(1, 2, 40) * 1e25,
                         rng.uniform(1, 2, 40)])
    s = Scaling(y_exp=-70, x_exps=Scaling.of(X, np.ones(40)).x_exps)
    assert s.x_exps[2] == 0 and s.x_exps[0] < 0 < s.x_exps[1]
    Xs, _ = s.scale_data(X, np.ones(40))
    grammar = Grammar(DEFAULT_OPERATORS + ("inv",), n_features=3)
    r = random.Random(0)
    checked = 0
    for _ in range(300):
        p = grammar.random_tree(r, r.randint(1, 15))
        with np.errstate(all="ignore"):
            want = np.ldexp(eval_program(p, np.ascontiguousarray(Xs.T)), s.y_exp)
            got = eval_program(s.to_user(p), np.ascontiguousarray(X.T))
            gathered = np.ldexp(eval_program(s.columns_back(p, gather=True),
                                             np.ascontiguousarray(X.T)), s.y_exp)
        ok = np.isfinite(want) & (np.abs(want) > 1e-280)
        if ok.all():
            np.testing.assert_allclose(got, want, rtol=1e-9, err_msg=to_string(p))
            if np.isfinite(gathered).all():  # products of raw columns may overflow
                np.testing.assert_allclose(gathered, want, rtol=1e-9, err_msg=to_string(p))
            checked += 1
    assert checked > 100


def test_a_formula_in_user_terms_enters_the_search_with_the_same_values():
    rng = np.random.default_rng(2)
    X = np.column_stack([rng.uniform(1, 2, 40) * 1e-30, rng.uniform(1, 2, 40) * 1e25,
                         rng.uniform(1, 2, 40)])
    s = Scaling(y_exp=-70, x_exps=Scaling.of(X, np.ones(40)).x_exps)
    Xs, _ = s.scale_data(X, np.ones(40))
    grammar = Grammar(DEFAULT_OPERATORS, n_features=3)
    r = random.Random(1)
    checked = 0
    for _ in range(200):
        p = grammar.random_tree(r, r.randint(1, 12))
        with np.errstate(all="ignore"):
            want = np.ldexp(eval_program(p, np.ascontiguousarray(X.T)), -s.y_exp)
            got = eval_program(s.to_search(p), np.ascontiguousarray(Xs.T))
        ok = np.isfinite(want) & (np.abs(want) > 1e-280) & (np.abs(want) < 1e280)
        if ok.all():
            np.testing.assert_allclose(got, want, rtol=1e-9, err_msg=to_string(p))
            checked += 1
    assert checked > 50


def test_gathered_factors_make_one_constant():
    s = Scaling(x_exps=(3, -2, 5))
    p = parse("2*x0*x1/square(x2)")
    assert to_string(s.columns_back(p)) == "0.25*x0*(4*x1)/(0.03125*x2)^2"
    assert to_string(s.columns_back(p, gather=True)) == "1024*x0*x1/x2^2"
    q = parse("sin(x0) + x1")  # unequal factors of a sum stay with their terms
    assert to_string(s.columns_back(q, gather=True)) == "sin(0.125*x0) + 4*x1"
    big = Scaling(x_exps=(1000, 1000))  # 2**-2000 is not a double: substituted instead
    assert to_string(big.columns_back(parse("x0*x1"), gather=True)) == to_string(
        big.columns_back(parse("x0*x1")))


def test_output_factor_goes_into_constants():
    s = Scaling(y_exp=10)
    assert to_string(s.output_back(parse("3*x0 + 1/x0"))) == "3072*x0 + 1024/x0"
    assert to_string(s.output_back(parse("sin(x0)"))) == "1024*sin(x0)"
    assert to_string(s.output_back(parse("sqrt(0.25*x0)"))) == "sqrt(262144*x0)"
    # y = exp(x) searched as y/2**575 = b*exp(x - c): b and c merge, cancel and vanish
    s = Scaling(y_exp=575)
    c = 117.64764393811969
    p = parse(f"{math.ldexp(math.exp(c), -575)!r}*exp(x0 - {c!r})")
    merged = to_string(s.output_back(p, merge=True))
    assert merged.startswith("exp(x0 + ") and abs(float(merged[9:-1])) < 1e-12
    assert to_string(s.output_back(p, merge=True, cancel=True)) == "exp(x0)"
    assert to_string(s.output_back(p)) == f"{math.exp(c)!r}*exp(x0 - {c!r})"  # b takes it
    q = s.output_to_search(parse("exp(x0)"))
    x = np.array([[1.0, 300.0, 400.0]])
    np.testing.assert_array_equal(eval_program(q, x), np.ldexp(np.exp(x[0]), -575))


@pytest.mark.parametrize("y_exp", [-996, 998])
def test_loss_units_round_trip_exactly(y_exp):
    s = Scaling(y_exp=y_exp)
    for loss in (1e-30, 0.5, 3.0):
        user = s.loss_to_user(loss)
        if np.isfinite(user) and user > 0:
            assert s.loss_from_user(user) == loss


def test_constants_next_to_short_decimals_are_snapped():
    p = parse("6.67399999999999e-11*x0 + 9.999999999999999e-301 + 0.123456789012345")
    q = decimal_snapped(p)
    assert q.consts.tolist() == [6.674e-11, 1e-300, 0.123456789012345]
    assert decimal_snapped(q) is None
