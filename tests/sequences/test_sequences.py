"""Tests of eurisko.sequences: the rules it finds, the ones it must not claim, its errors.

The true terms are computed here from the definitions (sums of binomials, the Bell triangle, a
sieve), never from the rules under test; every guess is checked on terms it was not given.
"""

from __future__ import annotations

import math
import random
from fractions import Fraction

import pytest
import sympy as sp

from eurisko.sequences import guess, parse_terms
from eurisko.sequences._linalg import Echelon, rank_mod_p

n = sp.Symbol("n", integer=True)
x = sp.Symbol("x")
a = sp.Function("a")
G = sp.Function("G")


# --- the truth ----------------------------------------------------------------------------


def fibonacci(count: int) -> list[int]:
    f = [0, 1]
    while len(f) < count:
        f.append(f[-1] + f[-2])
    return f[:count]


def catalan(count: int) -> list[int]:
    return [math.comb(2 * k, k) // (k + 1) for k in range(count)]


def motzkin(count: int) -> list[int]:
    return [sum(math.comb(k, 2 * j) * (math.comb(2 * j, j) // (j + 1)) for j in range(k // 2 + 1))
            for k in range(count)]


def apery(count: int) -> list[int]:
    return [sum(math.comb(k, j) ** 2 * math.comb(k + j, j) ** 2 for j in range(k + 1))
            for k in range(count)]


def derangements(count: int) -> list[int]:
    return [sum((-1) ** j * math.factorial(k) // math.factorial(j) for j in range(k + 1))
            for k in range(count)]


def bell(count: int) -> list[int]:
    row, out = [1], [1]
    while len(out) < count:
        new = [row[-1]]
        for v in row:
            new.append(new[-1] + v)
        row = new
        out.append(row[0])
    return out[:count]


def partitions(count: int) -> list[int]:
    p = [1] + [0] * count
    for k in range(1, count + 1):
        for m in range(k, count + 1):
            p[m] += p[m - k]
    return p[:count]


def primes(count: int) -> list[int]:
    out, k = [], 2
    while len(out) < count:
        if all(k % q for q in out if q * q <= k):
            out.append(k)
        k += 1
    return out


# --- helpers ------------------------------------------------------------------------------


def recurrence_holds(eq, seq: list[int], offset: int, start: int) -> bool:
    """Whether the SymPy recurrence holds at every n from start on, on the true terms."""
    calls = sorted(eq.atoms(sp.core.function.AppliedUndef), key=str)
    for m in range(start, offset + len(seq)):
        values = {}
        for c in calls:
            idx = int(c.args[0].subs(n, m))
            if idx - offset < 0:
                return False
            values[c] = seq[idx - offset]
        if sp.simplify((eq.lhs - eq.rhs).subs(values).subs(n, m)) != 0:
            return False
    return True


def closed_form_matches(expr, seq: list[int], offset: int = 0) -> bool:
    return all(sp.simplify(expr.subs(n, offset + k) - v) == 0 for k, v in enumerate(seq))


def series_matches(expr, seq: list[int]) -> bool:
    s = sp.series(expr, x, 0, len(seq)).removeO()
    return [s.coeff(x, k) for k in range(len(seq))] == seq


# --- the bar sequences, from their first 20 terms -----------------------------------------


def test_fibonacci_recurrence_binet_and_rational_gf():
    truth = fibonacci(40)
    g = guess(truth[:20])
    assert g, g.reason
    best = g[0]
    assert best.recurrence == sp.Eq(a(n), a(n - 1) + a(n - 2))
    assert best.valid_from == 2
    assert best.n_unknowns == 2 and best.n_checked >= 5
    assert best.extend(20) == truth[20:]
    assert closed_form_matches(best.closed_form, truth[:30])
    assert best.closed_form.has(sp.sqrt(5))  # Binet, not a table
    assert sp.simplify(best.generating_function - x / (1 - x - x ** 2)) == 0


def test_catalan_binomial_closed_form_and_algebraic_gf():
    truth = catalan(35)
    g = guess(truth[:20])
    assert g, g.reason
    best = g[0]
    assert sp.simplify(best.closed_form - sp.binomial(2 * n, n) / (n + 1)) == 0
    assert recurrence_holds(best.recurrence, truth, 0, best.valid_from)
    assert best.extend(15) == truth[20:]
    lhs = best.gf_equation.lhs
    target = x * G(x) ** 2 - G(x) + 1
    assert sp.simplify(lhs - target) == 0 or sp.simplify(lhs + target) == 0
    assert series_matches(best.generating_function, truth[:12])


def test_motzkin_recurrence_and_algebraic_gf():
    truth = motzkin(35)
    g = guess(truth[:20])
    assert g, g.reason
    best = g[0]
    assert best.recurrence is not None
    assert recurrence_holds(best.recurrence, truth, 0, best.valid_from)
    assert best.gf_equation is not None
    assert series_matches(best.generating_function, truth[:12])
    assert best.extend(15) == truth[20:]


def test_central_binomial_closed_form_and_gf():
    truth = [math.comb(2 * k, k) for k in range(30)]
    g = guess(truth[:20])
    best = g[0]
    assert sp.simplify(best.closed_form - sp.binomial(2 * n, n)) == 0
    assert sp.simplify(best.generating_function - 1 / sp.sqrt(1 - 4 * x)) == 0
    assert best.extend(10) == truth[20:]


def test_apery_recurrence_from_20_terms():
    truth = apery(32)
    g = guess(truth[:20])
    assert g, g.reason
    best = g[0]
    assert best.n_unknowns == 11 and best.n_checked >= 5
    expected = (n ** 3 * a(n) - (34 * n ** 3 - 51 * n ** 2 + 27 * n - 5) * a(n - 1)
                + (n - 1) ** 3 * a(n - 2))
    found = best.recurrence.lhs - best.recurrence.rhs
    assert sp.simplify(found - expected) == 0
    assert best.extend(12) == truth[20:]


def test_derangements_and_factorial():
    truth = derangements(30)
    g = guess(truth[:20])
    assert recurrence_holds(g[0].recurrence, truth, 0, g[0].valid_from)
    assert g[0].extend(10) == truth[20:]
    facts = [math.factorial(k) for k in range(30)]
    g = guess(facts[:20])
    assert g[0].recurrence == sp.Eq(a(n), n * a(n - 1))
    assert g[0].closed_form == sp.factorial(n)
    assert g[0].extend(10) == facts[20:]


def test_polynomial_and_power_closed_forms():
    tri = [k * (k + 1) // 2 for k in range(25)]
    g = guess(tri[:15])
    assert sp.expand(g[0].closed_form - n * (n + 1) / 2) == 0
    assert g[0].extend(10) == tri[15:]
    alt = [(-3) ** k for k in range(12)]
    assert guess(alt)[0].closed_form == (-3) ** n


def test_offset_shifts_the_formulas():
    facts = [math.factorial(k) for k in range(1, 13)]  # a(1) = 1!, ...
    g = guess(facts, offset=1)
    assert g[0].closed_form == sp.factorial(n)
    assert g[0].valid_from == 2
    assert recurrence_holds(g[0].recurrence, facts, 1, 2)
    squares = [k * k for k in range(1, 16)]
    g = guess(squares, offset=1)
    assert g[0].closed_form == n ** 2
    assert series_matches(g[0].generating_function, [0] + squares[:10])


def algebraic_terms(count: int) -> list[int]:
    """Series root of (1 + x^2) y^2 - (1 + x + 2x^2) y + x = 0 with y(0) = 1, term by term
    (the coefficient of x^m of the left side is a_m plus terms already known)."""
    def mul(p, q, m):
        return sum(p[i] * q[m - i] for i in range(m + 1) if i < len(p) and m - i < len(q))

    y = [1]
    for m in range(1, count):
        y.append(0)
        y2 = [mul(y, y, k) for k in range(m + 1)]
        y[m] = -(mul([1, 0, 1], y2, m) - mul([1, 1, 2], y, m) + (1 if m == 1 else 0))
    return y


def test_algebraic_only_gets_a_derived_recurrence():
    # 20 terms check the equation (8 unknowns) but not its order-6 recurrence (13 unknowns)
    truth = algebraic_terms(45)
    g = guess(truth[:20])
    assert g, g.reason
    best = g[0]
    assert best.kind == "algebraic generating function"
    assert best.recurrence_derived
    assert recurrence_holds(best.recurrence, truth, 0, best.valid_from)
    assert series_matches(best.generating_function, truth[:10])
    assert best.extend(25) == truth[20:]


def test_zero_sequence():
    g = guess([0] * 10)
    assert g[0].closed_form == 0 and g[0].extend(3) == [0, 0, 0]


# --- no false claims ----------------------------------------------------------------------


@pytest.mark.parametrize("make", [bell, partitions, primes])
def test_no_rule_claimed_for_sequences_without_one(make):
    g = guess(make(20))
    assert len(g) == 0
    assert g.reason.startswith("no rule found")


def test_a_rule_broken_at_the_last_term_is_not_claimed():
    f = fibonacci(20)
    f[-1] += 1
    assert len(guess(f)) == 0


def test_random_integers_give_nothing():
    rng = random.Random(0)
    assert len(guess([rng.randint(-1000, 1000) for _ in range(30)])) == 0


def test_too_few_terms_says_so():
    with pytest.raises(ValueError, match="at least 8"):
        guess([1, 1, 2, 3, 5, 8, 13])
    g = guess(fibonacci(8))  # enough to try small rules, not an order-2 recurrence
    assert len(g) == 0
    assert "order 2 with constant coefficients 9" in g.reason


def test_time_limit_is_honoured():
    g = guess(apery(20), time_limit=1e-9)
    assert g.timed_out and "time limit" in g.reason


# --- bad input ----------------------------------------------------------------------------


@pytest.mark.parametrize("bad, error, words", [
    ([1, 2, 3.5, 4, 5, 6, 7, 8, 9], ValueError, "not an integer"),
    ([1, 2, "3", 4, 5, 6, 7, 8, 9], TypeError, "text"),
    ([1, 2, True, 4, 5, 6, 7, 8, 9], TypeError, "bool"),
    ([1, 2, None, 4, 5, 6, 7, 8, 9], TypeError, "NoneType"),
    ([1, 2, float("nan"), 4, 5, 6, 7, 8, 9], ValueError, "not an integer"),
    ([1, 2, Fraction(1, 3), 4, 5, 6, 7, 8, 9], ValueError, "not an integer"),
    ("1 2 3 4 5 6 7 8", TypeError, "parse_terms"),
    (12345, TypeError, "list of integers"),
    (list(range(1001)), ValueError, "plenty"),
    ([10 ** 5000] + list(range(9)), ValueError, "digits"),
])
def test_bad_terms_are_refused_with_advice(bad, error, words):
    with pytest.raises(error, match=words):
        guess(bad)


def test_bad_options_are_refused():
    terms = fibonacci(12)
    with pytest.raises(TypeError, match="offset"):
        guess(terms, offset=1.5)
    with pytest.raises(ValueError, match="time_limit"):
        guess(terms, time_limit=-1)
    with pytest.raises(ValueError, match="min_checks"):
        guess(terms, min_checks=0)
    with pytest.raises(ValueError, match="extend"):
        guess(terms)[0].extend(-1)


def test_integral_floats_and_numpy_ints_are_accepted():
    np = pytest.importorskip("numpy")
    g = guess(np.array(fibonacci(15), dtype=np.int64))
    assert g[0].extend(2) == fibonacci(17)[15:]
    g = guess([float(v) for v in fibonacci(15)])
    assert g[0].extend(1) == [fibonacci(16)[15]]


def test_extend_is_exact():
    truth = apery(60)
    g = guess(truth[:20])
    more = g[0].extend(40)
    assert more == truth[20:]
    assert all(type(v) is int for v in more)
    assert g[0].extend(0) == []


def test_parse_terms():
    assert parse_terms("1, 1,2;3  5") == [1, 1, 2, 3, 5]
    assert parse_terms(["1,2", "-3"]) == [1, 2, -3]
    with pytest.raises(ValueError, match="not an integer"):
        parse_terms("1 2 3e4")


def test_str_and_latex_are_readable():
    g = guess(catalan(20))
    text = str(g[0])
    assert "binomial(2*n, n)/(n + 1)" in text and "for n >= 1" in text
    assert r"\binom{2 n}{n}" in g[0].latex()


# --- the exact linear algebra -------------------------------------------------------------


def test_echelon_null_vector_and_rank_mod_p():
    ech = Echelon(3)
    assert ech.add([1, 2, 3]) and ech.add([2, 4, 7]) and not ech.add([3, 6, 10])
    v = ech.null_vector()
    assert v[0] * 1 + v[1] * 2 + v[2] * 3 == 0 and v[0] * 2 + v[1] * 4 + v[2] * 7 == 0
    assert any(v)
    assert rank_mod_p([[1, 2, 3], [2, 4, 7], [3, 6, 10]], 3) == 2
    assert rank_mod_p([[1, 0, 0], [0, 1, 0], [0, 0, 1]], 3) == 3
