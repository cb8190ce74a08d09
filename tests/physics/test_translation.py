"""`eurisko.physics.translation`: the table after a translation symmetry, and the way back."""

from __future__ import annotations

import numpy as np
import sympy as sp

from eurisko.evaluate.reference import eval_program
from eurisko.expr.parser import parse
from eurisko.physics import Translated, candidate_pairs, parse_unit, translate


def test_pairs_with_units_share_a_unit_and_without_are_capped():
    rng = np.random.default_rng(0)
    X = np.column_stack([rng.uniform(1, 2, 50), rng.uniform(0, 100, 50), rng.uniform(3, 4, 50),
                         np.full(50, 7.0)])
    m, s = parse_unit("m"), parse_unit("s")
    assert candidate_pairs(X, [m, s, m, m]) == [(0, 2)]  # the constant column is left out
    # without units: the most similar spreads first, then column order, at most max_pairs
    pairs = candidate_pairs(X)
    assert pairs[0] == (0, 2) and sorted(pairs) == [(0, 1), (0, 2), (1, 2)]
    assert candidate_pairs(X, max_pairs=1) == [(0, 2)]


def test_translations_compose_and_formulas_come_back_in_the_users_variables():
    rng = np.random.default_rng(1)
    X = rng.uniform(1, 5, (20, 5))
    names = ["x1", "x2", "y1", "y2", "m"]
    t = translate(Translated.identity(X, names), [(0, 1), (2, 3), (1, 2)])  # (1, 2) overlaps
    assert t.names == ("x2_x1", "y2_y1", "m")
    np.testing.assert_array_equal(t.X[:, 0], X[:, 1] - X[:, 0])
    t2 = translate(t, [(0, 1)])
    assert t2.names == ("y2_y1_x2_x1", "m")
    x1, x2, y1, y2 = sp.symbols("x1 x2 y1 y2", real=True)
    assert sp.expand(t2.expressions[0] - ((y2 - y1) - (x2 - x1))) == 0
    back = t2.write_back(parse("m*y2_y1_x2_x1^2", list(t2.names)))
    want = X[:, 4] * ((X[:, 3] - X[:, 2]) - (X[:, 1] - X[:, 0])) ** 2
    np.testing.assert_allclose(eval_program(back, X.T), want, rtol=1e-12)
    assert t2.differences == ["y2_y1_x2_x1 = x1 - x2 - y1 + y2"]
