"""Tests of eurisko.constants: closed forms, no false claims, continued fractions.

Every expected value is computed here independently with mpmath (never taken from the code under
test); the searches run on 60 digits and take about a second each.
"""

from __future__ import annotations

import random

import mpmath
import pytest
import sympy

from eurisko.constants import (
    continued_fraction,
    find_continued_fractions,
    identify,
    parse_constant,
)

mpmath.mp.dps = 120
TRUTH_DIGITS = 100

# Feigenbaum's delta (not in mpmath): OEIS A006890.
FEIGENBAUM = ("4.669201609102990671853203820466201617258185577475768632745651343004134330211314"
              "737138689744023948013817165984855189815134408627142027932522312442988890890859944")


def digits_of(value: mpmath.mpf, n: int = 60) -> str:
    """The first n significant digits of a value, as identify would be given them."""
    with mpmath.workdps(n + 20):
        return mpmath.nstr(value, n, min_fixed=-100, max_fixed=100, strip_zeros=False)


def random_digits(n: int, seed: int) -> str:
    rng = random.Random(seed)
    return "0." + "".join(rng.choice("0123456789") for _ in range(n))


def agrees(formula: sympy.Expr, truth: mpmath.mpf, digits: int = TRUTH_DIGITS) -> bool:
    """Whether a SymPy formula equals the true value to ``digits`` digits (more than given)."""
    with mpmath.workdps(digits + 10):
        value = mpmath.mpf(str(sympy.N(formula, digits + 10)))
        return abs(value - truth) <= abs(truth) * mpmath.mpf(10) ** (-digits)


# --- identify ---------------------------------------------------------------------------------

BAR = {
    "phi": lambda: (1 + mpmath.sqrt(5)) / 2,
    "sqrt2+sqrt3": lambda: mpmath.sqrt(2) + mpmath.sqrt(3),
    "e/(e-2)": lambda: mpmath.e / (mpmath.e - 2),
    "coth(1)": lambda: mpmath.coth(1),
    "ln(1+sqrt2)": lambda: mpmath.log(1 + mpmath.sqrt(2)),
    "pi*e": lambda: mpmath.pi * mpmath.e,
}


@pytest.mark.parametrize("name", list(BAR))
def test_identify_first_answer_is_correct(name):
    truth = BAR[name]()
    res = identify(digits_of(truth, 60))
    assert res, f"nothing found for {name}"
    best = res[0]
    assert agrees(best.formula, truth), f"{name}: {best.formula} is wrong"
    assert best.digits_verified == 60
    assert best.digits_searched < 60  # found with fewer digits than it was checked against
    assert best.complexity <= 50
    assert [r.complexity for r in res] == sorted(r.complexity for r in res)


def test_identify_expression_input_and_negative_numbers():
    res = identify(parse_constant("-pi^2/6"), digits=40)
    assert res and agrees(res[0].formula, -mpmath.pi ** 2 / 6)
    assert res[0].digits_verified > 40  # expressions are re-verified with more digits
    assert res[0].latex() == sympy.latex(res[0].formula)


@pytest.mark.parametrize("name, value", [
    ("khinchin", lambda: mpmath.khinchin),
    ("feigenbaum", lambda: mpmath.mpf(FEIGENBAUM)),
    ("random", lambda: mpmath.mpf(random_digits(60, seed=7))),
])
def test_no_false_claims(name, value):
    res = identify(digits_of(value(), 60))
    assert list(res) == [], f"false claim for {name}: {res[0]}"
    # it searched every shape before giving up
    assert {"algebraic", "mobius", "power-product", "pairs", "groups"} <= set(res.stats["stages"])
    assert not res.timed_out


def test_a_wrong_digit_means_no_claim():
    good = digits_of(mpmath.pi, 60)
    k = len(good) - 4  # corrupt a digit the search never saw, only the verification
    bad = good[:k] + str((int(good[k]) + 5) % 10) + good[k + 1:]
    assert identify(good) and agrees(identify(good)[0].formula, mpmath.pi)
    assert list(identify(bad)) == []


def test_too_few_digits_for_a_complex_claim():
    # 1 + 2·π with 14 digits is simple enough; (3·π² - 7)/(5·π² + 11) is not (it would need
    # more than the 4 digits of budget left at 14 digits).
    simple = identify(digits_of(1 + 2 * mpmath.pi, 14))
    assert simple and agrees(simple[0].formula, 1 + 2 * mpmath.pi)
    hard = (3 * mpmath.pi ** 2 - 7) / (5 * mpmath.pi ** 2 + 11)
    assert list(identify(digits_of(hard, 14))) == []
    found = identify(digits_of(hard, 40))
    assert found and agrees(found[0].formula, hard)


def test_time_limit_and_progress():
    seen = []
    res = identify(digits_of(mpmath.khinchin, 60), time_limit=0.05, progress=seen.append)
    assert res.timed_out and list(res) == []
    assert seen and seen[-1].finished


@pytest.mark.parametrize("bad, error, words", [
    ("3.14159", ValueError, "at least 12"),
    ("hello", ValueError, "not a number"),
    ("0.000000000000000", ValueError, "zero"),
    ("1" * 20_000, ValueError, "at most"),
    ("1.234567890123456e5000", ValueError, "out of the range"),
    (3, TypeError, "integer"),
    (None, TypeError, "string of digits"),
    ([1.5], TypeError, "string of digits"),
    (float("inf"), ValueError, "finite"),
])
def test_bad_input(bad, error, words):
    with pytest.raises(error, match=words):
        identify(bad)


@pytest.mark.parametrize("text", ["__import__('os').system('true')", "().__class__",
                                  "open('x')", "zeta(3", "foo(2)", "x + 1", "9**9**9**9",
                                  "1/0", "lambda: 1"])
def test_parse_constant_refuses_anything_but_arithmetic(text):
    with pytest.raises(ValueError):
        identify(parse_constant(text))


# --- continued fractions ------------------------------------------------------------------


def pcf_numeric(a: sympy.Expr, b: sympy.Expr, terms: int) -> mpmath.mpf:
    """a(0) + b(1)/(a(1) + b(2)/(...)), evaluated backwards, independently of the library."""
    n = sympy.Symbol("n")
    fa, fb = sympy.lambdify(n, a), sympy.lambdify(n, b)
    value = mpmath.mpf(fa(terms))
    for k in range(terms - 1, -1, -1):
        value = fa(k) + fb(k + 1) / value
    return value


def test_pcf_search_small_space_finds_euler_fraction_for_pi():
    res = find_continued_fractions(parse_constant("pi"), family="general", a_degree=1,
                                   b_degree=2, coeff_bound=2, mobius_bound=4)
    assert res.stats["pcf_space"] > 1000  # a real search over the box, not a lookup
    assert res, "no continued fraction found for pi"
    for r in res:  # every answer: its fraction equals its formula (computed independently)
        with mpmath.workdps(60):
            value = pcf_numeric(r.a, r.b, 400)
            assert agrees(r.formula, value, 50), (r.formula, r.a, r.b)
    n = sympy.Symbol("n")
    assert any(sympy.expand(r.a - (2 * n + 1)) == 0 and sympy.expand(r.b - n ** 2) == 0
               for r in res)


def test_pcf_search_finds_apery_for_zeta3():
    res = find_continued_fractions(parse_constant("zeta(3)"), family="symmetric", a_degree=3,
                                   coeff_bound=20, digits=100)
    assert res
    best = res[0]
    assert agrees(best.formula, 6 / mpmath.zeta(3))
    with mpmath.workdps(120):
        assert agrees(best.formula, pcf_numeric(best.a, best.b, 100), 100)
    assert best.digits_verified >= 150


def test_cf_search_and_simple_continued_fraction_of_e():
    e60 = digits_of(mpmath.e, 60)
    q = continued_fraction(e60)
    assert q[:9] == [2, 1, 2, 1, 1, 4, 1, 1, 6]
    expected = [2] + [v for k in range(1, 40) for v in (1, 2 * k, 1)]
    assert q == expected[:len(q)] and len(q) > 30
    res = find_continued_fractions(e60, search="cf")
    assert res
    for r in res[:3]:
        assert r.kind == "cf" and r.digits_verified == 60
        x = sympy.Symbol("x")
        assert agrees(r.formula.subs(x, sympy.E), _cf_from_rule(r), 55)


def _cf_from_rule(r) -> mpmath.mpf:
    q = list(r.quotients)
    while len(q) < 300:
        q.append(sum(c * q[-1 - i] for i, c in enumerate(r.recurrence)))
    value = mpmath.mpf(q[-1])
    for k in range(len(q) - 2, -1, -1):
        value = q[k] + r.signs[k % len(r.signs)] / value
    return value


def test_pcf_search_bad_options():
    with pytest.raises(ValueError, match="family"):
        find_continued_fractions(parse_constant("pi"), family="nope")
    with pytest.raises(ValueError, match="50,000,000"):
        find_continued_fractions(parse_constant("pi"), family="general", a_degree=3,
                                 b_degree=4, coeff_bound=20)
