"""Symmetries and separability found in data through a surrogate; parts split off and put back.

The data are a law evaluated at random rows only (500 of them, uniform in a box), with no noise
or with Gaussian noise of 1% of the RMS of ``y``; the tests ask the surrogate elsewhere. Each
law's cases run in well under a second.

Calibration of the default tolerance (1.1 on the trimmed RMS of the normalized violations), from
a sweep of 24 laws (these and more: 2 to 5 variables, products, sums, ratios, Gaussians) x 8
seeds x noise 0 / 1%: every true structure measured at most 0.78, every false one with a
surrogate good enough to judge 1.46 or more with 300 rows and 1.7 with 500 (x0*x1 + x0 + x1
read as a product at 1% noise is among the closest); see the module's docstring.
"""

from __future__ import annotations

import dataclasses
from functools import cache

import numpy as np
import pytest
import sympy as sp

from eurisko.physics import (
    Decomposition,
    Evidence,
    Surrogate,
    additive_separability,
    callable_surrogate,
    find_decomposition,
    fit_surrogate,
    multiplicative_separability,
    recombine,
    scaling_symmetry,
    split_data,
    structure_tests,
    translation_symmetry,
)
from eurisko.physics.separability import TOLERANCE

N_ROWS = 500
SYMBOLS = sp.symbols("x0:5", real=True)


def law(text: str) -> sp.Expr:
    return sp.sympify(text, locals={s.name: s for s in SYMBOLS})


@cache
def data(text: str, d: int, lo: float, hi: float, noise: float, seed: int = 0
         ) -> tuple[np.ndarray, np.ndarray]:
    """The law at N_ROWS random rows; y only there (the surrogate answers elsewhere)."""
    rng = np.random.default_rng(seed)
    X = rng.uniform(lo, hi, (N_ROWS, d))
    y = sp.lambdify(SYMBOLS[:d], law(text), "numpy")(*X.T) * np.ones(N_ROWS)
    y = y + noise * np.sqrt(np.mean(y ** 2)) * rng.standard_normal(N_ROWS)
    X.flags.writeable = y.flags.writeable = False
    return X, y


@cache
def surrogate(text: str, d: int, lo: float, hi: float, noise: float) -> Surrogate:
    return fit_surrogate(*data(text, d, lo, hi, noise))


# law, variables, range, the structures find_decomposition may return (kind, parts)
SEPARABLE = [
    ("x0**2 + sin(x1)", 2, (1, 5), {("additive", ((0,), (1,)))}),
    ("x0*exp(x1)", 2, (1, 5), {("multiplicative", ((0,), (1,)))}),
    ("x0*sin(x1)", 2, (-3, 3), {("multiplicative", ((0,), (1,)))}),
    # x0*x1 + x0 = x0*(x1 + 1): a product, though it reads like a sum with an interaction
    ("x0*x1 + x0", 2, (1, 5), {("multiplicative", ((0,), (1,)))}),
    # Feynman I.18.4's numerator: a sum of two products
    ("x0*x1 + x2*x3", 4, (1, 5), {("additive", ((0, 1), (2, 3)))}),
    # a symmetry leaves one problem of 2 variables, cheaper than the split {x0} + {x1, x2}
    ("(x1 - x2)**2 + x0", 3, (1, 5), {("translation", ((1, 2),))}),
    ("x0/x1*x2", 3, (1, 5), {("scaling", ((0, 1),)), ("scaling", ((1, 2),))}),
]
NON_SEPARABLE = [
    ("x0*x1 + x0 + x1", 2, (1, 5)),   # (x0 + 1)(x1 + 1) - 1: the -1 spoils the product
    ("sin(x0*x1)", 2, (1, 3)),
    ("(x0 + x1)/(1 + x0*x1)", 2, (0, 1)),
    ("sqrt(x0**2 + x1**2)", 2, (1, 5)),
]
NOISE = [0.0, 0.01]


@pytest.mark.parametrize("noise", NOISE)
@pytest.mark.parametrize("text, d, box, expected", SEPARABLE, ids=[c[0] for c in SEPARABLE])
def test_separable_laws_are_split_the_right_way(text, d, box, expected, noise):
    X, y = data(text, d, *box, noise)
    dec = find_decomposition(X, y, surrogate=surrogate(text, d, *box, noise))
    assert dec is not None, f"{text} at noise {noise}: no split found"
    assert (dec.kind, dec.parts) in expected
    ev = dec.evidence
    assert ev.accepted and ev.violation <= ev.threshold == TOLERANCE and ev.n_samples > 300


@pytest.mark.parametrize("noise", NOISE)
@pytest.mark.parametrize("text, d, box", NON_SEPARABLE, ids=[c[0] for c in NON_SEPARABLE])
def test_non_separable_laws_are_never_split(text, d, box, noise):
    X, y = data(text, d, *box, noise)
    s = surrogate(text, d, *box, noise)
    evidence = structure_tests(s, X)
    assert len(evidence) == 4   # translation, scaling, additive, multiplicative for (0, 1)
    wrong = [ev for ev in evidence if ev.accepted]
    assert not wrong, wrong
    assert all(ev.violation > 1.5 * ev.threshold for ev in evidence)
    assert find_decomposition(X, y, surrogate=s) is None


def test_the_tests_ask_the_surrogate_between_the_rows():
    """Data exist only at the rows; half the points a separability test needs are elsewhere."""
    X, y = data("x0**2 + sin(x1)", 2, 1, 5, 0.0)
    s = surrogate("x0**2 + sin(x1)", 2, 1, 5, 0.0)
    asked: list[np.ndarray] = []

    def spy(Q: np.ndarray) -> np.ndarray:
        asked.append(Q.copy())
        return s.function(Q)

    ev = additive_separability(dataclasses.replace(s, function=spy), X, [0], [1])
    Q = np.concatenate(asked)
    rows = {tuple(r) for r in X}
    off = sum(tuple(q) not in rows for q in Q)
    assert ev.accepted and off >= 0.45 * len(Q) and len(Q) >= 4 * ev.n_samples
    # the same question about a product is answered no, from the same kind of points
    X2, y2 = data("x0*exp(x1)", 2, 1, 5, 0.0)
    no = additive_separability(surrogate("x0*exp(x1)", 2, 1, 5, 0.0), X2, [0], [1])
    assert not no.accepted and "violation" in no.reason


def test_each_test_alone_and_its_evidence():
    X, _ = data("(x1 - x2)**2 + x0", 3, 1, 5, 0.0)
    s = surrogate("(x1 - x2)**2 + x0", 3, 1, 5, 0.0)
    yes = translation_symmetry(s, X, 1, 2)
    no = translation_symmetry(s, X, 0, 1)
    assert isinstance(yes, Evidence) and yes.kind == "translation" and yes.parts == ((1, 2),)
    assert yes.accepted and not no.accepted and no.violation > 100 * yes.violation
    assert yes.surrogate_error == pytest.approx(s.query_error) or s.query_error < 1e-6
    assert not scaling_symmetry(s, X, 1, 2).accepted
    assert additive_separability(s, X, [0], [1, 2]).accepted
    assert not multiplicative_separability(s, X, [0], [1, 2]).accepted
    Xs, _ = data("x0/x1*x2", 3, 1, 5, 0.01)
    ss = surrogate("x0/x1*x2", 3, 1, 5, 0.01)
    assert scaling_symmetry(ss, Xs, 0, 1).accepted and not scaling_symmetry(ss, Xs, 0, 2).accepted
    assert multiplicative_separability(ss, Xs, [2], [0, 1]).accepted


def test_pure_noise_is_too_rough_to_judge():
    rng = np.random.default_rng(1)
    X = rng.uniform(1, 5, (300, 2))
    s = fit_surrogate(X, rng.standard_normal(300))
    evidence = structure_tests(s, X)
    assert s.relative_error > 0.5
    assert all(not ev.accepted and "too rough" in ev.reason for ev in evidence)


def test_a_callers_function_can_serve_as_the_surrogate():
    X, y = data("x0**2 + sin(x1)", 2, 1, 5, 0.0)
    exact = callable_surrogate(lambda Q: Q[:, 0] ** 2 + np.sin(Q[:, 1]), X, y)
    assert exact.error < 1e-12
    assert additive_separability(exact, X, [0], [1]).accepted
    assert not multiplicative_separability(exact, X, [0], [1]).accepted
    X2, y2 = data("x0*x1 + x0 + x1", 2, 1, 5, 0.0)
    wrong = callable_surrogate(lambda Q: Q[:, 0] * Q[:, 1] + Q[:, 0] + Q[:, 1], X2, y2)
    assert find_decomposition(X2, y2, surrogate=wrong) is None


def test_the_surrogate_interpolates_and_knows_its_error():
    X, y = data("x0*x1 + x2*x3", 4, 1, 5, 0.01)
    s = surrogate("x0*x1 + x2*x3", 4, 1, 5, 0.01)
    noise = 0.01 * np.sqrt(np.mean(y ** 2))
    Q = np.random.default_rng(7).uniform(1.5, 4.5, (400, 4))
    off_rows = np.sqrt(np.mean((s(Q) - (Q[:, 0] * Q[:, 1] + Q[:, 2] * Q[:, 3])) ** 2))
    assert 0.7 * noise < s.error < 1.5 * noise          # held-out error: about the noise
    assert off_rows < 0.5 * noise                        # smoothing averages the noise away
    assert off_rows / 3 < s.query_error < 3 * off_rows   # and the bootstrap says by how much
    big = np.random.default_rng(2).uniform(1, 5, (1500, 2))
    small = fit_surrogate(big, big[:, 0] + big[:, 1] ** 2, max_rows=300)
    assert small.X.shape == (300, 2) and "300 rows" in small.description


def _symbols_of(d: int) -> list[sp.Symbol]:
    return list(SYMBOLS[:d])


def true_parts(expr: sp.Expr, dec: Decomposition) -> list[sp.Expr]:
    """The parts of the law as `split_data` defines them, in each part's own x0, x1, ..."""
    x = _symbols_of(dec.n_variables)
    local = sp.symbols("x0:5")
    if dec.kind in ("translation", "scaling"):
        (i, j), = dec.parts
        u = sp.Symbol("u", positive=True)
        F = sp.simplify(expr.subs(x[i], u + x[j] if dec.kind == "translation" else u * x[j]))
        assert x[j] not in F.free_symbols
        cols = [c for c in range(dec.n_variables) if c != j]
        return [F.xreplace({(u if c == i else x[c]): local[k] for k, c in enumerate(cols)})]
    out = []
    for side, other in ((dec.parts[0], dec.parts[1]), (dec.parts[1], dec.parts[0])):
        part = expr.subs({x[c]: float(dec.reference[c]) for c in other})
        out.append(part.xreplace({x[c]: local[k] for k, c in enumerate(side)}))
    return out


@pytest.mark.parametrize("text, d, box, expected", SEPARABLE, ids=[c[0] for c in SEPARABLE])
def test_the_true_parts_recombine_into_the_law(text, d, box, expected):
    X, y = data(text, d, *box, 0.0)
    dec = find_decomposition(X, y, surrogate=surrogate(text, d, *box, 0.0))
    expr = law(text)
    if dec.f0 is not None:   # f0 from the surrogate; the law's own value makes it exact
        at = dict(zip(_symbols_of(d), map(float, dec.reference), strict=True))
        f0 = float(expr.subs(at))
        assert dec.f0 == pytest.approx(f0, rel=1e-3)
        dec = dataclasses.replace(dec, f0=f0)
    whole = recombine(dec, true_parts(expr, dec))
    difference = sp.nsimplify(sp.expand(whole - expr), tolerance=1e-9, rational=True)
    assert sp.simplify(difference) == 0, whole


@pytest.mark.parametrize("text, d, box, expected", SEPARABLE, ids=[c[0] for c in SEPARABLE])
def test_the_parts_data_put_back_together_give_y(text, d, box, expected):
    X, y = data(text, d, *box, 0.0)
    dec = find_decomposition(X, y, surrogate=surrogate(text, d, *box, 0.0))
    parts = split_data(dec, X, y)
    if dec.kind in ("translation", "scaling"):
        (i, j), = dec.parts
        (part,) = parts
        merged = X[:, i] - X[:, j] if dec.kind == "translation" else X[:, i] / X[:, j]
        k = [c for c in range(d) if c != j].index(i)
        assert part.X.shape == (N_ROWS, d - 1) and np.array_equal(part.X[:, k], merged)
        assert np.array_equal(part.y, y)   # measured y, no surrogate in between
        assert part.variables[k] == f"x{i} {'-' if dec.kind == 'translation' else '/'} x{j}"
        return
    g, h = parts
    assert g.X.shape == (N_ROWS, len(dec.parts[0])) and h.variables == tuple(
        f"x{c}" for c in dec.parts[1])
    back = g.y + h.y - dec.f0 if dec.kind == "additive" else g.y * h.y / dec.f0
    assert np.sqrt(np.mean((back - y) ** 2)) < 1e-3 * np.std(y)


def test_recombine_with_names_and_a_translation():
    dec = Decomposition("translation", ((1, 2),), 3, None)
    x0, x1 = sp.symbols("x0 x1")
    whole = recombine(dec, [x0 + x1 ** 2], names=["m", "a", "b"])
    m, a, b = sp.symbols("m a b", real=True)
    assert whole == m + (a - b) ** 2
    mult = Decomposition("multiplicative", ((0,), (1,)), 2, None, np.array([1.0, 2.0]), 4.0)
    X0, X1 = sp.symbols("x0 x1", real=True)
    assert recombine(mult, [2 * x0, x0 ** 2]) == 0.5 * X0 * X1 ** 2   # g h / f0, f0 = 4


def test_bad_input_is_refused_with_advice():
    X, y = data("x0**2 + sin(x1)", 2, 1, 5, 0.0)
    s = surrogate("x0**2 + sin(x1)", 2, 1, 5, 0.0)
    with pytest.raises(ValueError, match="share columns"):
        additive_separability(s, X, [0, 1], [1])
    X3, _ = data("(x1 - x2)**2 + x0", 3, 1, 5, 0.0)
    with pytest.raises(ValueError, match="leave out columns \\[2\\]"):
        additive_separability(surrogate("(x1 - x2)**2 + x0", 3, 1, 5, 0.0), X3, [0], [1])
    with pytest.raises(ValueError, match="X has 3 columns but the surrogate was built on 2"):
        additive_separability(s, X3, [0], [1, 2])
    with pytest.raises(ValueError, match="two different columns"):
        translation_symmetry(s, X, 1, 1)
    with pytest.raises(ValueError, match="tolerance must be a positive number"):
        additive_separability(s, X, [0], [1], tolerance=0)
    with pytest.raises(TypeError, match="surrogate must be an instance of Surrogate"):
        additive_separability(lambda Q: Q[:, 0], X, [0], [1])
    with pytest.raises(ValueError, match="kinds must be"):
        structure_tests(s, X, kinds=["rotation"])
    with pytest.raises(ValueError, match="pairs\\[0\\] must be a pair"):
        structure_tests(s, X, pairs=[(0, 1, 2)])
    with pytest.raises(ValueError, match="y must be a vector of 500 values"):
        find_decomposition(X, y[:10])
    with pytest.raises(ValueError, match="NaN"):
        fit_surrogate(np.where(X > 4.9, np.nan, X), y)
    with pytest.raises(ValueError, match="too few for a surrogate"):
        fit_surrogate(X[:8], y[:8])
    dec = find_decomposition(X, y, surrogate=s)
    with pytest.raises(ValueError, match="2 part\\(s\\); got 1 formulas"):
        recombine(dec, [sp.Symbol("x0")])
    with pytest.raises(TypeError, match="SymPy expression"):
        recombine(dec, ["x0", "x0"])
    with pytest.raises(ValueError, match="X has 3 columns"):
        split_data(dec, np.hstack([X, X[:, :1]]), y)
